package projections_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/projections"
)

func TestTransient(t *testing.T) {
	pg := func(code string) error {
		return fmt.Errorf("request list: copy rows: %w", &pgconn.PgError{Code: code, Message: "message of " + code})
	}
	cases := []struct {
		name      string
		err       error
		transient bool
	}{
		{"nil", nil, false},
		{"decode error", errors.New("request list: decode request.submitted.v1: json: cannot unmarshal number"), false},
		{"event error", &projections.EventError{ID: uuid.New(), Err: errors.New("does not decode")}, false},
		{"NUL in text (22021)", pg("22021"), false},
		{"untranslatable character (22P05)", pg("22P05"), false},
		{"timestamp out of range (22008)", pg("22008"), false},
		{"check violation (23514)", pg("23514"), false},
		{"unique violation (23505)", pg("23505"), false},
		{"index row too large (54000)", pg("54000"), false},
		{"in a failed transaction (25P02)", pg("25P02"), false},
		{"serialization failure (40001)", pg("40001"), true},
		{"deadlock (40P01)", pg("40P01"), true},
		{"connection failure (08006)", pg("08006"), true},
		{"terminated by an administrator (57P01)", pg("57P01"), true},
		{"statement timeout (57014)", pg("57014"), true},
		{"lock not available (55P03)", pg("55P03"), true},
		{"too many connections (53300)", pg("53300"), true},
		{"disk full (53100)", pg("53100"), true},
		{"I/O error (58030)", pg("58030"), true},
		{"internal error (XX000)", pg("XX000"), true},
		{"missing table (42P01)", pg("42P01"), true},
		{"syntax error (42601)", pg("42601"), true},
		{"context cancelled", fmt.Errorf("apply: %w", context.Canceled), true},
		{"deadline", fmt.Errorf("apply: %w", context.DeadlineExceeded), true},
		{"connection closed", fmt.Errorf("apply: %w", net.ErrClosed), true},
		{"unexpected EOF", fmt.Errorf("apply: %w", io.ErrUnexpectedEOF), true},
		{"connection reset", fmt.Errorf("apply: %w", &net.OpError{Op: "read", Err: syscall.ECONNRESET}), true},
		{"connect error", &pgconn.ConnectError{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := projections.Transient(c.err); got != c.transient {
				t.Fatalf("Transient(%v) = %v, want %v", c.err, got, c.transient)
			}
		})
	}
}

// Several events that fail, among many in one catch-up page, with later events of their
// streams in the same page and in later ones: the runner parks exactly those and applies the
// rest, the savepoints undo what a failed part wrote, and a retry after the fix leaves the rows
// equal to a fold of the whole log.
func TestParkingInCatchUp(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pick := &picky{counts: newCounts("picky")}
	var last eventlog.Position
	poisoned := map[string]bool{}
	wantParked := map[uuid.UUID]bool{}
	for i := range 600 {
		stream := fmt.Sprintf("s-%d", i%40)
		data := `{}`
		if i%97 == 13 {
			data = `{"note":"PICKY"}`
		}
		id := uuid.New()
		res, err := e.store.Append(ctx, stream, eventlog.Any(), eventlog.EventData{ID: id, Type: "test.happened.v1",
			Data: []byte(data), Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()}})
		if err != nil {
			t.Fatal(err)
		}
		last = maxPos(last, res.Position)
		if data != `{}` {
			poisoned[stream] = true
		}
		if poisoned[stream] {
			wantParked[id] = true
		}
	}
	eventually(t, 10*time.Second, "the log readable to its end", func() bool { return e.lastPosition() == last })
	r := e.startCaughtUp(last, 20*time.Second, pick)
	parked, err := projections.Parked(ctx, e.pool, pick.name)
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != len(wantParked) {
		t.Errorf("%d events parked, want %d", len(parked), len(wantParked))
	}
	for _, pe := range parked {
		if !wantParked[pe.EventID] {
			t.Errorf("parked %s of %s, which should have applied: %s", pe.EventID, pe.StreamID, pe.Error)
		}
	}
	var applied, rows int64
	if err := e.pool.QueryRow(ctx, `SELECT (SELECT events_applied FROM projection_checkpoints WHERE name = 'picky'),
		(SELECT count(*) FROM picky_applied)`).Scan(&applied, &rows); err != nil {
		t.Fatal(err)
	}
	if applied != int64(600-len(wantParked)) || rows != applied {
		t.Errorf("after parking %d of 600 events: checkpoint counts %d applied, the table holds %d", len(wantParked), applied, rows)
	}

	pick.fixed.Store(true)
	res, err := projections.Retry(ctx, e.pool, e.store, pick)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != len(wantParked) || len(res.Failed) != 0 || len(res.Waiting) != 0 {
		t.Fatalf("retry after the fix: %d applied, %d failed, %d waiting; want %d applied", len(res.Applied), len(res.Failed), len(res.Waiting), len(wantParked))
	}
	for i := 1; i < len(res.Applied); i++ {
		if res.Applied[i-1].Position.Compare(res.Applied[i].Position) >= 0 {
			t.Fatal("the applied events are not reported in log order")
		}
	}
	e.checkFold(pick.counts)
	if got := r.Leading(); len(got) != 1 {
		t.Fatalf("the runner leads %v after the retry", got)
	}
	// A retry with nothing parked does nothing.
	res, err = projections.Retry(ctx, e.pool, e.store, pick)
	if err != nil || len(res.Applied)+len(res.Failed)+len(res.Waiting) != 0 {
		t.Fatalf("a second retry: %+v, %v", res, err)
	}
}

// A runner that creates a projection's tables from the start forgets what was parked before:
// the log is applied again and parks anew.
func TestTablesRecreatedForgetParked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pick := &picky{counts: newCounts("picky")}
	if _, err := e.store.Append(ctx, "s-1", eventlog.Any(), eventlog.EventData{ID: uuid.New(), Type: "test.happened.v1",
		Data: []byte(`"PICKY"`), Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()}}); err != nil {
		t.Fatal(err)
	}
	last := e.appendN(20, 3)
	r := e.startCaughtUp(last, 10*time.Second, pick)
	r.stop(t)
	if ok, _, err := projections.Health(ctx, e.pool); ok || err != nil {
		t.Fatalf("Health with a parked event = %v, %v", ok, err)
	}
	if _, err := e.pool.Exec(ctx, `DROP TABLE picky_applied`); err != nil {
		t.Fatal(err)
	}
	pick.fixed.Store(true)
	e.start(e.config(pick))
	eventually(t, 10*time.Second, "tables recreated and nothing parked", func() bool {
		ok, _, err := projections.Health(ctx, e.pool)
		return err == nil && ok
	})
	e.foldedUpTo(last, 10*time.Second, pick.counts)
}
