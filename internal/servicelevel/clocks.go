package servicelevel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/process"
)

// requestOf is the request of an event of a request stream.
func requestOf(rec *eventlog.RecordedEvent) uuid.UUID {
	id, _ := uuid.Parse(strings.TrimPrefix(rec.StreamID, request.StreamPrefix))
	return id
}

// levels are a company's levels as the manager's table holds them.
type levels struct {
	goals servicelevel.Goals
	hours servicelevel.Hours
	loc   *time.Location
}

// companyLevels reads a company's levels; ok false when it never set any.
func companyLevels(ctx context.Context, tx pgx.Tx, companyID uuid.UUID) (levels, bool, error) {
	var (
		zone                   string
		assign, reply, resolve int64
		hoursJSON              []byte
	)
	err := tx.QueryRow(ctx, `SELECT time_zone, assign_seconds, first_reply_seconds, resolution_seconds, business_hours
		FROM servicelevel_companies WHERE company_id = $1`, companyID).Scan(&zone, &assign, &reply, &resolve, &hoursJSON)
	if errors.Is(err, pgx.ErrNoRows) {
		return levels{}, false, nil
	}
	if err != nil {
		return levels{}, false, fmt.Errorf("read the levels of company %s: %w", companyID, err)
	}
	set := &servicelevel.TargetsSet{CompanyID: companyID, AssignSeconds: assign, FirstReplySeconds: reply, ResolutionSeconds: resolve}
	if err := json.Unmarshal(hoursJSON, &set.BusinessHours); err != nil {
		return levels{}, false, fmt.Errorf("read the business hours of company %s: %w", companyID, err)
	}
	goals, hours, err := set.Levels()
	if err != nil {
		return levels{}, false, fmt.Errorf("the levels of company %s: %w", companyID, err)
	}
	loc := time.UTC
	if zone != "" {
		if l, err := time.LoadLocation(zone); err == nil {
			loc = l
		}
	}
	return levels{goals: goals, hours: hours, loc: loc}, true, nil
}

// start starts the clocks of a request just submitted, one per target its company has now:
// targets set later apply to requests submitted later.
func (m *Manager) start(ctx context.Context, tx pgx.Tx, e *request.Submitted, at time.Time) error {
	l, ok, err := companyLevels(ctx, tx, e.CompanyID)
	if err != nil || !ok {
		return err
	}
	for _, target := range servicelevel.Targets {
		goal := l.goals.Of(target)
		if goal == 0 {
			continue
		}
		due := l.hours.Due(at, goal, l.loc)
		tag, err := tx.Exec(ctx, `INSERT INTO servicelevel_clocks (request_id, target, company_id, started_at, goal_seconds, due_at, state)
			VALUES ($1, $2, $3, $4, $5, $6, 'running') ON CONFLICT DO NOTHING`,
			e.RequestID, string(target), e.CompanyID, at, int64(goal/time.Second), due)
		if err != nil {
			return fmt.Errorf("start the %s clock: %w", target, err)
		}
		if tag.RowsAffected() == 0 {
			continue
		}
		b := breach{RequestID: e.RequestID, Target: target, DueAt: due.UTC(), GoalSeconds: int64(goal / time.Second)}
		if err := m.timers.Set(ctx, tx, timerKey(e.RequestID, target), due, b); err != nil {
			return err
		}
	}
	return nil
}

// met stops a running clock in time: its timer is cancelled.
func (m *Manager) met(ctx context.Context, tx pgx.Tx, requestID uuid.UUID, target servicelevel.Target) error {
	tag, err := tx.Exec(ctx, `UPDATE servicelevel_clocks SET state = 'met' WHERE request_id = $1 AND target = $2 AND state = 'running'`,
		requestID, string(target))
	if err != nil {
		return fmt.Errorf("stop the %s clock: %w", target, err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	return m.timers.Cancel(ctx, tx, timerKey(requestID, target))
}

// Tick fires the clocks due at now: each is a breach decided, a command in the outbox (its
// ID derived from the request and the target, so it is decided once).
func (m *Manager) Tick(ctx context.Context, tx pgx.Tx, now time.Time) error {
	fired, err := m.timers.Fire(ctx, tx, now, fireLimit)
	if err != nil {
		return err
	}
	for _, t := range fired {
		var b breach
		if err := json.Unmarshal(t.Payload, &b); err != nil {
			return fmt.Errorf("servicelevel: timer %s: %w", t.Key, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE servicelevel_clocks SET state = 'breached' WHERE request_id = $1 AND target = $2 AND state = 'running'`,
			b.RequestID, string(b.Target)); err != nil {
			return fmt.Errorf("servicelevel: mark the %s clock of %s: %w", b.Target, b.RequestID, err)
		}
		if err := m.outbox.Add(ctx, tx, m.commandID(b.RequestID, b.Target), breachKind, b); err != nil {
			return err
		}
	}
	return nil
}

// commandID is the breach's command ID, and its idempotency key: one per request and target.
func (m *Manager) commandID(requestID uuid.UUID, target servicelevel.Target) uuid.UUID {
	return m.outbox.CommandID(breachKind, requestID.String(), string(target))
}

// Flush records the breaches decided: request.sla_breached through the application, with the
// command's ID as its idempotency key, so that a Flush again after a crash writes nothing
// twice. A request that moved on (closed meanwhile, breached already, gone) is an answer.
func (m *Manager) Flush(ctx context.Context) error {
	_, err := m.outbox.Execute(ctx, m.cfg.Pool, func(ctx context.Context, c process.Command) error {
		if m.cfg.BeforeAppend != nil {
			if err := m.cfg.BeforeAppend(c); err != nil {
				return err
			}
		}
		var b breach
		if err := json.Unmarshal(c.Payload, &b); err != nil {
			return fmt.Errorf("servicelevel: command %s: %w", c.ID, err)
		}
		meta := app.Meta{Actor: app.Actor{Kind: "system"}, IdempotencyKey: c.ID.String(), Command: m.cfg.Name + " " + c.Kind}
		_, err := m.cfg.App.RecordBreach(ctx, meta, app.RecordBreach{
			RequestID: b.RequestID, Target: b.Target, DueAt: b.DueAt, Goal: time.Duration(b.GoalSeconds) * time.Second,
		})
		switch {
		case err == nil:
			m.cfg.Logger.InfoContext(ctx, "service-level target breached", "request", b.RequestID, "target", b.Target, "due_at", b.DueAt)
			if m.cfg.AfterAppend != nil {
				return m.cfg.AfterAppend(c)
			}
			return nil
		case errors.Is(err, request.ErrClosed), errors.Is(err, request.ErrAlreadyBreached), errors.Is(err, app.ErrNotFound):
			return nil // the request moved on: nothing to record
		}
		return fmt.Errorf("servicelevel: record the %s breach of %s: %w", b.Target, b.RequestID, err)
	})
	return err
}
