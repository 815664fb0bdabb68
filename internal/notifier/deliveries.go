package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// lane is what a worker sends in order: one technician's deliveries on one channel.
type lane struct {
	technician uuid.UUID
	channel    string
}

// recordSQL records, in one statement, one delivery per Available technician with access to
// the company ($5) and per channel they have on (R2, R5: a technician who is not Available
// does not see unassigned requests, so is not called to one they cannot take; the directory
// has reached the submission when this runs, so it is their status at that moment): e-mail when notify_email and e-mail is sent
// ($7), the webhook when they have a row in technician_webhooks (the channel is on exactly
// then). Each row's key is IdempotencyKey's, computed alike here; deliveries recorded
// already (a message delivered again) are left as they are. It returns the lanes of the rows
// it inserted.
const recordSQL = `
WITH recipients AS (
    SELECT a.technician_id, c.channel
    FROM directory_access a
    JOIN directory_technicians t ON t.id = a.technician_id
    LEFT JOIN technician_webhooks w ON w.technician_id = a.technician_id
    CROSS JOIN (VALUES ('email'), ('webhook')) AS c(channel)
    WHERE a.company_id = $5::uuid
      AND t.availability = 'available'
      AND ((c.channel = 'email' AND $7 AND t.notify_email AND t.email <> '')
        OR (c.channel = 'webhook' AND w.technician_id IS NOT NULL))
), keyed AS (
    SELECT technician_id, channel,
           md5($1::uuid::text || '/' || technician_id::text || '/' || channel)::uuid AS id
    FROM recipients
)
INSERT INTO notification_deliveries (id, event_id, position_hi, position_lo, request_id, technician_id, channel, body)
SELECT k.id, $1::uuid, $2::bigint, $3::bigint, $4::uuid, k.technician_id, k.channel,
       $6::jsonb || jsonb_build_object('id', k.id,
           'company_name', COALESCE((SELECT name FROM directory_companies WHERE id = $5), ''))
FROM keyed k
ORDER BY k.technician_id, k.channel
ON CONFLICT (id) DO NOTHING
RETURNING technician_id, channel`

// recordDeliveries records the deliveries of note (see recordSQL) and returns the lanes of the
// rows it inserted.
func recordDeliveries(ctx context.Context, pool *pgxpool.Pool, note Notification, pos eventlog.Position, emailOn bool) ([]lane, error) {
	body, err := json.Marshal(note) // id and company_name are set per row
	if err != nil {
		return nil, fmt.Errorf("write the notification of request %s: %w", note.RequestID, err)
	}
	hi, lo := pos.Parts()
	rows, err := pool.Query(ctx, recordSQL, note.EventID, int64(hi), int64(lo), note.RequestID, note.CompanyID, body, emailOn)
	if err != nil {
		return nil, fmt.Errorf("record the notifications of request %s: %w", note.RequestID, err)
	}
	lanes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (lane, error) {
		var l lane
		return l, r.Scan(&l.technician, &l.channel)
	})
	if err != nil {
		return nil, fmt.Errorf("record the notifications of request %s: %w", note.RequestID, err)
	}
	return lanes, nil
}

// delivery is a claimed delivery with what its sending needs.
type delivery struct {
	id       uuid.UUID
	note     Notification
	attempts int
	email    string // ChannelEmail: the technician's address now
	url      string // ChannelWebhook: the endpoint and its secret now
	secret   string
}

// claimResult says what a lane holds: deliveries claimed, in order; nothing (empty); or a
// head that is not due yet or that another worker holds (wait).
type claimResult struct {
	ds    []*delivery
	empty bool
	wait  time.Duration
}

// claimBatch is how many deliveries of a lane one claim takes at most: one transaction for
// several sends when a lane has a backlog.
const claimBatch = 20

