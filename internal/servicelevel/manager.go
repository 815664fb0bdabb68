// Package servicelevel is the service-level process manager (issue 16): a consumer of the one
// subscriber runtime that runs each open request's clocks against its company's targets, in the
// company's business hours and time zone, and records request.sla_breached when a clock runs
// out. Its state (the companies' levels, the clocks) lives in its own tables (migration 018),
// written in the transaction of each batch; each running clock is a durable timer
// (process.Timers) at its business-hours due time; a fired timer is a command in the manager's
// outbox (process.Outbox), executed after the commit through the application's RecordBreach.
package servicelevel

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

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/domain/text"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/process"
)

// Defaults of Config.
const (
	DefaultName      = "servicelevel"
	DefaultTickEvery = time.Second
	// fireLimit bounds the timers one tick fires; the next tick fires the rest.
	fireLimit = 500
	// breachKind is the kind of the outbox's commands.
	breachKind = "breach"
)

// Breaches is what the manager needs of the application: the system's command.
type Breaches interface {
	RecordBreach(ctx context.Context, meta app.Meta, cmd app.RecordBreach) (app.Result, error)
}

// Config is how a Manager is made.
type Config struct {
	// Name is the manager's checkpoint, its timers' and its outbox's owner; DefaultName when
	// empty.
	Name string
	// Pool is the database of the manager's tables, its timers and its outbox. Required.
	Pool *pgxpool.Pool
	// App records the breaches. Required.
	App Breaches
	// TickEvery is how often due timers are fired; DefaultTickEvery when zero.
	TickEvery time.Duration
	// Logger logs the breaches recorded; slog.Default() when nil.
	Logger *slog.Logger
	// BeforeAppend, when set, runs in Flush before each command's append; an error stops that
	// Flush there, the command left in the outbox (the crash tests kill the manager with it).
	BeforeAppend func(process.Command) error
	// AfterAppend, when set, runs in Flush after each command's append, before the command is
	// marked done; an error stops that Flush there (a crash after the append).
	AfterAppend func(process.Command) error
}

// Validate says what is missing from c.
func (c Config) Validate() error {
	switch {
	case c.Pool == nil:
		return errors.New("servicelevel: a database pool is required")
	case c.App == nil:
		return errors.New("servicelevel: the application is required to record breaches")
	case c.TickEvery < 0:
		return errors.New("servicelevel: TickEvery must not be negative")
	}
	return nil
}

// Manager is the service-level process manager: a subscriber.Consumer, Ticker and Flusher.
type Manager struct {
	cfg       Config
	timers    process.Timers
	outbox    process.Outbox
	requests  *eventlog.Codec
	directory *eventlog.Codec
	levels    *eventlog.Codec
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
	return &Manager{
		cfg: cfg, timers: process.Timers{Owner: cfg.Name}, outbox: process.Outbox{Owner: cfg.Name},
		requests: request.Codec(), directory: directory.Codec(), levels: servicelevel.Codec(),
	}, nil
}

func (m *Manager) Name() string             { return m.cfg.Name }
func (m *Manager) TickEvery() time.Duration { return m.cfg.TickEvery }

// timerKey names a clock's timer: "<request ID>/<target>".
func timerKey(requestID uuid.UUID, target servicelevel.Target) string {
	return requestID.String() + "/" + string(target)
}

// breach is a fired clock: the payload of its timer and of its outbox command.
type breach struct {
	RequestID   uuid.UUID           `json:"request_id"`
	Target      servicelevel.Target `json:"target"`
	DueAt       time.Time           `json:"due_at"`
	GoalSeconds int64               `json:"goal_seconds"`
}

// Apply folds a batch into the manager's tables: the companies' levels, the clocks of the
// requests, their timers.
func (m *Manager) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	for i := range batch {
		rec := &batch[i]
		if err := m.apply(ctx, tx, rec); err != nil {
			return fmt.Errorf("servicelevel: apply %s (%s v%d): %w", rec.Type, rec.StreamID, rec.Version, err)
		}
	}
	return nil
}

func (m *Manager) apply(ctx context.Context, tx pgx.Tx, rec *eventlog.RecordedEvent) error {
	var codec *eventlog.Codec
	switch {
	case strings.HasPrefix(rec.StreamID, request.StreamPrefix) && m.requests.Knows(rec.Type):
		codec = m.requests
	case strings.HasPrefix(rec.StreamID, servicelevel.StreamPrefix) && m.levels.Knows(rec.Type):
		codec = m.levels
	case rec.Type == (*directory.CompanyTimeZoneSet)(nil).EventType():
		codec = m.directory
	default:
		return nil
	}
	e, err := codec.Decode(rec.Type, rec.Data)
	if err != nil {
		return nil // an event the projections park: it changes no clock
	}
	switch e := e.(type) {
	case *directory.CompanyTimeZoneSet:
		_, err := tx.Exec(ctx, `INSERT INTO servicelevel_companies (company_id, time_zone) VALUES ($1, $2)
			ON CONFLICT (company_id) DO UPDATE SET time_zone = EXCLUDED.time_zone`, e.CompanyID, text.Storable(e.TimeZone))
		return err
	case *servicelevel.TargetsSet:
		if _, _, err := e.Levels(); err != nil {
			return nil // never recorded by a command; the verifier reports it
		}
		hours, err := json.Marshal(e.BusinessHours)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO servicelevel_companies (company_id, assign_seconds, first_reply_seconds, resolution_seconds, business_hours)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (company_id) DO UPDATE SET assign_seconds = EXCLUDED.assign_seconds,
				first_reply_seconds = EXCLUDED.first_reply_seconds, resolution_seconds = EXCLUDED.resolution_seconds,
				business_hours = EXCLUDED.business_hours`,
			e.CompanyID, e.AssignSeconds, e.FirstReplySeconds, e.ResolutionSeconds, hours)
		return err
	case *request.Submitted:
		return m.start(ctx, tx, e, rec.RecordedAt)
	case *request.Assigned:
		return m.met(ctx, tx, requestOf(rec), servicelevel.TargetAssign)
	case *request.Transferred:
		return m.met(ctx, tx, requestOf(rec), servicelevel.TargetAssign)
	case *request.MessageSent:
		if e.From != request.TechnicianSide {
			return nil
		}
		return m.met(ctx, tx, requestOf(rec), servicelevel.TargetFirstReply)
	case *request.Closed:
		id := requestOf(rec)
		if err := m.timers.CancelPrefix(ctx, tx, id.String()+"/"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM servicelevel_clocks WHERE request_id = $1`, id)
		return err
	case *request.SLABreached:
		_, err := tx.Exec(ctx, `UPDATE servicelevel_clocks SET state = 'breached' WHERE request_id = $1 AND target = $2`,
			requestOf(rec), e.Target)
		return err
	}
	return nil
}
