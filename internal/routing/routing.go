// Package routing is the routing process manager (issue 16): auto-assignment of waiting
// requests to Available technicians under capacity, by each company's rule (round-robin,
// least-busy), and reassignment of the unanswered requests of an assignee who stayed Away or
// Offline past the company's away limit.
//
// It is a consumer of the one subscriber runtime (internal/process). Its Apply keeps the state
// it decides on in its own tables (migration 017): policies, technicians' status and access,
// open requests with who holds them or is about to. Its Tick, once caught up and in the
// transaction that holds its checkpoint row, fires the away timers and plans assignments with
// the domain's pure rules (domain/routing), counting decided but not yet appended assignments
// as load; every decision is a row of its outbox. Its Flush executes them through the
// application (app.AutoAssign, app.GiveBack) with the outbox ID as the idempotency key and the
// decision in the events' metadata. A refusal (the request was taken meanwhile, the technician
// went away) releases the pending assignment and the next Tick decides again.
package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/domain/text"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/process"
)

// Name is the manager's name: its checkpoint, leader lock, timers' and outbox's owner.
const Name = "routing"

// Commander is what the manager needs of the application: its two system commands.
type Commander interface {
	AutoAssign(ctx context.Context, meta app.Meta, cmd app.AutoAssign) (app.Result, error)
	GiveBack(ctx context.Context, meta app.Meta, cmd app.GiveBack) (app.Result, error)
}

// Options tune the manager.
type Options struct {
	// TickEvery is how often the manager looks at its timers and waiting requests besides
	// after each live batch; DefaultTickEvery when zero.
	TickEvery time.Duration
	// BeforeExecute, when set, runs in Flush before each command is executed; an error stops
	// the Flush there, the command left in the outbox. It lets tests kill the manager between
	// a decision's commit and its append.
	BeforeExecute func(process.Command) error
	// AfterExecute, when set, runs in Flush after a command was executed and before it is
	// marked done; an error stops the Flush there. It lets tests kill the manager between an
	// append and its bookkeeping.
	AfterExecute func(process.Command) error
}

// DefaultTickEvery is the manager's tick period when Options leave it unset.
const DefaultTickEvery = time.Second

// Config is what a Manager needs.
type Config struct {
	// Pool is the database of the manager's tables, timers and outbox. Required.
	Pool *pgxpool.Pool
	// App executes the decisions. Required.
	App Commander
	// Logger hears of commands dropped because they cannot be read; slog.Default() when nil.
	Logger *slog.Logger
	Options
}

// Validate says what is missing.
func (c Config) Validate() error {
	if c.Pool == nil || c.App == nil {
		return errors.New("routing: Pool and App are required")
	}
	if c.TickEvery < 0 {
		return errors.New("routing: TickEvery must not be negative")
	}
	return nil
}

// Manager is the routing process manager: a subscriber.Consumer, Ticker and Flusher.
type Manager struct {
	pool          *pgxpool.Pool
	app           Commander
	tickEvery     time.Duration
	beforeExecute func(process.Command) error
	afterExecute  func(process.Command) error
	log           *slog.Logger
	timers        process.Timers
	outbox        process.Outbox
}

// New returns the manager.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TickEvery == 0 {
		cfg.TickEvery = DefaultTickEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Manager{pool: cfg.Pool, app: cfg.App, tickEvery: cfg.TickEvery, beforeExecute: cfg.BeforeExecute, afterExecute: cfg.AfterExecute, log: cfg.Logger,
		timers: process.Timers{Owner: Name}, outbox: process.Outbox{Owner: Name}}, nil
}

// Name identifies the manager's checkpoint and leader lock.
func (m *Manager) Name() string { return Name }

// TickEvery is the period of Tick.
func (m *Manager) TickEvery() time.Duration { return m.tickEvery }

var (
	requestCodec   = request.Codec()
	directoryCodec = directory.Codec()
	routingCodec   = routing.Codec()
)

