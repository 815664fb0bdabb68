package app

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// RequestReads remembers when each technician last opened each request's details: the
// console marks a request of theirs unread when the customer wrote after that. It is a
// technician's own reading state, not a fact of the request: no event records it, and a
// rebuild of the read models leaves it alone.
type RequestReads interface {
	// MarkRead notes that the technician opened the request at at (a later mark wins).
	MarkRead(ctx context.Context, technician, request uuid.UUID, at time.Time) error
	// ReadTimes returns when the technician last opened each of the requests they opened.
	ReadTimes(ctx context.Context, technician uuid.UUID, requests []uuid.UUID) (map[uuid.UUID]time.Time, error)
}

// MarkRequestRead notes that the technician opened the request now. The caller has shown
// them the request (R2 checked): the mark says nothing to anyone else.
func (qs *Queries) MarkRequestRead(ctx context.Context, technician, requestID uuid.UUID) error {
	if qs.requestReads == nil || technician == uuid.Nil {
		return nil
	}
	if err := qs.requestReads.MarkRead(ctx, technician, requestID, qs.now()); err != nil {
		return fmt.Errorf("mark request %s read: %w", requestID, err)
	}
	return nil
}

// RequestReadTimes returns when the technician last opened each of the requests; an empty
// map without a RequestReads store, or for no request.
func (qs *Queries) RequestReadTimes(ctx context.Context, technician uuid.UUID, requests []uuid.UUID) (map[uuid.UUID]time.Time, error) {
	if qs.requestReads == nil || len(requests) == 0 {
		return map[uuid.UUID]time.Time{}, nil
	}
	out, err := qs.requestReads.ReadTimes(ctx, technician, requests)
	if err != nil {
		return nil, fmt.Errorf("read times of technician %s: %w", technician, err)
	}
	if out == nil {
		out = map[uuid.UUID]time.Time{}
	}
	return out, nil
}
