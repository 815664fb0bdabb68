package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Health reports whether every projection applies the whole log: ok is false, and reason says
// why, when a projection of the database has parked events (one clause per projection, such as
// "projection request_list has 2 parked events, first at 12-345: request list: decode
// request.submitted.v1 at 12-345: …", joined with "; "). A parked event leaves a read model
// without what it carried until `helpstream projections retry` applies it, which a health
// check should say. err is set, and ok false, when the database cannot be asked.
//
// It reads table projection_parked only: one indexed query, cheap enough for every /healthz.
func Health(ctx context.Context, pool *pgxpool.Pool) (ok bool, reason string, err error) {
	if pool == nil {
		return false, "", errors.New("projection health: nil pool")
	}
	parked, err := readParkedSummaries(ctx, pool, nil)
	if err != nil {
		return false, "", fmt.Errorf("projection health: %w", err)
	}
	if len(parked) == 0 {
		return true, "", nil
	}
	names := make([]string, 0, len(parked))
	for name := range parked {
		names = append(names, name)
	}
	slices.Sort(names)
	clauses := make([]string, len(names))
	for i, name := range names {
		p := parked[name]
		noun := "events"
		if p.count == 1 {
			noun = "event"
		}
		clauses[i] = fmt.Sprintf("projection %s has %d parked %s, first at %s: %s", name, p.count, noun, p.first.Position, p.first.Error)
	}
	return false, strings.Join(clauses, "; "), nil
}
