package service

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/erasure"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/privacy"
	"github.com/helpstream/helpstream/projections"
)

// ErrNoMasterKey refuses an erasure on a service without a master key: nothing is sealed, so
// nothing can be erased by destroying a key.
var ErrNoMasterKey = erasure.ErrNotEncrypted

// Erasure is what EraseCustomer did.
type Erasure struct {
	ID           uuid.UUID   `json:"erasure_id"`
	KeyID        uuid.UUID   `json:"key_id"`
	Requests     []uuid.UUID `json:"requests"`
	FilesDeleted int         `json:"files_deleted"`
	// Position is where customer.erased.v1 landed in the log.
	Position eventlog.Position `json:"position"`
	// Rebuilt are the read models rebuilt from the start of the log.
	Rebuilt []string `json:"rebuilt"`
}

// EraseCustomer erases the personal data of the customer with email (issue 17), for reason, on
// behalf of actor ("admin"):
//
//  1. it destroys the customer's data key: from then on every personal field of their
//     requests' events reads as privacy.Erased, through every reader of Store (on other
//     servers within privacy.DefaultKeyTTL);
//  2. it deletes the files shared in those requests (their IDs from the FileShared events);
//  3. it appends customer.erased.v1 on a stream of its own, naming the key, not the person;
//  4. it blanks the summaries of those requests' notification deliveries;
//  5. it rebuilds every read model from the start of the log beside the live tables and swaps
//     them in (queries keep answering meanwhile), so that no table keeps what was projected
//     before.
//
// The log itself is unchanged: its hash chains still verify. A failure after step 1 leaves the
// key destroyed; `helpstream projections rebuild` finishes step 5.
func (s *Service) EraseCustomer(ctx context.Context, email, reason, actor string) (Erasure, error) {
	if s.Keys == nil {
		return Erasure{}, ErrNoMasterKey
	}
	if err := erasure.CheckReason(reason); err != nil {
		return Erasure{}, err
	}
	x := Erasure{ID: uuid.New()}
	destroyed, err := s.Keys.Destroy(ctx, email, x.ID)
	if err != nil {
		return Erasure{}, err
	}
	x.KeyID, x.Requests = destroyed.KeyID, destroyed.Requests
	s.log.Info("erasure: customer key destroyed", "erasure", x.ID, "key", x.KeyID, "requests", len(x.Requests))

	raw, codec := privacy.Unwrap(s.Store), request.Codec()
	for _, id := range x.Requests {
		events, err := raw.ReadStream(ctx, request.Stream(id), 0, eventlog.ReadOptions{})
		if err != nil {
			return x, fmt.Errorf("erasure %s: read request %s: %w", x.ID, id, err)
		}
		for _, e := range events {
			if e.Type != (&request.FileShared{}).EventType() {
				continue
			}
			ev, err := codec.Decode(e.Type, e.Data)
			if err != nil {
				return x, fmt.Errorf("erasure %s: read a shared file of request %s: %w", x.ID, id, err)
			}
			if err := s.Files.Delete(ctx, id, ev.(*request.FileShared).FileID); err != nil {
				return x, fmt.Errorf("erasure %s: %w", x.ID, err)
			}
			x.FilesDeleted++
		}
	}

	event, err := erasure.New(x.ID, x.KeyID, reason, x.Requests, x.FilesDeleted)
	if err != nil {
		return x, err
	}
	typ, payload, err := erasure.Codec().Encode(event)
	if err != nil {
		return x, fmt.Errorf("erasure %s: encode: %w", x.ID, err)
	}
	stream := erasure.Stream(x.ID)
	data := []eventlog.EventData{{ID: uuid.New(), Type: typ, Data: payload,
		Metadata: eventlog.Metadata{Actor: actor, OccurredAt: time.Now().UTC(), CorrelationID: x.ID.String()}}}
	eventlog.Seal(stream, -1, "", data)
	res, err := raw.Append(ctx, stream, eventlog.NoStream(), data...)
	if err != nil {
		return x, fmt.Errorf("erasure %s: append %s: %w", x.ID, typ, err)
	}
	x.Position = res.Position

	if _, err := s.Pool.Exec(ctx, `UPDATE notification_deliveries SET body = jsonb_set(body, '{summary}', to_jsonb($2::text))
		WHERE request_id = ANY($1) AND body ? 'summary'`, x.Requests, privacy.Erased); err != nil {
		return x, fmt.Errorf("erasure %s: blank the notification deliveries: %w", x.ID, err)
	}

	for _, p := range s.ReadModels {
		if _, err := projections.Rebuild(ctx, s.Pool, s.Store, p, projections.RebuildOptions{Logger: s.log}); err != nil {
			return x, fmt.Errorf("erasure %s: %w", x.ID, err)
		}
		x.Rebuilt = append(x.Rebuilt, p.Name())
	}
	s.log.Info("erasure: done", "erasure", x.ID, "files_deleted", x.FilesDeleted, "rebuilt", x.Rebuilt)
	return x, nil
}
