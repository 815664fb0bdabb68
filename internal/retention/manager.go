// Package retention is the retention process manager (issue 17, item 3): a consumer of the one
// subscriber runtime that erases a customer's personal data once every request they submitted
// has been closed for longer than its company's retention (retention.policy_set). Its state
// (the companies' retentions, the sealed requests) lives in its own tables (migration 020),
// written in the transaction of each batch; each customer whose requests are all closed has a
// durable timer (process.Timers) at the moment the last of them runs out; a fired timer is an
// erasure in the manager's outbox (process.Outbox), carried out after the commit by the
// service's EraseKeys: the customer's key destroyed, their files deleted, customer.erased.v1
// appended by "system", the read models rebuilt.
package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/erasure"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/internal/process"
)

// Defaults of Config.
const (
	DefaultName      = "retention"
	DefaultTickEvery = time.Minute
	// fireLimit bounds the timers one tick fires (and so the customers one erasure batch
	// takes); the next tick fires the rest.
	fireLimit = 200
	// eraseKind is the kind of the outbox's commands.
	eraseKind = "erase"
)

// Erasure is one customer to erase: the erasure's ID (the outbox command's, so a retry is the
// same erasure), their key and why.
type Erasure struct {
	ErasureID, KeyID uuid.UUID
	Reason           string
}

// Eraser carries out the erasures decided, all of them then one rebuild of the read models;
// an erasure done before (same ID) must be done again harmlessly.
type Eraser func(ctx context.Context, erasures []Erasure) error

// Config is how a Manager is made.
type Config struct {
	// Name is the manager's checkpoint, its timers' and its outbox's owner; DefaultName when
	// empty.
	Name string
	// Pool is the database of the manager's tables, its timers, its outbox and request_keys.
	// Required.
	Pool *pgxpool.Pool
	// Erase carries out the erasures. Required.
	Erase Eraser
	// TickEvery is how often due timers are fired; DefaultTickEvery when zero.
	TickEvery time.Duration
	// Logger logs the erasures decided; slog.Default() when nil.
	Logger *slog.Logger
	// Now, when set, is the manager's clock in place of the runtime's: retentions are days
	// long, and a test moves the clock rather than wait.
	Now func() time.Time
}

// Validate says what is missing from c.
func (c Config) Validate() error {
	switch {
	case c.Pool == nil:
		return errors.New("retention: a database pool is required")
	case c.Erase == nil:
		return errors.New("retention: an eraser is required")
	case c.TickEvery < 0:
		return errors.New("retention: TickEvery must not be negative")
	}
	return nil
}

// Manager is the retention process manager: a subscriber.Consumer, Ticker and Flusher.
type Manager struct {
	cfg      Config
	timers   process.Timers
	outbox   process.Outbox
	requests *eventlog.Codec
	policies *eventlog.Codec
	erasures *eventlog.Codec
}

// New returns the manager of cfg.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.TickEvery == 0 {
		cfg.TickEvery = DefaultTickEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Manager{cfg: cfg, timers: process.Timers{Owner: cfg.Name}, outbox: process.Outbox{Owner: cfg.Name},
		requests: request.Codec(), policies: retention.Codec(), erasures: erasure.Codec()}, nil
}

func (m *Manager) Name() string             { return m.cfg.Name }
func (m *Manager) TickEvery() time.Duration { return m.cfg.TickEvery }

// timerKey names a customer's timer.
func timerKey(keyID uuid.UUID) string { return "key/" + keyID.String() }

// due is a customer's fired timer: the payload of the timer and of its outbox command.
type due struct {
	KeyID uuid.UUID `json:"key_id"`
	DueAt time.Time `json:"due_at"`
	// Days is the longest retention among the companies of the customer's requests: the one
	// that ran out last.
	Days int `json:"days"`
}

// Apply folds a batch into the manager's tables and timers.
func (m *Manager) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	for i := range batch {
		rec := &batch[i]
		if err := m.apply(ctx, tx, rec); err != nil {
			return fmt.Errorf("retention: apply %s (%s v%d): %w", rec.Type, rec.StreamID, rec.Version, err)
		}
	}
	return nil
}

