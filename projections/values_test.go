package projections_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/projections"
)

func TestUUIDValuesRoundTrip(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	a, b := uuid.New(), uuid.New()
	var gotA, gotNull *uuid.UUID
	var gotAll []uuid.UUID
	err := pool.QueryRow(ctx, `SELECT $1::uuid, $2::uuid, $3::uuid[]`,
		projections.UUID(a), projections.NullUUID(uuid.Nil), projections.UUIDs([]uuid.UUID{a, b})).Scan(&gotA, &gotNull, &gotAll)
	if err != nil {
		t.Fatal(err)
	}
	if gotA == nil || *gotA != a || gotNull != nil || len(gotAll) != 2 || gotAll[0] != a || gotAll[1] != b {
		t.Fatalf("got %v, %v, %v; want %v, NULL, [%v %v]", gotA, gotNull, gotAll, a, a, b)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE t (id uuid PRIMARY KEY, other uuid)`); err != nil {
		t.Fatal(err)
	}
	var copied int64
	if copied, err = pool.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id", "other"},
		pgx.CopyFromRows([][]any{{projections.UUID(a), projections.NullUUID(b)}, {projections.UUID(b), projections.NullUUID(uuid.Nil)}})); err != nil || copied != 2 {
		t.Fatalf("COPY: %d rows, %v", copied, err)
	}
	var nulls int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM t WHERE other IS NULL AND id = $1`, projections.UUID(b)).Scan(&nulls); err != nil || nulls != 1 {
		t.Fatalf("COPY wrote %d NULL rows for %v (%v)", nulls, b, err)
	}
}