// claim takes, for perAttempt each (and one more), the first deliveries of the lane (its oldest pending ones, in log
// order) that are due and that no other worker holds, stopping at the first that is not: a
// lane sends in order, so a head that waits for its next attempt holds back those behind it.
func claim(ctx context.Context, pool *pgxpool.Pool, l lane, perAttempt time.Duration) (claimResult, error) {
	var r claimResult
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
SELECT id, body, attempts,
       GREATEST(EXTRACT(EPOCH FROM (GREATEST(next_attempt_at, COALESCE(claimed_until, next_attempt_at)) - now())), 0)::float8
FROM notification_deliveries
WHERE technician_id = $1 AND channel = $2 AND status = 'pending'
ORDER BY position_hi, position_lo, id
LIMIT $3
FOR UPDATE`, l.technician, l.channel, claimBatch)
		if err != nil {
			return err
		}
		var ids []uuid.UUID
		for rows.Next() {
			var d delivery
			var body []byte
			var waitSeconds float64
			if err := rows.Scan(&d.id, &body, &d.attempts, &waitSeconds); err != nil {
				rows.Close()
				return err
			}
			if waitSeconds > 0 {
				if len(r.ds) == 0 {
					r.wait = time.Duration(waitSeconds * float64(time.Second))
				}
				break
			}
			if err := json.Unmarshal(body, &d.note); err != nil {
				rows.Close()
				return fmt.Errorf("read delivery %s: %w", d.id, err)
			}
			r.ds, ids = append(r.ds, &d), append(ids, d.id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(r.ds) == 0 {
			r.empty = r.wait == 0
			return nil
		}
		var email, url, secret string
		switch l.channel {
		case ChannelEmail:
			err = tx.QueryRow(ctx, `SELECT email FROM directory_technicians WHERE id = $1`, l.technician).Scan(&email)
		case ChannelWebhook:
			err = tx.QueryRow(ctx, `SELECT url, signing_secret FROM technician_webhooks WHERE technician_id = $1`, l.technician).Scan(&url, &secret)
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		for _, d := range r.ds {
			d.email, d.url, d.secret = email, url, secret
		}
		_, err = tx.Exec(ctx, `UPDATE notification_deliveries SET claimed_until = now() + $2 * interval '1 millisecond' WHERE id = ANY($1)`,
			ids, (time.Duration(len(ids)+1) * perAttempt).Milliseconds())
		return err
	})
	if err != nil {
		return claimResult{}, fmt.Errorf("claim the next %s deliveries of technician %s: %w", l.channel, l.technician, err)
	}
	return r, nil
}

// release gives claimed deliveries back unsent, for the next claim.
func release(ctx context.Context, pool *pgxpool.Pool, ids []uuid.UUID) error {
	if _, err := pool.Exec(ctx, `UPDATE notification_deliveries SET claimed_until = NULL WHERE id = ANY($1) AND status = 'pending'`, ids); err != nil {
		return fmt.Errorf("release claimed deliveries: %w", err)
	}
	return nil
}

// markSent records a delivery sent.
func markSent(ctx context.Context, pool *pgxpool.Pool, id uuid.UUID) error {
	_, err := pool.Exec(ctx, `UPDATE notification_deliveries
SET status = 'sent', attempts = attempts + 1, sent_at = now(), claimed_until = NULL, last_error = ''
WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("mark delivery %s sent: %w", id, err)
	}
	return nil
}

// markFailed records a failed attempt: the delivery is tried again after retry, or is dead
// when it has had maxAttempts (or when dead says it cannot succeed).
func markFailed(ctx context.Context, pool *pgxpool.Pool, id uuid.UUID, cause error, retry time.Duration, maxAttempts int, dead bool) (nowDead bool, err error) {
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	err = pool.QueryRow(ctx, `UPDATE notification_deliveries
SET attempts = attempts + 1, last_error = $2, claimed_until = NULL,
    status = CASE WHEN $5 OR attempts + 1 >= $4 THEN 'dead' ELSE 'pending' END,
    next_attempt_at = now() + $3 * interval '1 millisecond'
WHERE id = $1
RETURNING status = 'dead'`, id, msg, retry.Milliseconds(), maxAttempts, dead).Scan(&nowDead)
	if err != nil {
		return false, fmt.Errorf("record the failed attempt of delivery %s: %w", id, err)
	}
	return nowDead, nil
}