// Apply folds a batch of the log into the manager's tables, inside the batch's transaction.
func (m *Manager) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	for i := range batch {
		e := &batch[i]
		if err := m.apply(ctx, tx, e); err != nil {
			return fmt.Errorf("routing: apply %s version %d (%s): %w", e.StreamID, e.Version, e.Type, err)
		}
	}
	return nil
}

func (m *Manager) apply(ctx context.Context, tx pgx.Tx, rec *eventlog.RecordedEvent) error {
	var codec *eventlog.Codec
	switch {
	case requestCodec.Knows(rec.Type) && strings.HasPrefix(rec.StreamID, request.StreamPrefix):
		codec = requestCodec
	case directoryCodec.Knows(rec.Type):
		codec = directoryCodec
	case routingCodec.Knows(rec.Type) && strings.HasPrefix(rec.StreamID, routing.StreamPrefix):
		codec = routingCodec
	default:
		return nil
	}
	e, err := codec.Decode(rec.Type, rec.Data)
	if err != nil {
		return nil // an event no command could write; the projectors park it, it changes nothing here
	}
	at := rec.RecordedAt
	switch e := e.(type) {
	case *routing.PolicySet:
		caps := map[string]int{}
		for _, c := range e.Capacities {
			caps[c.TechnicianID.String()] = c.Capacity
		}
		return exec(ctx, tx, `INSERT INTO routing_policies (company_id, mode, default_capacity, capacities, away_limit_seconds)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (company_id) DO UPDATE SET mode = EXCLUDED.mode,
			default_capacity = EXCLUDED.default_capacity, capacities = EXCLUDED.capacities, away_limit_seconds = EXCLUDED.away_limit_seconds`,
			e.CompanyID, text.Storable(string(e.Mode)), e.DefaultCapacity, caps, e.AwayLimitSeconds)
	case *directory.TechnicianRegistered:
		return exec(ctx, tx, `INSERT INTO routing_technicians (technician_id, name) VALUES ($1, $2)
			ON CONFLICT (technician_id) DO UPDATE SET name = EXCLUDED.name`, e.TechnicianID, text.Storable(e.Name))
	case *directory.AccessGranted:
		return exec(ctx, tx, `INSERT INTO routing_access (company_id, technician_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, e.CompanyID, e.TechnicianID)
	case *directory.AccessRevoked:
		if err := exec(ctx, tx, `DELETE FROM routing_access WHERE company_id = $1 AND technician_id = $2`, e.CompanyID, e.TechnicianID); err != nil {
			return err
		}
		return m.timers.Cancel(ctx, tx, awayKey(e.TechnicianID, e.CompanyID))
	case *directory.AvailabilityChanged:
		return m.availabilityChanged(ctx, tx, e, at)
	case *request.Submitted:
		return exec(ctx, tx, `INSERT INTO routing_requests (request_id, company_id, submitted_at) VALUES ($1, $2, $3)
			ON CONFLICT (request_id) DO NOTHING`, e.RequestID, e.CompanyID, at)
	}
	id, ok := requestID(rec.StreamID)
	if !ok {
		return nil
	}
	switch e := e.(type) {
	case *request.Assigned:
		// The decided assignment is back (or someone took the request): it leaves the pending
		// load and counts as the assignee's, in this one transaction.
		if err := exec(ctx, tx, `UPDATE routing_requests SET assignee = $2, pending_to = NULL, pending_command = NULL, giving_back = false,
			assignments = assignments + 1
			WHERE request_id = $1`, id, e.TechnicianID); err != nil {
			return err
		}
		return exec(ctx, tx, `UPDATE routing_access a SET last_assigned_at = $3 FROM routing_requests r
			WHERE r.request_id = $1 AND a.company_id = r.company_id AND a.technician_id = $2
			AND (a.last_assigned_at IS NULL OR a.last_assigned_at < $3)`, id, e.TechnicianID, at)
	case *request.Unassigned:
		return exec(ctx, tx, `UPDATE routing_requests SET assignee = NULL, giving_back = false WHERE request_id = $1`, id)
	case *request.Transferred:
		return exec(ctx, tx, `UPDATE routing_requests SET assignee = $2, giving_back = false WHERE request_id = $1`, id, e.To)
	case *request.MessageSent:
		column := "technician_wrote_at"
		if e.From == request.CustomerSide {
			column = "customer_wrote_at"
		}
		return exec(ctx, tx, `UPDATE routing_requests SET `+column+` = $2 WHERE request_id = $1`, id, at)
	case *request.Closed:
		return exec(ctx, tx, `DELETE FROM routing_requests WHERE request_id = $1`, id)
	}
	return nil
}

// awayTimer is the payload of a reassignment timer.
type awayTimer struct {
	TechnicianID uuid.UUID `json:"technician_id"`
	CompanyID    uuid.UUID `json:"company_id"`
	LimitSeconds int64     `json:"limit_seconds"`
}

func awayKey(technicianID, companyID uuid.UUID) string {
	return awayPrefix(technicianID) + companyID.String()
}

func awayPrefix(technicianID uuid.UUID) string { return "away/" + technicianID.String() + "/" }

func away(a directory.Availability) bool { return a == directory.Away || a == directory.Offline }

// availabilityChanged records the status; going Away or Offline sets a timer per company with
// an away limit, coming back Available cancels them.
func (m *Manager) availabilityChanged(ctx context.Context, tx pgx.Tx, e *directory.AvailabilityChanged, at time.Time) error {
	var before string
	err := tx.QueryRow(ctx, `SELECT availability FROM routing_technicians WHERE technician_id = $1`, e.TechnicianID).Scan(&before)
	if errors.Is(err, pgx.ErrNoRows) {
		before = string(directory.Offline)
		err = exec(ctx, tx, `INSERT INTO routing_technicians (technician_id, name) VALUES ($1, '')`, e.TechnicianID)
	}
	if err != nil {
		return err
	}
	if err := exec(ctx, tx, `UPDATE routing_technicians SET availability = $2 WHERE technician_id = $1`, e.TechnicianID, string(e.Availability)); err != nil {
		return err
	}
	switch {
	case e.Availability == directory.Available:
		return m.timers.CancelPrefix(ctx, tx, awayPrefix(e.TechnicianID))
	case away(e.Availability) && !away(directory.Availability(before)):
		rows, err := tx.Query(ctx, `SELECT a.company_id, p.away_limit_seconds FROM routing_access a
			JOIN routing_policies p USING (company_id) WHERE a.technician_id = $1 AND p.away_limit_seconds > 0`, e.TechnicianID)
		if err != nil {
			return err
		}
		type limit struct {
			company uuid.UUID
			seconds int64
		}
		limits, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (limit, error) {
			var l limit
			return l, r.Scan(&l.company, &l.seconds)
		})
		if err != nil {
			return err
		}
		for _, l := range limits {
			due := at.Add(time.Duration(l.seconds) * time.Second)
			if err := m.timers.Set(ctx, tx, awayKey(e.TechnicianID, l.company), due,
				awayTimer{TechnicianID: e.TechnicianID, CompanyID: l.company, LimitSeconds: l.seconds}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Command kinds of the manager's outbox.
const (
	kindAssign   = "assign"
	kindGiveBack = "give-back"
)

type assignCommand struct {
	RequestID    uuid.UUID    `json:"request_id"`
	TechnicianID uuid.UUID    `json:"technician_id"`
	Rule         routing.Mode `json:"rule"`
	// Assignments is how many times the request had been assigned when decided: an
	// assignment since (someone took it, even if they gave it back) makes the decision stale.
	Assignments int `json:"assignments"`
}

type giveBackCommand struct {
	RequestID    uuid.UUID `json:"request_id"`
	TechnicianID uuid.UUID `json:"technician_id"`
	Reason       string    `json:"reason"`
}

// maxTimersPerTick and maxWaitingPerCompany bound one Tick's work; the next Tick goes on.
const (
	maxTimersPerTick     = 100
	maxWaitingPerCompany = 500
)

// Tick fires the due away timers, then assigns waiting requests of every company with
// auto-assignment, inside the transaction that holds the checkpoint row.
func (m *Manager) Tick(ctx context.Context, tx pgx.Tx, now time.Time) error {
	fired, err := m.timers.Fire(ctx, tx, now, maxTimersPerTick)
	if err != nil {
		return err
	}
	for _, t := range fired {
		var p awayTimer
		if err := json.Unmarshal(t.Payload, &p); err != nil {
			return fmt.Errorf("routing: timer %s: %w", t.Key, err)
		}
		if err := m.reassign(ctx, tx, p); err != nil {
			return fmt.Errorf("routing: reassign for timer %s: %w", t.Key, err)
		}
	}
	rows, err := tx.Query(ctx, `SELECT p.company_id FROM routing_policies p WHERE p.mode <> 'off' AND EXISTS (
		SELECT 1 FROM routing_requests r WHERE r.company_id = p.company_id AND r.assignee IS NULL AND r.pending_to IS NULL)
		ORDER BY p.company_id`)
	if err != nil {
		return fmt.Errorf("routing: companies with waiting requests: %w", err)
	}
	companies, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("routing: companies with waiting requests: %w", err)
	}
	for _, c := range companies {
		if err := m.assign(ctx, tx, c, now); err != nil {
			return fmt.Errorf("routing: assign requests of company %s: %w", c, err)
		}
	}
	return nil
}

// reassign gives back, for the technician, their unanswered requests of the company when they
// are still Away or Offline.
func (m *Manager) reassign(ctx context.Context, tx pgx.Tx, p awayTimer) error {
	var name, status string
	err := tx.QueryRow(ctx, `SELECT name, availability FROM routing_technicians WHERE technician_id = $1`, p.TechnicianID).Scan(&name, &status)
	if errors.Is(err, pgx.ErrNoRows) || !away(directory.Availability(status)) {
		return nil
	}
	if err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT request_id, decisions, customer_wrote_at, technician_wrote_at FROM routing_requests
		WHERE company_id = $1 AND assignee = $2 AND NOT giving_back ORDER BY submitted_at, request_id`, p.CompanyID, p.TechnicianID)
	if err != nil {
		return err
	}
	type held struct {
		id              uuid.UUID
		decisions       int
		customer, reply *time.Time
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (held, error) {
		var h held
		return h, r.Scan(&h.id, &h.decisions, &h.customer, &h.reply)
	})
	if err != nil {
		return err
	}
	var unanswered []held
	for _, h := range all {
		if routing.Unanswered(deref(h.customer), deref(h.reply)) {
			unanswered = append(unanswered, h)
		}
	}
	if len(unanswered) == 0 {
		return nil
	}
	if name == "" {
		name = p.TechnicianID.String()
	}
	statusWord := strings.ToUpper(status[:1]) + status[1:]
	reason := routing.AwayReason(name, statusWord, time.Duration(p.LimitSeconds)*time.Second, len(unanswered))
	for _, h := range unanswered {
		id := m.outbox.CommandID(kindGiveBack, h.id.String(), strconv.Itoa(h.decisions))
		if err := m.outbox.Add(ctx, tx, id, kindGiveBack, giveBackCommand{RequestID: h.id, TechnicianID: p.TechnicianID, Reason: reason}); err != nil {
			return err
		}
		if err := exec(ctx, tx, `UPDATE routing_requests SET giving_back = true, decisions = decisions + 1 WHERE request_id = $1`, h.id); err != nil {
			return err
		}
	}
	return nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// assign plans the company's waiting requests, oldest first, and records each decision: the
// request pending to its technician (their load from now on) and the command in the outbox.
func (m *Manager) assign(ctx context.Context, tx pgx.Tx, companyID uuid.UUID, now time.Time) error {
	var mode string
	var defaultCapacity int
	var capacities map[string]int
	var last *uuid.UUID
	// FOR UPDATE: the policy row is the company's decision lock, beside the checkpoint's.
	if err := tx.QueryRow(ctx, `SELECT mode, default_capacity, capacities, last_chosen FROM routing_policies
		WHERE company_id = $1 FOR UPDATE`, companyID).Scan(&mode, &defaultCapacity, &capacities, &last); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT request_id, submitted_at FROM routing_requests
		WHERE company_id = $1 AND assignee IS NULL AND pending_to IS NULL ORDER BY submitted_at, request_id LIMIT $2`, companyID, maxWaitingPerCompany)
	if err != nil {
		return err
	}
	waiting, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (routing.Waiting, error) {
		var w routing.Waiting
		return w, r.Scan(&w.RequestID, &w.SubmittedAt)
	})
	if err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT a.technician_id, t.availability, a.last_assigned_at,
		(SELECT count(*) FROM routing_requests r WHERE r.company_id = a.company_id AND (r.assignee = a.technician_id OR r.pending_to = a.technician_id))
		FROM routing_access a JOIN routing_technicians t USING (technician_id) WHERE a.company_id = $1`, companyID)
	if err != nil {
		return err
	}
	settings := routing.Settings{DefaultCapacity: defaultCapacity}
	candidates, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (routing.Candidate, error) {
		var c routing.Candidate
		var availability string
		var lastAt *time.Time
		var open int64
		if err := r.Scan(&c.ID, &availability, &lastAt, &open); err != nil {
			return c, err
		}
		c.Available, c.HasAccess, c.Open, c.LastAssignedAt = availability == string(directory.Available), true, int(open), deref(lastAt)
		c.Capacity = settings.CapacityOf(c.ID)
		if n, ok := capacities[c.ID.String()]; ok {
			c.Capacity = n
		}
		return c, nil
	})
	if err != nil {
		return err
	}
	var lastChosen uuid.UUID
	if last != nil {
		lastChosen = *last
	}
	plan, chosen := routing.Plan(routing.Mode(mode), waiting, candidates, lastChosen, now)
	for _, a := range plan {
		var decisions, assignments int
		if err := tx.QueryRow(ctx, `SELECT decisions, assignments FROM routing_requests WHERE request_id = $1`, a.RequestID).Scan(&decisions, &assignments); err != nil {
			return err
		}
		id := m.outbox.CommandID(kindAssign, a.RequestID.String(), strconv.Itoa(decisions))
		if err := m.outbox.Add(ctx, tx, id, kindAssign, assignCommand{RequestID: a.RequestID, TechnicianID: a.TechnicianID, Rule: a.Rule, Assignments: assignments}); err != nil {
			return err
		}
		if err := exec(ctx, tx, `UPDATE routing_requests SET pending_to = $2, pending_command = $3, decisions = decisions + 1
			WHERE request_id = $1`, a.RequestID, a.TechnicianID, id); err != nil {
			return err
		}
		if err := exec(ctx, tx, `UPDATE routing_access SET last_assigned_at = $3 WHERE company_id = $1 AND technician_id = $2`,
			companyID, a.TechnicianID, now); err != nil {
			return err
		}
	}
	if len(plan) > 0 {
		return exec(ctx, tx, `UPDATE routing_policies SET last_chosen = $2 WHERE company_id = $1`, companyID, chosen)
	}
	return nil
}

