package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/analytics"
)

// The analytics job's bars (design §7, issue 14).
const (
	// AnalyticsCatchUpBar: the job catches up on a backlog at least at this share of the
	// forwarder's rate on the same broker, same run.
	AnalyticsCatchUpBar = 0.5
	// AnalyticsDelayBar: p99 from the start of an event's append to the commit of the fold
	// that applied it, live at AnalyticsDelayRate events/s.
	AnalyticsDelayBar  = time.Second
	AnalyticsDelayRate = 500
)

// AnalyticsConfig configures RunAnalytics. Pool, Store and Events are required.
type AnalyticsConfig struct {
	// Pool is the scratch database: the event store, the watermill-sql topic, the forwarder's
	// checkpoint and the analytics tables.
	Pool  *pgxpool.Pool
	Store *pgstore.Store
	// Events is the backlog: requests of 10 events each (submitted, assigned, chat joined, a
	// customer's message, four technician messages, a file, closed).
	Events int
	// SeedWriters is how many seeding transactions run at once. Default 2.
	SeedWriters int
	// ForwarderBatch is the forwarder's BatchSize. Default stream.DefaultBatchSize.
	ForwarderBatch int
	// Rate is the events/s of the delay measurement. Default AnalyticsDelayRate.
	Rate float64
	// DelayDuration is how long the delay is measured, after 2 s of warm-up. Default 20s.
	DelayDuration time.Duration
	// SubscriberPoll is the watermill-sql subscriber's poll interval. Default 10ms.
	SubscriberPoll time.Duration
	// ReadBatch is how many messages the job's subscriber reads at once. Default 1000.
	ReadBatch int
	// Logger receives the forwarder's, the broker's and the job's logs. Default: discarded.
	Logger *slog.Logger
}

// AnalyticsReport is what RunAnalytics measured.
type AnalyticsReport struct {
	Seed    SeedStats
	Forward Throughput // the forwarder publishing the backlog to watermill-sql
	CatchUp Throughput // the analytics job consuming the same messages
	Delay   StreamLatency
	Load    []LoadSample
}

// CatchUpRatio is the job's rate over the forwarder's.
func (r AnalyticsReport) CatchUpRatio() float64 { return r.CatchUp.Rate() / r.Forward.Rate() }

// CatchUpPass says whether the catch-up meets its bar.
func (r AnalyticsReport) CatchUpPass() bool { return r.CatchUpRatio() >= AnalyticsCatchUpBar }

// DelayPass says whether the delay meets its bar.
func (r AnalyticsReport) DelayPass() bool {
	return r.Delay.Events > 0 && r.Delay.Lost == 0 && r.Delay.P99 < AnalyticsDelayBar
}

const analyticsTopic = "bench.analytics"

