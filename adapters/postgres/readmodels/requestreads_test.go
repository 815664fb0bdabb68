package readmodels_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/postgres/readmodels"
)

// The reads table (migration 014) keeps each technician's latest read of each request: an
// earlier mark arriving late never moves it back, and one technician's reads are not another's.
func TestRequestReadsKeepTheLatestReadPerTechnician(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewDatabase(t)
	reads := readmodels.NewRequestReads(pool)
	ctx := context.Background()
	alice, bob, r1, r2 := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	for _, m := range []struct {
		tech, req uuid.UUID
		at        time.Time
	}{{alice, r1, t0.Add(time.Minute)}, {alice, r1, t0}, {alice, r2, t0}, {bob, r1, t0.Add(time.Hour)}} {
		if err := reads.MarkRead(ctx, m.tech, m.req, m.at); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		tech uuid.UUID
		reqs []uuid.UUID
		want map[uuid.UUID]time.Time
	}{
		{"the later mark stays", alice, []uuid.UUID{r1, r2}, map[uuid.UUID]time.Time{r1: t0.Add(time.Minute), r2: t0}},
		{"only the requests asked for", alice, []uuid.UUID{r2}, map[uuid.UUID]time.Time{r2: t0}},
		{"another technician's reads", bob, []uuid.UUID{r1, r2}, map[uuid.UUID]time.Time{r1: t0.Add(time.Hour)}},
		{"never opened", uuid.New(), []uuid.UUID{r1}, map[uuid.UUID]time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reads.ReadTimes(ctx, tt.tech, tt.reqs)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for id, at := range tt.want {
				if !got[id].Equal(at) {
					t.Fatalf("%s: got %v, want %v", id, got[id], at)
				}
			}
		})
	}
}