// Flush executes the decided commands in decision order. A refusal because the state moved on
// releases the decision and marks it done in one transaction; another failure stops the Flush,
// to be tried again after the next commit.
func (m *Manager) Flush(ctx context.Context) error {
	for {
		pending, err := m.outbox.Pending(ctx, m.pool, 100)
		if err != nil {
			return err
		}
		for _, c := range pending {
			if m.beforeExecute != nil {
				if err := m.beforeExecute(c); err != nil {
					return err
				}
			}
			err := m.execute(ctx, c)
			switch {
			case err == nil:
				if m.afterExecute != nil {
					if err := m.afterExecute(c); err != nil {
						return err
					}
				}
				if err := m.outbox.Done(ctx, m.pool, c.ID); err != nil {
					return err
				}
			case refused(err):
				if err := m.release(ctx, c); err != nil {
					return err
				}
			case errors.Is(err, errUnreadable):
				// Never executable: kept, it would stop every decision after it.
				m.log.Error("routing: dropping a command that cannot be read", "id", c.ID, "kind", c.Kind, "err", err)
				if err := m.release(ctx, c); err != nil {
					return err
				}
			default:
				return fmt.Errorf("routing: execute %s %s: %w", c.Kind, c.ID, err)
			}
		}
		if len(pending) < 100 {
			return nil
		}
	}
}