// RunAnalytics seeds cfg.Events events of request histories, forwards them to watermill-sql on
// the same database with a stream.Forwarder (timed), then times the analytics job consuming
// them (its consumer group, folding in the subscriber's transactions), then appends events
// live at cfg.Rate while the forwarder and the job run, timing each from the start of its
// append to the commit of the fold that applied it.
func RunAnalytics(ctx context.Context, cfg AnalyticsConfig, progress io.Writer) (AnalyticsReport, error) {
	cfg.SeedWriters = cmp.Or(cfg.SeedWriters, 2)
	cfg.ForwarderBatch = cmp.Or(cfg.ForwarderBatch, stream.DefaultBatchSize)
	cfg.Rate = cmp.Or(cfg.Rate, AnalyticsDelayRate)
	cfg.DelayDuration = cmp.Or(cfg.DelayDuration, 20*time.Second)
	cfg.SubscriberPoll = cmp.Or(cfg.SubscriberPoll, 10*time.Millisecond)
	cfg.ReadBatch = cmp.Or(cfg.ReadBatch, 1000)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	var rep AnalyticsReport
	if cfg.Pool == nil || cfg.Store == nil || cfg.Events <= 0 {
		return rep, errors.New("bench analytics: Pool, Store and a positive Events are required")
	}
	load := func(after string) { rep.Load = append(rep.Load, LoadSample{After: after, Load: loadAverage()}) }
	load("start")

	fmt.Fprintf(progress, "seeding %d events, requests of %d…\n", cfg.Events, len(requestHistory(uuid.New(), time.Time{})))
	seed, head, err := seedRequests(ctx, cfg)
	if err != nil {
		return rep, err
	}
	rep.Seed = seed
	load("seed")
	if err := settle(ctx, cfg.Pool, "events"); err != nil {
		return rep, err
	}
	if err := waitReadable(ctx, cfg.Store, head); err != nil {
		return rep, err
	}
	if err := stream.InitializeSQLTopic(ctx, cfg.Pool, analyticsTopic); err != nil {
		return rep, err
	}

	fmt.Fprintf(progress, "forwarding the backlog to watermill-sql (batches of %d, in the checkpoint's transaction)…\n", cfg.ForwarderBatch)
	fwdCfg := stream.Config{Name: "bench-analytics", Topic: analyticsTopic, Pool: cfg.Pool, Store: cfg.Store,
		PublishInTx: stream.SQLPublisherInTx, BatchSize: cfg.ForwarderBatch, Logger: cfg.Logger}
	fwd, err := stream.NewForwarder(fwdCfg)
	if err != nil {
		return rep, err
	}
	fwdCtx, stopFwd := context.WithCancel(ctx)
	fwdDone := make(chan struct{})
	started := time.Now()
	go func() { defer close(fwdDone); _ = fwd.Run(fwdCtx) }()
	for fwd.Position().Compare(head) < 0 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	rep.Forward = Throughput{Events: fwd.Published(), Duration: time.Since(started), Batch: cfg.ForwarderBatch}
	stopFwd()
	<-fwdDone
	load("forward")
	if err := settle(ctx, cfg.Pool, `"watermill_`+analyticsTopic+`"`, "stream_checkpoints"); err != nil {
		return rep, err
	}

	fmt.Fprintf(progress, "the analytics job consuming the %d messages…\n", rep.Forward.Events)
	var appendedAt sync.Map // event ID → start of its append, for the delay measurement
	var mu sync.Mutex
	var delays []time.Duration
	seen := map[uuid.UUID]bool{}
	folded := func(events []analytics.Event) {
		now := time.Now()
		for _, e := range events {
			if v, ok := appendedAt.Load(e.ID); ok {
				mu.Lock()
				if !seen[e.ID] {
					seen[e.ID] = true
					delays = append(delays, now.Sub(v.(time.Time)))
				}
				mu.Unlock()
			}
		}
	}
	sub, err := stream.NewSQLSubscriber(cfg.Pool, stream.SQLSubscriberConfig{ConsumerGroup: "analytics", PollInterval: cfg.SubscriberPoll,
		BatchSize: cfg.ReadBatch, Beginner: analytics.SQLBeginner(cfg.Pool, folded)}, cfg.Logger)
	if err != nil {
		return rep, err
	}
	defer sub.Close()
	job, err := analytics.NewConsumer(analytics.Config{DB: cfg.Pool, Subscriber: sub, Topic: analyticsTopic, Logger: cfg.Logger})
	if err != nil {
		return rep, err
	}
	jobCtx, stopJob := context.WithCancel(ctx)
	jobDone := make(chan error, 1)
	started = time.Now()
	go func() { jobDone <- job.Run(jobCtx) }()
	defer func() { stopJob(); <-jobDone }()
	for {
		applied, err := appliedEvents(ctx, cfg.Pool)
		if err != nil {
			return rep, err
		}
		if applied >= rep.Forward.Events {
			rep.CatchUp = Throughput{Events: applied, Duration: time.Since(started)}
			break
		}
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case err := <-jobDone:
			return rep, fmt.Errorf("bench analytics: the job stopped: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	load("catch-up")
	if err := settle(ctx, cfg.Pool, "analytics_requests", "analytics_applied"); err != nil {
		return rep, err
	}

	fmt.Fprintf(progress, "event-to-metric delay at %.0f events/s for %s…\n", cfg.Rate, cfg.DelayDuration)
	if fwd, err = stream.NewForwarder(fwdCfg); err != nil { // resumes at its checkpoint
		return rep, err
	}
	fwdCtx, stopFwd = context.WithCancel(ctx)
	fwdDone = make(chan struct{})
	go func() { defer close(fwdDone); _ = fwd.Run(fwdCtx) }()
	defer func() { stopFwd(); <-fwdDone }()
	rep.Delay, err = measureDelay(ctx, cfg, &appendedAt, func() int { mu.Lock(); defer mu.Unlock(); return len(delays) })
	if err != nil {
		return rep, err
	}
	mu.Lock()
	ds := append([]time.Duration(nil), delays...)
	mu.Unlock()
	rep.Delay.Events, rep.Delay.Lost = len(ds), rep.Delay.Events-len(ds)
	rep.Delay.P50, rep.Delay.P95, rep.Delay.P99, rep.Delay.Max = percentile(ds, 0.50), percentile(ds, 0.95), percentile(ds, 0.99), percentile(ds, 1)
	load("delay")
	return rep, nil
}

func appliedEvents(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var n int64
	if err := pool.QueryRow(ctx, `SELECT applied FROM analytics_state`).Scan(&n); err != nil {
		return 0, fmt.Errorf("bench analytics: read the job's state: %w", err)
	}
	return n, nil
}

// measureDelay appends new requests' events at cfg.Rate (sixteen writers, one pacer: an append
// waits on a loaded machine's PostgreSQL, and four fell behind the rate) and waits up
// to 10 s after the last for the job to apply them. It returns the latency with Events set to
// the number of measured appends; the caller fills in the figures.
func measureDelay(ctx context.Context, cfg AnalyticsConfig, appendedAt *sync.Map, delivered func() int) (StreamLatency, error) {
	const warmUp = 2 * time.Second
	type job struct {
		measured bool
		streamID string
		event    eventlog.EventData
	}
	jobs := make(chan job, 64)
	var measured, failed atomic.Int64
	var writers sync.WaitGroup
	for range 16 {
		writers.Go(func() {
			for j := range jobs {
				if j.measured {
					appendedAt.Store(j.event.ID, time.Now())
				}
				if _, err := cfg.Store.Append(ctx, j.streamID, eventlog.Any(), j.event); err != nil {
					failed.Add(1)
					if j.measured {
						appendedAt.Delete(j.event.ID)
					}
					continue
				}
				if j.measured {
					measured.Add(1)
				}
			}
		})
	}
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	started := time.Now()
	measureFrom := started.Add(warmUp)
	end := measureFrom.Add(cfg.DelayDuration)
	issued := 0
	var history []eventlog.EventData
	var streamID string
	for now := time.Now(); now.Before(end) && ctx.Err() == nil; now = time.Now() {
		due := started.Add(time.Duration(issued) * interval)
		if due.After(now) {
			time.Sleep(due.Sub(now))
		}
		if len(history) == 0 {
			id := uuid.New()
			streamID, history = request.Stream(id), requestHistory(id, time.Now())
		}
		// a request's events go one after the other to the same writer would be better; with
		// eventlog.Any() the order within a stream may vary, which the job does not mind
		jobs <- job{measured: !due.Before(measureFrom), streamID: streamID, event: history[0]}
		history = history[1:]
		issued++
	}
	close(jobs)
	writers.Wait()
	lastAppend := time.Now()
	want := int(measured.Load())
	deadline := time.Now().Add(10 * time.Second)
	for delivered() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return StreamLatency{Target: cfg.Rate, Achieved: float64(want) / lastAppend.Sub(measureFrom).Seconds(),
		Events: want, Errors: int(failed.Load()), Duration: cfg.DelayDuration}, nil
}

// requestHistory is the events of one request's life, as the product writes them, from at.
func requestHistory(id uuid.UUID, at time.Time) []eventlog.EventData {
	company, tech := uuid.MustParse("7b0c1f7e-5d0e-4d67-9b35-0d0f0a1b2c3d"), uuid.MustParse("e26c0aa2-13f1-57f3-b5e8-2f6e91d451d5")
	events := []eventlog.Event{
		&request.Submitted{RequestID: id, CompanyID: company, PortalID: company, Customer: request.Customer{Name: "Customer", Email: "customer@example.com"},
			Description: "The printer prints nothing since this morning.", Source: request.Source{IP: "192.0.2.1", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}},
		&request.Assigned{TechnicianID: tech},
		&request.ChatJoined{TechnicianID: tech},
		&request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "Hello, the printer is stuck."},
		&request.MessageSent{MessageID: uuid.New(), From: request.TechnicianSide, TechnicianID: tech, Body: "Restarting the print spooler should fix it."},
		&request.MessageSent{MessageID: uuid.New(), From: request.TechnicianSide, TechnicianID: tech, Body: "Open Services, find Print Spooler, restart it."},
		&request.FileShared{FileID: uuid.New(), From: request.TechnicianSide, TechnicianID: tech, Name: "spooler.txt", Size: 1200, ContentType: "text/plain", SHA256: strings.Repeat("ab", 32)},
		&request.MessageSent{MessageID: uuid.New(), From: request.TechnicianSide, TechnicianID: tech, Body: "Did it work?"},
		&request.MessageSent{MessageID: uuid.New(), From: request.TechnicianSide, TechnicianID: tech, Body: "Closing this request, write again if needed."},
		&request.Closed{TechnicianID: tech},
	}
	codec := request.Codec()
	out := make([]eventlog.EventData, len(events))
	for i, e := range events {
		typ, data, err := codec.Encode(e)
		if err != nil {
			panic(fmt.Sprintf("encode %s: %v", e.EventType(), err)) // the domain's own events always encode
		}
		out[i] = eventlog.EventData{ID: uuid.New(), Type: typ, Data: data,
			Metadata: eventlog.Metadata{Actor: "technician:" + tech.String(), OccurredAt: at.Add(time.Duration(i) * 30 * time.Second).UTC()}}
	}
	return out
}

// seedRequests appends cfg.Events events of request histories in transactions of about 5000
// events, cfg.SeedWriters at once, and returns the position of the last.
func seedRequests(ctx context.Context, cfg AnalyticsConfig) (SeedStats, eventlog.Position, error) {
	const perTransaction = 5000
	perRequest := len(requestHistory(uuid.New(), time.Time{}))
	started := time.Now()
	requestsPerTx := perTransaction / perRequest
	txs := (cfg.Events + requestsPerTx*perRequest - 1) / (requestsPerTx * perRequest)
	var next, written atomic.Int64
	var lastMu sync.Mutex
	last := eventlog.Start()
	errc := make(chan error, cfg.SeedWriters)
	day := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for range cfg.SeedWriters {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= txs || ctx.Err() != nil {
					return
				}
				remaining := cfg.Events - i*requestsPerTx*perRequest
				var parts []pgstore.StreamAppend
				for r := 0; r < requestsPerTx && remaining > 0; r++ {
					id := uuid.New()
					events := requestHistory(id, day.Add(time.Duration(i*requestsPerTx+r)*17*time.Second))
					events = events[:min(len(events), remaining)]
					remaining -= len(events)
					parts = append(parts, pgstore.StreamAppend{StreamID: request.Stream(id), Expected: eventlog.NoStream(), Events: events})
				}
				results, err := cfg.Store.AppendStreams(ctx, parts)
				if err != nil {
					errc <- fmt.Errorf("bench analytics: seed: %w", err)
					return
				}
				lastMu.Lock()
				for _, r := range results {
					if r.Position.Compare(last) > 0 {
						last = r.Position
					}
				}
				lastMu.Unlock()
				for _, p := range parts {
					written.Add(int64(len(p.Events)))
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return SeedStats{}, eventlog.Start(), err
	}
	return SeedStats{Events: written.Load(), Transactions: txs, Duration: time.Since(started)}, last, nil
}