// dueLanes lists the lanes that hold a pending delivery due now and not held by a worker.
func dueLanes(ctx context.Context, pool *pgxpool.Pool, limit int) ([]lane, error) {
	rows, err := pool.Query(ctx, `SELECT DISTINCT technician_id, channel FROM notification_deliveries
WHERE status = 'pending' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("look for due notifications: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (lane, error) {
		var l lane
		return l, r.Scan(&l.technician, &l.channel)
	})
}

// DeadLetter is a delivery that failed every attempt.
type DeadLetter struct {
	ID           uuid.UUID         `json:"id"` // the idempotency key
	Channel      string            `json:"channel"`
	TechnicianID uuid.UUID         `json:"technician_id"`
	RequestID    uuid.UUID         `json:"request_id"`
	EventID      uuid.UUID         `json:"event_id"`
	Position     eventlog.Position `json:"position"`
	Attempts     int               `json:"attempts"`
	LastError    string            `json:"last_error"`
	LastAttempt  time.Time         `json:"last_attempt_at"`
}

// ErrUnknownChannel is returned by DeadLetters and Replay for a channel that is neither
// ChannelEmail, ChannelWebhook nor "" (every channel).
var ErrUnknownChannel = errors.New("unknown notification channel")

func checkChannel(channel string) error {
	if channel != "" && channel != ChannelEmail && channel != ChannelWebhook {
		return fmt.Errorf("%w %q (want %s, %s or every channel)", ErrUnknownChannel, channel, ChannelEmail, ChannelWebhook)
	}
	return nil
}

// DeadLetters lists at most limit dead deliveries on channel ("" for every channel) at or
// after the log position from, in log order.
func DeadLetters(ctx context.Context, pool *pgxpool.Pool, channel string, from eventlog.Position, limit int) ([]DeadLetter, error) {
	if err := checkChannel(channel); err != nil {
		return nil, err
	}
	hi, lo := from.Parts()
	rows, err := pool.Query(ctx, `SELECT id, channel, technician_id, request_id, event_id, position_hi, position_lo, attempts, last_error, next_attempt_at
FROM notification_deliveries
WHERE status = 'dead' AND (position_hi, position_lo) >= ($1, $2) AND ($3 = '' OR channel = $3)
ORDER BY position_hi, position_lo, id
LIMIT $4`, int64(hi), int64(lo), channel, limit)
	if err != nil {
		return nil, fmt.Errorf("list dead notifications: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeadLetter, error) {
		var d DeadLetter
		var phi, plo int64
		err := r.Scan(&d.ID, &d.Channel, &d.TechnicianID, &d.RequestID, &d.EventID, &phi, &plo, &d.Attempts, &d.LastError, &d.LastAttempt)
		d.Position = eventlog.NewPosition(uint64(phi), uint64(plo))
		return d, err
	})
}

// Replay queues again every dead delivery on channel ("" for every channel) at or after the
// log position from, with a fresh count of attempts, and returns how many. A running
// notifier sends them within its PollInterval, in log order per lane.
func Replay(ctx context.Context, pool *pgxpool.Pool, channel string, from eventlog.Position) (int64, error) {
	if err := checkChannel(channel); err != nil {
		return 0, err
	}
	hi, lo := from.Parts()
	tag, err := pool.Exec(ctx, `UPDATE notification_deliveries
SET status = 'pending', attempts = 0, next_attempt_at = now(), claimed_until = NULL
WHERE status = 'dead' AND (position_hi, position_lo) >= ($1, $2) AND ($3 = '' OR channel = $3)`, int64(hi), int64(lo), channel)
	if err != nil {
		return 0, fmt.Errorf("replay dead notifications from %s: %w", from, err)
	}
	return tag.RowsAffected(), nil
}

// startingPoint records the log's head as where the consumer group starts, the first time,
// and returns what is recorded.
func startingPoint(ctx context.Context, pool *pgxpool.Pool, group string, head func(context.Context) (eventlog.Position, error)) (eventlog.Position, error) {
	var hi, lo int64
	err := pool.QueryRow(ctx, `SELECT position_hi, position_lo FROM notifier_start WHERE consumer_group = $1`, group).Scan(&hi, &lo)
	if err == nil {
		return eventlog.NewPosition(uint64(hi), uint64(lo)), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return eventlog.Position{}, fmt.Errorf("read where the notifier started: %w", err)
	}
	pos, err := head(ctx)
	if err != nil {
		return eventlog.Position{}, fmt.Errorf("read the log's head: %w", err)
	}
	h, l := pos.Parts()
	err = pool.QueryRow(ctx, `INSERT INTO notifier_start (consumer_group, position_hi, position_lo) VALUES ($1, $2, $3)
ON CONFLICT (consumer_group) DO UPDATE SET consumer_group = EXCLUDED.consumer_group
RETURNING position_hi, position_lo`, group, int64(h), int64(l)).Scan(&hi, &lo)
	if err != nil {
		return eventlog.Position{}, fmt.Errorf("record where the notifier starts: %w", err)
	}
	return eventlog.NewPosition(uint64(hi), uint64(lo)), nil
}
