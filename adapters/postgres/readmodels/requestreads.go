package readmodels

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// RequestReads answers the application's RequestReads port from technician_request_reads
// (migration 014).
type RequestReads struct {
	db Querier
}

// NewRequestReads returns the store on db (usually the pool).
func NewRequestReads(db Querier) *RequestReads { return &RequestReads{db: db} }

var _ app.RequestReads = (*RequestReads)(nil)

// MarkRead implements app.RequestReads: the later of the stored and the new time stays.
func (m *RequestReads) MarkRead(ctx context.Context, technician, request uuid.UUID, at time.Time) error {
	_, err := m.db.Exec(ctx, `INSERT INTO technician_request_reads (technician_id, request_id, read_at) VALUES ($1, $2, $3)
		ON CONFLICT (technician_id, request_id) DO UPDATE SET read_at = greatest(technician_request_reads.read_at, excluded.read_at)`,
		technician, request, at)
	if err != nil {
		return fmt.Errorf("request reads: mark: %w", err)
	}
	return nil
}

// ReadTimes implements app.RequestReads.
func (m *RequestReads) ReadTimes(ctx context.Context, technician uuid.UUID, requests []uuid.UUID) (map[uuid.UUID]time.Time, error) {
	rows, err := m.db.Query(ctx, `SELECT request_id, read_at FROM technician_request_reads
		WHERE technician_id = $1 AND request_id = ANY($2::uuid[])`, technician, requests)
	if err != nil {
		return nil, fmt.Errorf("request reads: read: %w", err)
	}
	defer rows.Close()
	out := make(map[uuid.UUID]time.Time, len(requests))
	for rows.Next() {
		var id uuid.UUID
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("request reads: read: %w", err)
		}
		out[id] = at.UTC()
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("request reads: read: %w", err)
	}
	return out, nil
}
