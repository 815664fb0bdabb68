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
	"github.com/helpstream/helpstream/internal/retention"
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
	if err := s.finishErasure(ctx, &x, reason, actor); err != nil {
		return x, err
	}
	rebuilt, err := s.rebuildAfterErasure(ctx)
	x.Rebuilt = rebuilt
	if err != nil {
		return x, fmt.Errorf("erasure %s: %w", x.ID, err)
	}
	s.log.Info("erasure: done", "erasure", x.ID, "files_deleted", x.FilesDeleted, "rebuilt", x.Rebuilt)
	return x, nil
}

// KeyErasure is one customer to erase by their key, as the retention manager decides it: the
// erasure's ID is the manager's command ID, so that an erasure retried after a crash is the
// same erasure.
type KeyErasure struct {
	ErasureID, KeyID uuid.UUID
	Reason           string
}

// EraseKeys erases the customers of keys as EraseCustomer erases one (actor "system"), then
// rebuilds the read models once for all of them. It is idempotent per erasure ID: a key
// destroyed by that erasure before (a crash midway) has its files deleted and its event
// appended if they were not yet; a key another erasure destroyed is skipped. It returns the
// erasures done.
func (s *Service) EraseKeys(ctx context.Context, keys []KeyErasure, actor string) ([]Erasure, error) {
	if s.Keys == nil {
		return nil, ErrNoMasterKey
	}
	var done []Erasure
	for _, k := range keys {
		if err := erasure.CheckReason(k.Reason); err != nil {
			return done, fmt.Errorf("erasure %s: %w", k.ErasureID, err)
		}
		destroyed, ours, err := s.Keys.DestroyKey(ctx, k.KeyID, k.ErasureID)
		if err != nil {
			return done, fmt.Errorf("erasure %s: %w", k.ErasureID, err)
		}
		if !ours {
			continue
		}
		x := Erasure{ID: k.ErasureID, KeyID: k.KeyID, Requests: destroyed.Requests}
		if err := s.finishErasure(ctx, &x, k.Reason, actor); err != nil {
			return done, err
		}
		done = append(done, x)
	}
	if len(done) == 0 {
		return nil, nil
	}
	rebuilt, err := s.rebuildAfterErasure(ctx)
	for i := range done {
		done[i].Rebuilt = rebuilt
	}
	if err != nil {
		return done, fmt.Errorf("erasures: %w", err)
	}
	s.log.Info("erasures: done", "erasures", len(done), "rebuilt", rebuilt)
	return done, nil
}

// finishErasure does what follows the destruction of x's key: it deletes the files shared in
// its requests, appends customer.erased.v1 (once: a retry finds the stream written) and blanks
// the requests' notification deliveries.
func (s *Service) finishErasure(ctx context.Context, x *Erasure, reason, actor string) error {
	raw, codec := privacy.Unwrap(s.Store), request.Codec()
	for _, id := range x.Requests {
		events, err := raw.ReadStream(ctx, request.Stream(id), 0, eventlog.ReadOptions{})
		if err != nil {
			return fmt.Errorf("erasure %s: read request %s: %w", x.ID, id, err)
		}
		for _, e := range events {
			if e.Type != (&request.FileShared{}).EventType() {
				continue
			}
			ev, err := codec.Decode(e.Type, e.Data)
			if err != nil {
				return fmt.Errorf("erasure %s: read a shared file of request %s: %w", x.ID, id, err)
			}
			if err := s.Files.Delete(ctx, id, ev.(*request.FileShared).FileID); err != nil {
				return fmt.Errorf("erasure %s: %w", x.ID, err)
			}
			x.FilesDeleted++
		}
	}

	event, err := erasure.New(x.ID, x.KeyID, reason, x.Requests, x.FilesDeleted)
	if err != nil {
		return err
	}
	typ, payload, err := erasure.Codec().Encode(event)
	if err != nil {
		return fmt.Errorf("erasure %s: encode: %w", x.ID, err)
	}
	stream := erasure.Stream(x.ID)
	existing, err := raw.ReadStream(ctx, stream, 0, eventlog.ReadOptions{})
	if err != nil {
		return fmt.Errorf("erasure %s: read %s: %w", x.ID, stream, err)
	}
	if len(existing) > 0 {
		x.Position = existing[0].Position // appended by this erasure's earlier attempt
	} else {
		data := []eventlog.EventData{{ID: uuid.NewSHA1(x.ID, []byte(typ)), Type: typ, Data: payload,
			Metadata: eventlog.Metadata{Actor: actor, OccurredAt: time.Now().UTC(), CorrelationID: x.ID.String()}}}
		eventlog.Seal(stream, -1, "", data)
		res, err := raw.Append(ctx, stream, eventlog.NoStream(), data...)
		if err != nil {
			return fmt.Errorf("erasure %s: append %s: %w", x.ID, typ, err)
		}
		x.Position = res.Position
	}

	if _, err := s.Pool.Exec(ctx, `UPDATE notification_deliveries SET body = jsonb_set(body, '{summary}', to_jsonb($2::text))
		WHERE request_id = ANY($1) AND body ? 'summary'`, x.Requests, privacy.Erased); err != nil {
		return fmt.Errorf("erasure %s: blank the notification deliveries: %w", x.ID, err)
	}
	return nil
}

// rebuildAfterErasure rebuilds every read model from the start of the log beside the live
// tables and swaps them in (queries keep answering meanwhile), so that no table keeps what was
// projected before a key was destroyed. It returns the read models rebuilt.
func (s *Service) rebuildAfterErasure(ctx context.Context) ([]string, error) {
	var rebuilt []string
	for _, p := range s.ReadModels {
		if _, err := projections.Rebuild(ctx, s.Pool, s.Store, p, projections.RebuildOptions{Logger: s.log}); err != nil {
			return rebuilt, err
		}
		rebuilt = append(rebuilt, p.Name())
	}
	return rebuilt, nil
}

// eraseForRetention is the retention manager's Eraser: EraseKeys by "system".
func (s *Service) eraseForRetention(ctx context.Context, due []retention.Erasure) error {
	keys := make([]KeyErasure, len(due))
	for i, d := range due {
		keys[i] = KeyErasure{ErasureID: d.ErasureID, KeyID: d.KeyID, Reason: d.Reason}
	}
	_, err := s.EraseKeys(ctx, keys, "system")
	return err
}