// errUnreadable is a command of the outbox that cannot be read: an unknown kind or payload.
var errUnreadable = errors.New("unreadable command")

func (m *Manager) execute(ctx context.Context, c process.Command) error {
	meta := app.Meta{Actor: app.Actor{Kind: "system"}, IdempotencyKey: c.ID.String(), Command: Name + " " + c.Kind}
	switch c.Kind {
	case kindAssign:
		var p assignCommand
		if err := json.Unmarshal(c.Payload, &p); err != nil {
			return fmt.Errorf("%w: %w", errUnreadable, err)
		}
		meta.Decision = &eventlog.Decision{By: eventlog.DecisionAutoAssignment, Rule: string(p.Rule)}
		_, err := m.app.AutoAssign(ctx, meta, app.AutoAssign{RequestID: p.RequestID, TechnicianID: p.TechnicianID, Assignments: p.Assignments})
		return err
	case kindGiveBack:
		var p giveBackCommand
		if err := json.Unmarshal(c.Payload, &p); err != nil {
			return fmt.Errorf("%w: %w", errUnreadable, err)
		}
		meta.Decision = &eventlog.Decision{By: eventlog.DecisionReassignment, Rule: routing.AwayLimitRule, Reason: p.Reason}
		_, err := m.app.GiveBack(ctx, meta, app.GiveBack{RequestID: p.RequestID, TechnicianID: p.TechnicianID, Reason: p.Reason})
		return err
	}
	return fmt.Errorf("%w: unknown kind %q", errUnreadable, c.Kind)
}

