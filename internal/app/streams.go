package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// streamReader reads an aggregate's stream, decoded and folded: what a query that needs the
// whole history folds (the details of a request the read model has not seen, a shared file's
// label, an auditor's history), and what the App returns of a company or a technician.
// Commands decide on the states they cache instead (writer.go).
type streamReader struct {
	store          eventlog.Store
	requestCodec   *eventlog.Codec
	directoryCodec *eventlog.Codec
}

func newStreamReader(store eventlog.Store) streamReader {
	return streamReader{store: store, requestCodec: request.Codec(), directoryCodec: directory.Codec()}
}

func (s streamReader) loadStream(ctx context.Context, streamID string, codec *eventlog.Codec) (loaded, error) {
	recorded, err := s.store.ReadStream(ctx, streamID, 0, eventlog.ReadOptions{})
	if err != nil {
		return loaded{}, fmt.Errorf("read %s: %w", streamID, err)
	}
	return decodeStream(streamID, recorded, codec)
}

// loadRequest reads a request with its history; a missing one is ErrNotFound. Queries use it;
// commands decide on the cached state (see writer.go).
func (s streamReader) loadRequest(ctx context.Context, id uuid.UUID) (*request.Request, loaded, error) {
	recorded, err := s.store.ReadStream(ctx, request.Stream(id), 0, eventlog.ReadOptions{})
	if err != nil {
		return nil, loaded{}, fmt.Errorf("read %s: %w", request.Stream(id), err)
	}
	l, err := decodeStream(request.Stream(id), recorded, s.requestCodec)
	if err != nil {
		return nil, loaded{}, err
	}
	if len(l.history) == 0 {
		return nil, loaded{}, fmt.Errorf("request %s: %w", id, ErrNotFound)
	}
	r, err := request.FromHistory(l.history)
	if err != nil {
		return nil, loaded{}, fmt.Errorf("request %s: %w", id, err)
	}
	return r, l, nil
}

func (s streamReader) loadCompany(ctx context.Context, id uuid.UUID) (*directory.Company, loaded, error) {
	l, err := s.loadStream(ctx, directory.CompanyStream(id), s.directoryCodec)
	if err != nil {
		return nil, loaded{}, err
	}
	if len(l.history) == 0 {
		return nil, loaded{}, fmt.Errorf("company %s: %w", id, ErrNotFound)
	}
	c, err := directory.CompanyFromHistory(l.history)
	if err != nil {
		return nil, loaded{}, fmt.Errorf("company %s: %w", id, err)
	}
	return c, l, nil
}

func (s streamReader) loadTechnician(ctx context.Context, id uuid.UUID) (*directory.Technician, loaded, error) {
	l, err := s.loadStream(ctx, directory.TechnicianStream(id), s.directoryCodec)
	if err != nil {
		return nil, loaded{}, err
	}
	if len(l.history) == 0 {
		return nil, loaded{}, fmt.Errorf("technician %s: %w", id, ErrNotFound)
	}
	t, err := directory.TechnicianFromHistory(l.history)
	if err != nil {
		return nil, loaded{}, fmt.Errorf("technician %s: %w", id, err)
	}
	return t, l, nil
}
