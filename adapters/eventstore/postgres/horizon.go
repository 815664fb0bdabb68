package pgstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// horizonWatch tells reads when to pay for the precise horizon (Config.PreciseHorizonAfter):
// when committed events have waited that long behind the cluster's horizon, which has not passed
// them meanwhile. Under a steady load the horizon passes each event within milliseconds, whatever
// transactions come and go; a transaction left open anywhere in the cluster keeps it below them.
// Subscriptions' reads feed it; every read of the Store follows it.
type horizonWatch struct {
	after time.Duration

	mu     sync.Mutex
	marked bool      // events waited behind the horizon at the last read
	mark   uint64    // the newest of them then, in the log's clock
	since  time.Time // when the horizon was first seen below mark
}

// precise reports whether reads should look past the cluster's horizon now.
func (w *horizonWatch) precise(now time.Time) bool {
	if w.after < 0 {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.marked && now.Sub(w.since) >= w.after
}

// observe records what a read saw: the cluster's horizon, the newest event's transaction ID,
// and whether committed events waited behind the horizon.
func (w *horizonWatch) observe(horizon, newest uint64, waiting bool, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !waiting:
		w.marked = false
	case !w.marked || horizon > w.mark:
		// Waiting begins, or the horizon passed what waited: watch the newest event now.
		w.marked, w.mark, w.since = true, newest, now
	}
}

// clusterHorizonSQL is the cluster's horizon (pg_snapshot_xmin) of the statement it is part
// of, in the log's clock: plus $offset, the clock's offset as the Store last read it. It reads
// no table: every read of the log runs it, and a look at event_log_clock cost each read some
// 45 µs under load. A stale offset (another process re-based the clock since) is lower than the
// table's, which can only make the horizon lower: delivery waits, nothing is skipped.
func clusterHorizonSQL(offset int) string {
	return fmt.Sprintf(`CASE WHEN $%[1]d::bigint = 0 THEN pg_snapshot_xmin(pg_current_snapshot())
		ELSE (pg_snapshot_xmin(pg_current_snapshot())::text::numeric + $%[1]d::bigint)::text::xid8 END`, offset)
}

// horizonSQL is the readable horizon of the statement it is part of, as one uncorrelated
// scalar subquery (PostgreSQL runs it once per statement): the precise one when $precise, else
// the cluster's (with $offset).
func horizonSQL(precise, offset int) string {
	return fmt.Sprintf(`(SELECT CASE WHEN $%d::boolean THEN event_log_horizon(pg_current_snapshot(), true) ELSE %s END)`,
		precise, clusterHorizonSQL(offset))
}

// clockRefresh is how long the Store trusts the clock's offset it read.
const clockRefresh = time.Second

// logClock caches event_log_clock.xid_offset, which only a re-base after a restore changes.
type logClock struct {
	mu     sync.Mutex
	offset int64
	readAt time.Time
}

// xidOffset returns the clock's offset, read again when the last read is older than
// clockRefresh.
func (s *Store) xidOffset(ctx context.Context) (int64, error) {
	c := &s.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.readAt.IsZero() && time.Since(c.readAt) < clockRefresh {
		return c.offset, nil
	}
	if err := s.pool.QueryRow(ctx, `SELECT xid_offset FROM event_log_clock`).Scan(&c.offset); err != nil {
		return 0, fmt.Errorf("read the event log's clock: %w", err)
	}
	c.readAt = time.Now()
	return c.offset, nil
}

// Backend is a PostgreSQL backend as pg_stat_activity shows it.
type Backend struct {
	PID             int    `json:"pid"`
	Database        string `json:"database"`
	User            string `json:"user"`
	ApplicationName string `json:"application_name"`
	ClientAddress   string `json:"client_address,omitempty"`
	State           string `json:"state"`
	// TransactionStart is when its transaction began; Query is its current or last statement
	// (at most 200 characters).
	TransactionStart time.Time `json:"transaction_start"`
	Query            string    `json:"query"`
	// EventWriter is true when it holds a write lock on this database's events table: its
	// transaction may still add events, so delivery waits for it.
	EventWriter bool `json:"event_writer"`
}

