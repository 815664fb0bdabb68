package web

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
)

// availabilityFresh is how old a technician's status may be when a new request's notification
// is filtered by it: about as stale as the sessions the auth cache trusts (--auth-cache).
const availabilityFresh = time.Second

// availability answers whether a technician is Available now, for every open event stream of
// the server at once: a submission reaches a thousand consoles, and each asking the read model
// would be a thousand queries; shared, a technician costs one query a second at most, however
// many tabs and browsers they have open.
type availability struct {
	queries *app.Queries
	group   singleflight.Group

	mu   sync.Mutex
	seen map[uuid.UUID]availabilitySeen
}

type availabilitySeen struct {
	available bool
	at        time.Time
}

func newAvailability(queries *app.Queries) *availability {
	return &availability{queries: queries, seen: map[uuid.UUID]availabilitySeen{}}
}

// available reports whether the technician's status is Available, read at most
// availabilityFresh ago. A failed read keeps the last answer (false when there is none).
func (a *availability) available(ctx context.Context, technicianID uuid.UUID) bool {
	a.mu.Lock()
	s, ok := a.seen[technicianID]
	a.mu.Unlock()
	if ok && time.Since(s.at) < availabilityFresh {
		return s.available
	}
	v, _, _ := a.group.Do(technicianID.String(), func() (any, error) {
		// The read serves every stream waiting on it: not bound to the first one's life.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		p, err := a.queries.Profile(ctx, technicianID)
		if err != nil {
			return s.available, err
		}
		now := p.Availability == directory.Available
		a.mu.Lock()
		if len(a.seen) > 100_000 { // technicians who left: start over rather than grow
			clear(a.seen)
		}
		a.seen[technicianID] = availabilitySeen{available: now, at: time.Now()}
		a.mu.Unlock()
		return now, nil
	})
	return v.(bool)
}