func (m *Manager) apply(ctx context.Context, tx pgx.Tx, rec *eventlog.RecordedEvent) error {
	var codec *eventlog.Codec
	switch {
	case rec.Type == (*request.Submitted)(nil).EventType(), rec.Type == (*request.Closed)(nil).EventType():
		if !strings.HasPrefix(rec.StreamID, request.StreamPrefix) {
			return nil
		}
		codec = m.requests
	case strings.HasPrefix(rec.StreamID, retention.StreamPrefix) && m.policies.Knows(rec.Type):
		codec = m.policies
	case strings.HasPrefix(rec.StreamID, erasure.StreamPrefix) && m.erasures.Knows(rec.Type):
		codec = m.erasures
	default:
		return nil
	}
	e, err := codec.Decode(rec.Type, rec.Data)
	if err != nil {
		return nil // an event the projections park: it changes no retention
	}
	switch e := e.(type) {
	case *retention.PolicySet:
		if e.EraseAfterDays < 0 || e.EraseAfterDays > retention.MaxDays {
			return nil // never recorded by a command; the verifier reports it
		}
		if _, err := tx.Exec(ctx, `INSERT INTO retention_companies (company_id, erase_after_days) VALUES ($1, $2)
			ON CONFLICT (company_id) DO UPDATE SET erase_after_days = EXCLUDED.erase_after_days`, e.CompanyID, e.EraseAfterDays); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT DISTINCT key_id FROM retention_requests WHERE company_id = $1`, e.CompanyID)
		if err != nil {
			return err
		}
		keys, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := m.schedule(ctx, tx, k); err != nil {
				return err
			}
		}
		return nil
	case *request.Submitted:
		requestID := requestOf(rec)
		var keyID uuid.UUID
		err := tx.QueryRow(ctx, `SELECT key_id FROM request_keys WHERE request_id = $1`, requestID).Scan(&keyID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // not sealed (no master key when it was submitted): nothing to erase
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO retention_requests (request_id, company_id, key_id) VALUES ($1, $2, $3)
			ON CONFLICT (request_id) DO NOTHING`, requestID, e.CompanyID, keyID); err != nil {
			return err
		}
		return m.schedule(ctx, tx, keyID)
	case *request.Closed:
		var keyID uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE retention_requests SET closed_at = $2 WHERE request_id = $1 RETURNING key_id`,
			requestOf(rec), closedAt(rec)).Scan(&keyID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return m.schedule(ctx, tx, keyID)
	case *erasure.CustomerErased:
		if _, err := tx.Exec(ctx, `DELETE FROM retention_requests WHERE key_id = $1`, e.KeyID); err != nil {
			return err
		}
		return m.timers.Cancel(ctx, tx, timerKey(e.KeyID))
	}
	return nil
}

// closedAt is when a request was closed: when the command happened, or else when the log
// recorded it.
func closedAt(rec *eventlog.RecordedEvent) time.Time {
	if !rec.Metadata.OccurredAt.IsZero() {
		return rec.Metadata.OccurredAt
	}
	return rec.RecordedAt
}

// requestOf is the request of an event of a request stream.
func requestOf(rec *eventlog.RecordedEvent) uuid.UUID {
	id, _ := uuid.Parse(strings.TrimPrefix(rec.StreamID, request.StreamPrefix))
	return id
}

// schedule sets or cancels a customer's timer from their requests as the tables hold them: due
// when every request is closed and the last one's company retention runs out; none while a
// request is open or a company of theirs keeps personal data.
func (m *Manager) schedule(ctx context.Context, tx pgx.Tx, keyID uuid.UUID) error {
	var open, kept bool
	var at *time.Time
	var days *int
	err := tx.QueryRow(ctx, `SELECT coalesce(bool_or(r.closed_at IS NULL), true),
			coalesce(bool_or(coalesce(c.erase_after_days, 0) = 0), true),
			max(r.closed_at + make_interval(days => c.erase_after_days)),
			max(c.erase_after_days)
		FROM retention_requests r LEFT JOIN retention_companies c USING (company_id)
		WHERE r.key_id = $1`, keyID).Scan(&open, &kept, &at, &days)
	if err != nil {
		return fmt.Errorf("the retention of key %s: %w", keyID, err)
	}
	if open || kept || at == nil || days == nil {
		return m.timers.Cancel(ctx, tx, timerKey(keyID))
	}
	return m.timers.Set(ctx, tx, timerKey(keyID), *at, due{KeyID: keyID, DueAt: *at, Days: *days})
}

// Tick fires the customers whose retention ran out at now: each is an erasure decided, a
// command in the outbox whose ID derives from the key, so that it is decided once.
func (m *Manager) Tick(ctx context.Context, tx pgx.Tx, now time.Time) error {
	if m.cfg.Now != nil {
		now = m.cfg.Now()
	}
	fired, err := m.timers.Fire(ctx, tx, now, fireLimit)
	if err != nil {
		return err
	}
	for _, t := range fired {
		var d due
		if err := json.Unmarshal(t.Payload, &d); err != nil {
			return fmt.Errorf("retention: timer %s: %w", t.Key, err)
		}
		if err := m.outbox.Add(ctx, tx, m.outbox.CommandID(eraseKind, d.KeyID.String()), eraseKind, d); err != nil {
			return err
		}
		m.cfg.Logger.InfoContext(ctx, "retention ran out: customer to erase", "key", d.KeyID, "due_at", d.DueAt, "days", d.Days)
	}
	return nil
}

// Flush carries out the erasures decided, all pending ones at once (one rebuild of the read
// models for all of them), and marks them done. A customer who submitted a request again since
// the decision (the manager's table shows it open) is left alone; their timer is set again when
// that request closes.
func (m *Manager) Flush(ctx context.Context) error {
	pending, err := m.outbox.Pending(ctx, m.cfg.Pool, fireLimit)
	if err != nil || len(pending) == 0 {
		return err
	}
	var erasures []Erasure
	for _, c := range pending {
		var d due
		if err := json.Unmarshal(c.Payload, &d); err != nil {
			return fmt.Errorf("retention: command %s: %w", c.ID, err)
		}
		var open bool
		if err := m.cfg.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM retention_requests WHERE key_id = $1 AND closed_at IS NULL)`,
			d.KeyID).Scan(&open); err != nil {
			return fmt.Errorf("retention: is key %s's customer back: %w", d.KeyID, err)
		}
		if open {
			continue
		}
		erasures = append(erasures, Erasure{ErasureID: c.ID, KeyID: d.KeyID,
			Reason: fmt.Sprintf("retention: every request of the customer closed for more than %d days (company policy)", d.Days)})
	}
	if len(erasures) > 0 {
		if err := m.cfg.Erase(ctx, erasures); err != nil {
			return fmt.Errorf("retention: erase %d customer(s): %w", len(erasures), err)
		}
	}
	for _, c := range pending {
		if err := m.outbox.Done(ctx, m.cfg.Pool, c.ID); err != nil {
			return err
		}
	}
	return nil
}