// refused reports whether err is the domain's answer that the state moved on, not a failure.
func refused(err error) bool {
	for _, r := range []error{request.ErrAlreadyAssigned, request.ErrNotAvailable, request.ErrNoAccess, request.ErrClosed,
		request.ErrNotAssigned, request.ErrNotAssignee, request.ErrStaleDecision, app.ErrAssigneeBack, app.ErrNotFound} {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// release undoes a refused decision in the manager's state (the request waits again, or stays
// with its assignee) and marks the command done, in one transaction.
func (m *Manager) release(ctx context.Context, c process.Command) error {
	return pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		var err error
		switch c.Kind {
		case kindAssign:
			err = exec(ctx, tx, `UPDATE routing_requests SET pending_to = NULL, pending_command = NULL WHERE pending_command = $1`, c.ID)
		case kindGiveBack:
			var p giveBackCommand
			if json.Unmarshal(c.Payload, &p) != nil {
				break // unreadable: nothing to release
			}
			err = exec(ctx, tx, `UPDATE routing_requests SET giving_back = false WHERE request_id = $1 AND assignee = $2`, p.RequestID, p.TechnicianID)
		}
		if err != nil {
			return err
		}
		return m.outbox.Done(ctx, tx, c.ID)
	})
}

func exec(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	_, err := tx.Exec(ctx, sql, args...)
	return err
}

// requestID is the request of a request stream.
func requestID(streamID string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(streamID, request.StreamPrefix)
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}