// HorizonReport says whether the oldest transaction running in the cluster holds back the
// delivery of committed events, and whether reads can look past it.
type HorizonReport struct {
	// Waiting is true when committed events sit at or above the cluster's horizon
	// (pg_snapshot_xmin): a reader that stopped there would deliver them late.
	Waiting bool `json:"waiting"`
	// Holder is the backend of the oldest transaction running in the cluster, when one runs,
	// and HeldFor how long its transaction has been open.
	Holder  *Backend      `json:"holder,omitempty"`
	HeldFor time.Duration `json:"held_for_ns"`
	// DeliveryHeld is true when committed events wait behind a transaction that can still
	// write events (Holder when Holder.EventWriter): no reader can deliver them before it ends.
	// When Waiting but not DeliveryHeld, readers look past the holder after
	// Config.PreciseHorizonAfter.
	DeliveryHeld bool `json:"delivery_held"`
	// Blocker is the backend of the event writer that delivery waits for, when DeliveryHeld
	// (an append in flight, for a few milliseconds, or a transaction left open), and BlockedFor
	// how long its transaction has been open.
	Blocker    *Backend      `json:"blocker,omitempty"`
	BlockedFor time.Duration `json:"blocked_for_ns"`
}

// Summary says in one sentence what the report means for delivery, "" when no transaction
// open for at least least holds events back (appends in flight always do, for milliseconds).
func (r HorizonReport) Summary(least time.Duration) string {
	describe := func(b *Backend, open time.Duration) string {
		if b == nil {
			return "a transaction still open"
		}
		return fmt.Sprintf("the transaction of backend %d (database %q, user %q, application %q, %s, open %s)",
			b.PID, b.Database, b.User, b.ApplicationName, b.State, open.Round(time.Second))
	}
	switch {
	case r.DeliveryHeld && r.BlockedFor >= least:
		return "event delivery is held back by " + describe(r.Blocker, r.BlockedFor) + ": it can still write events, so nothing committed after it began is delivered before it ends"
	case r.Waiting && r.HeldFor >= least && (r.Holder == nil || !r.Holder.EventWriter):
		return "the cluster's oldest open transaction is " + describe(r.Holder, r.HeldFor) + "; it cannot write events, so readers look past it after a moment (give the event store its own cluster to spare them even that)"
	}
	return ""
}

// horizonReportSQL reads the report in one statement: whether events wait behind the cluster's
// horizon and behind the precise one, the oldest transaction's backend, and the backend of the
// transaction the precise horizon stops at (an event writer).
const horizonReportSQL = `
WITH snap AS MATERIALIZED (
	SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin,
	       event_log_horizon(pg_current_snapshot(), true) AS precise,
	       (SELECT xid_offset FROM event_log_clock) AS xid_offset
), newest AS MATERIALIZED (
	SELECT transaction_id FROM events ORDER BY transaction_id DESC LIMIT 1
), backends AS MATERIALIZED (
	SELECT a.pid, a.backend_xid, coalesce(a.datname, '') AS datname, coalesce(a.usename, '') AS usename,
	       coalesce(a.application_name, '') AS application_name, coalesce(host(a.client_addr), '') AS client_addr,
	       coalesce(a.state, '') AS state, a.xact_start, left(coalesce(a.query, ''), 200) AS query,
	       EXISTS (
	           SELECT 1 FROM pg_locks l
	           WHERE l.pid = a.pid AND l.locktype = 'relation'
	             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	             AND l.relation = 'events'::regclass
	             AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')) AS writer
	FROM pg_stat_activity a
	WHERE a.backend_xid IS NOT NULL AND a.pid <> pg_backend_pid()
)
SELECT coalesce((SELECT n.transaction_id >= (s.xmin::text::numeric + s.xid_offset)::text::xid8 FROM newest n, snap s), false),
       coalesce((SELECT n.transaction_id >= s.precise FROM newest n, snap s), false),
       h.pid, h.datname, h.usename, h.application_name, h.client_addr, h.state, h.xact_start, h.query, h.writer,
       k.pid, k.datname, k.usename, k.application_name, k.client_addr, k.state, k.xact_start, k.query, k.writer
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT * FROM backends b ORDER BY age(b.backend_xid) DESC LIMIT 1) AS h ON true
LEFT JOIN LATERAL (
	SELECT b.* FROM backends b, snap s
	WHERE b.backend_xid = ((s.precise::text::numeric - s.xid_offset)::text::xid8)::xid LIMIT 1) AS k ON true`

