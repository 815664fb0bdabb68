package requestlist_test

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/asof"
)

// reference is the property test's yardstick: the request list and the directory folded from
// the whole log in memory by internal/asof, which folds it as the read models do and answers
// in Go what they answer in SQL. The read models must answer every query as it does. It
// takes a snapshot again whenever the log's head has moved. It knows no details and no
// technician (it answers ErrNotFound), so that the application folds those from their streams.
type reference struct {
	store interface {
		eventlog.Store
		eventlog.HeadReader
	}

	mu   sync.Mutex
	snap *asof.Snapshot
}

func newReference(store interface {
	eventlog.Store
	eventlog.HeadReader
}) *reference {
	return &reference{store: store}
}

// config makes an application answer from the reference.
func (r *reference) config(cfg app.Config) app.Config {
	cfg.RequestList, cfg.RequestDetails, cfg.Directory, cfg.WaitFor = r, r, r, r.waitFor
	return cfg
}

// current is the snapshot of the log as far as it can be read now.
func (r *reference) current(ctx context.Context) (*asof.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if r.snap == nil || r.snap.Position() != head {
		if r.snap, err = asof.Latest(ctx, r.store); err != nil {
			return nil, err
		}
	}
	return r.snap, nil
}

// waitFor reads the log up to pos: what the log delivers is all there is to wait for.
func (r *reference) waitFor(ctx context.Context, pos eventlog.Position) (bool, error) {
	s, err := r.current(ctx)
	if err != nil {
		return false, err
	}
	return s.Position().Compare(pos) >= 0, nil
}

func (r *reference) ListRequests(ctx context.Context, q app.RequestListQuery) (app.RequestPage, error) {
	s, err := r.current(ctx)
	if err != nil {
		return app.RequestPage{}, err
	}
	return s.ListRequests(ctx, q)
}

func (r *reference) RequestDetails(context.Context, app.RequestDetailsQuery) (app.RequestDetails, error) {
	return app.RequestDetails{}, app.ErrNotFound
}

func (r *reference) Technician(context.Context, uuid.UUID) (*directory.Technician, error) {
	return nil, app.ErrNotFound
}

func (r *reference) PortalCompany(ctx context.Context, portalID uuid.UUID) (uuid.UUID, string, error) {
	s, err := r.current(ctx)
	if err != nil {
		return uuid.Nil, "", err
	}
	return s.PortalCompany(ctx, portalID)
}

func (r *reference) Companies(ctx context.Context) (map[uuid.UUID]string, error) {
	s, err := r.current(ctx)
	if err != nil {
		return nil, err
	}
	return s.Companies(ctx)
}

func (r *reference) Technicians(ctx context.Context) (map[uuid.UUID]string, error) {
	s, err := r.current(ctx)
	if err != nil {
		return nil, err
	}
	return s.Technicians(ctx)
}

func (r *reference) Auditors(ctx context.Context) ([]directory.AuditorState, error) {
	s, err := r.current(ctx)
	if err != nil {
		return nil, err
	}
	return s.Auditors(ctx)
}