// backendRow is one backends row of horizonReportSQL, NULL when there is none.
type backendRow struct {
	PID                               *int32
	Database, User, Application, Addr *string
	State                             *string
	XactStart                         *time.Time
	Query                             *string
	Writer                            *bool
}

func (b *backendRow) fields() []any {
	return []any{&b.PID, &b.Database, &b.User, &b.Application, &b.Addr, &b.State, &b.XactStart, &b.Query, &b.Writer}
}

func (b *backendRow) backend() (*Backend, time.Duration) {
	if b.PID == nil {
		return nil, 0
	}
	out := &Backend{PID: int(*b.PID), Database: deref(b.Database), User: deref(b.User), ApplicationName: deref(b.Application),
		ClientAddress: deref(b.Addr), State: deref(b.State), Query: deref(b.Query), EventWriter: b.Writer != nil && *b.Writer}
	var open time.Duration
	if b.XactStart != nil {
		out.TransactionStart = *b.XactStart
		open = time.Since(*b.XactStart)
	}
	return out, open
}

// Horizon reports what holds back the delivery of committed events, if anything.
func (s *Store) Horizon(ctx context.Context) (HorizonReport, error) {
	var r HorizonReport
	var holder, blocker backendRow
	dest := append([]any{&r.Waiting, &r.DeliveryHeld}, holder.fields()...)
	err := s.pool.QueryRow(ctx, horizonReportSQL).Scan(append(dest, blocker.fields()...)...)
	if err != nil {
		return r, fmt.Errorf("read the event log's horizon: %w", err)
	}
	r.Holder, r.HeldFor = holder.backend()
	if r.DeliveryHeld {
		r.Blocker, r.BlockedFor = blocker.backend()
	}
	return r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// HorizonCollector exposes Horizon on /metrics:
// helpstream_event_log_horizon_held_seconds (how long committed events have waited behind the
// cluster's oldest transaction, 0 when none wait) and
// helpstream_event_log_delivery_held_seconds (the same, when that transaction can still write
// events and so holds delivery back), labelled with the holder's database and application.
func (s *Store) HorizonCollector() prometheus.Collector { return horizonCollector{store: s} }

type horizonCollector struct{ store *Store }

var (
	horizonHeldDesc = prometheus.NewDesc("helpstream_event_log_horizon_held_seconds",
		"How long committed events have waited behind the PostgreSQL cluster's oldest open transaction (0: none waits).",
		[]string{"database", "application_name"}, nil)
	deliveryHeldDesc = prometheus.NewDesc("helpstream_event_log_delivery_held_seconds",
		"How long committed events have waited behind an open transaction that can still write events, which no reader can look past (0: none).",
		[]string{"database", "application_name"}, nil)
)

func (c horizonCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- horizonHeldDesc
	ch <- deliveryHeldDesc
}

func (c horizonCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, err := c.store.Horizon(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(horizonHeldDesc, err)
		return
	}
	var held, delivery float64
	database, application := "", ""
	if r.Holder != nil {
		database, application = r.Holder.Database, r.Holder.ApplicationName
	}
	if r.Waiting {
		held = r.HeldFor.Seconds()
	}
	ch <- prometheus.MustNewConstMetric(horizonHeldDesc, prometheus.GaugeValue, held, database, application)
	database, application = "", ""
	if r.DeliveryHeld && r.Blocker != nil {
		delivery = r.BlockedFor.Seconds()
		database, application = r.Blocker.Database, r.Blocker.ApplicationName
	}
	ch <- prometheus.MustNewConstMetric(deliveryHeldDesc, prometheus.GaugeValue, delivery, database, application)
}
