package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// The event stream's bars (design §7).
const (
	// StreamForwardBar: forwarding a backlog reaches at least this share of the broker's own
	// batched publish rate for the same messages.
	StreamForwardBar = 0.5
	// StreamLatencyBar: p99 of append to delivery, live at StreamLatencyRate events/s.
	StreamLatencyBar  = 200 * time.Millisecond
	StreamLatencyRate = 500
)

// StreamConfig configures RunStream. Pool, Store and Events are required; zero fields take
// the defaults named.
type StreamConfig struct {
	// Pool is the scratch database: the event store, the forwarder's checkpoint and the
	// watermill-sql topics all live in it.
	Pool *pgxpool.Pool
	// Store is the PostgreSQL event store on Pool.
	Store *pgstore.Store
	// Events is the backlog to seed and forward.
	Events int
	// EventsPerStream is how many events each seeded stream has. Default 10.
	EventsPerStream int
	// SeedWriters is how many seeding transactions run at once. Default 2.
	SeedWriters int
	// BaselineBatch is the batch of the broker's own publish rate. Default 100.
	BaselineBatch int
	// ForwarderBatch is the forwarder's BatchSize. Default stream.DefaultBatchSize.
	ForwarderBatch int
	// Rate is the events/s of the latency measurement. Default StreamLatencyRate.
	Rate float64
	// LatencyDuration is how long the latency is measured, after 2 s of warm-up. Default 20s.
	LatencyDuration time.Duration
	// SubscriberPoll is the watermill-sql subscriber's poll interval in the latency
	// measurement. Default 10ms.
	SubscriberPoll time.Duration
	// Logger receives the forwarder's and the broker's logs. Default: discarded.
	Logger *slog.Logger
}

// setDefaults fills the settings left zero (cmp.Or); unlike the other measurements' defaults, a
// negative one is kept, for what it configures to refuse.
func (c *StreamConfig) setDefaults() {
	c.EventsPerStream = cmp.Or(c.EventsPerStream, 10)
	c.SeedWriters = cmp.Or(c.SeedWriters, 2)
	c.BaselineBatch = cmp.Or(c.BaselineBatch, 100)
	c.ForwarderBatch = cmp.Or(c.ForwarderBatch, stream.DefaultBatchSize)
	c.Rate = cmp.Or(c.Rate, StreamLatencyRate)
	c.LatencyDuration = cmp.Or(c.LatencyDuration, 20*time.Second)
	c.SubscriberPoll = cmp.Or(c.SubscriberPoll, 10*time.Millisecond)
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
}

// StreamReport is what RunStream measured.
type StreamReport struct {
	Seed     SeedStats
	Baseline Throughput // the broker's own publish, in batches of BaselineBatch
	Forward  Throughput // the forwarder catching up on the backlog
	Latency  StreamLatency
	// Load is the load average after each phase.
	Load []LoadSample
}

// Throughput is a number of events handled in a duration.
type Throughput struct {
	Events   int64
	Duration time.Duration
	Batch    int
}

// Rate is events per second.
func (t Throughput) Rate() float64 { return float64(t.Events) / t.Duration.Seconds() }

// ForwardRatio is the forwarder's rate over the broker's own.
func (r StreamReport) ForwardRatio() float64 { return r.Forward.Rate() / r.Baseline.Rate() }

// ForwardPass says whether forwarding meets its bar.
func (r StreamReport) ForwardPass() bool { return r.ForwardRatio() >= StreamForwardBar }

// StreamLatency is append-to-delivery latency, live.
type StreamLatency struct {
	Target   float64
	Achieved float64
	Events   int
	Lost     int // appended but not delivered within 10 s of the end
	Errors   int // appends that failed
	Duration time.Duration
	P50, P95 time.Duration
	P99, Max time.Duration
}

// Pass says whether the latency meets its bar.
func (l StreamLatency) Pass() bool { return l.Events > 0 && l.Lost == 0 && l.P99 < StreamLatencyBar }

// RunStream seeds cfg.Events events, measures the broker's own batched publish rate for the
// same messages, forwards the backlog with a stream.Forwarder that publishes to watermill-sql
// in the checkpoint's transaction, then measures append-to-delivery latency live.
func RunStream(ctx context.Context, cfg StreamConfig, progress io.Writer) (StreamReport, error) {
	cfg.setDefaults()
	var rep StreamReport
	if cfg.Pool == nil || cfg.Store == nil || cfg.Events <= 0 {
		return rep, errors.New("bench stream: Pool, Store and a positive Events are required")
	}
	load := func(after string) { rep.Load = append(rep.Load, LoadSample{After: after, Load: loadAverage()}) }
	load("start")

	fmt.Fprintf(progress, "seeding %d events in streams of %d…\n", cfg.Events, cfg.EventsPerStream)
	seed, head, err := seedStreams(ctx, cfg)
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

	fmt.Fprintf(progress, "publishing the same %d messages to watermill-sql in batches of %d…\n", cfg.Events, cfg.BaselineBatch)
	if rep.Baseline, err = publishBaseline(ctx, cfg); err != nil {
		return rep, err
	}
	load("baseline")
	if err := settle(ctx, cfg.Pool, `"watermill_bench.baseline"`); err != nil {
		return rep, err
	}

	fmt.Fprintf(progress, "forwarding the backlog (batches of %d, published in the checkpoint's transaction)…\n", cfg.ForwarderBatch)
	if rep.Forward, err = forwardBacklog(ctx, cfg, head); err != nil {
		return rep, err
	}
	load("forward")
	if err := settle(ctx, cfg.Pool, `"watermill_bench.forwarded"`, "stream_checkpoints"); err != nil {
		return rep, err
	}

	fmt.Fprintf(progress, "measuring append-to-delivery latency at %.0f events/s for %s…\n", cfg.Rate, cfg.LatencyDuration)
	if rep.Latency, err = measureStreamLatency(ctx, cfg); err != nil {
		return rep, err
	}
	load("latency")
	return rep, nil
}

// settle vacuums and analyzes the tables the previous phase filled and forces a checkpoint, so
// that the next phase neither competes with autovacuum over them nor with the checkpointer
// writing their pages: every measurement starts on a quiet server.
func settle(ctx context.Context, pool *pgxpool.Pool, tables ...string) error {
	for _, table := range tables {
		if _, err := pool.Exec(ctx, "VACUUM (ANALYZE) "+table); err != nil {
			return fmt.Errorf("bench stream: vacuum %s: %w", table, err)
		}
	}
	if _, err := pool.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("bench stream: checkpoint: %w", err)
	}
	return nil
}

// benchEvent is an event of the seeded backlog: the size and shape of a request's event.
func benchEvent(streamID string, n int) (eventlog.EventData, error) {
	data, err := json.Marshal(map[string]any{
		"request_id":  streamID[len("request-"):],
		"sequence":    n,
		"body":        "Restarting the print spooler fixed it, thanks.",
		"technician":  "e26c0aa2-13f1-57f3-b5e8-2f6e91d451d5",
		"device_type": "windows",
	})
	if err != nil {
		return eventlog.EventData{}, fmt.Errorf("encode bench event: %w", err)
	}
	return eventlog.EventData{
		ID: uuid.New(), Type: "request.message_sent.v1", Data: data,
		Metadata: eventlog.Metadata{Actor: "technician:" + uuid.NewString(), OccurredAt: time.Now().UTC(), CorrelationID: uuid.NewString()},
	}, nil
}

// seedStreams appends cfg.Events events, cfg.EventsPerStream per new stream, in transactions
// of about 5000 events, and returns the head of the log.
func seedStreams(ctx context.Context, cfg StreamConfig) (SeedStats, eventlog.Position, error) {
	const perTransaction = 5000
	started := time.Now()
	streamsPerTx := max(1, perTransaction/cfg.EventsPerStream)
	txs := (cfg.Events + streamsPerTx*cfg.EventsPerStream - 1) / (streamsPerTx * cfg.EventsPerStream)
	var next atomic.Int64
	var written atomic.Int64
	var lastMu sync.Mutex
	last := eventlog.Start() // the position of the last event appended
	errc := make(chan error, cfg.SeedWriters)
	var wg sync.WaitGroup
	for range cfg.SeedWriters {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= txs || ctx.Err() != nil {
					return
				}
				remaining := cfg.Events - i*streamsPerTx*cfg.EventsPerStream
				var parts []pgstore.StreamAppend
				for s := 0; s < streamsPerTx && remaining > 0; s++ {
					id := "request-" + uuid.NewString()
					n := min(cfg.EventsPerStream, remaining)
					remaining -= n
					events := make([]eventlog.EventData, n)
					for k := range events {
						e, err := benchEvent(id, k)
						if err != nil {
							errc <- err
							return
						}
						events[k] = e
					}
					parts = append(parts, pgstore.StreamAppend{StreamID: id, Expected: eventlog.NoStream(), Events: events})
				}
				results, err := cfg.Store.AppendStreams(ctx, parts)
				if err != nil {
					errc <- fmt.Errorf("bench stream: seed: %w", err)
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
	// Not Store.Head: it stops below the oldest transaction open on the server, which in a
	// parallel test run may be another test's.
	return SeedStats{Events: written.Load(), Transactions: txs, Duration: time.Since(started)}, last, nil
}

// publishBaseline reads the log and publishes its messages to a watermill-sql topic on the same
// database in batches of cfg.BaselineBatch, one Publish (one INSERT, its own transaction) per
// batch, timing only the Publish calls: the broker's own rate.
func publishBaseline(ctx context.Context, cfg StreamConfig) (Throughput, error) {
	const topic = "bench.baseline"
	if err := stream.InitializeSQLTopic(ctx, cfg.Pool, topic); err != nil {
		return Throughput{}, err
	}
	publisher, err := stream.NewSQLPublisher(cfg.Pool, cfg.Logger)
	if err != nil {
		return Throughput{}, err
	}
	defer publisher.Close()
	var spent time.Duration
	var published int64
	pos := eventlog.Start()
	for {
		page, err := cfg.Store.ReadAll(ctx, pos, eventlog.ReadOptions{Limit: 5000})
		if err != nil {
			return Throughput{}, fmt.Errorf("bench stream: read the log: %w", err)
		}
		if len(page) == 0 {
			break
		}
		pos = page[len(page)-1].Position
		msgs := make([]*message.Message, len(page))
		for i, e := range page {
			msgs[i] = stream.NewMessage(e)
			msgs[i].SetContext(ctx)
		}
		for len(msgs) > 0 {
			n := min(cfg.BaselineBatch, len(msgs))
			t := time.Now()
			if err := publisher.Publish(topic, msgs[:n]...); err != nil {
				return Throughput{}, fmt.Errorf("bench stream: baseline publish: %w", err)
			}
			spent += time.Since(t)
			published += int64(n)
			msgs = msgs[n:]
		}
	}
	return Throughput{Events: published, Duration: spent, Batch: cfg.BaselineBatch}, nil
}

// forwardBacklog runs a forwarder from the start of the log until its checkpoint reaches head.
func forwardBacklog(ctx context.Context, cfg StreamConfig, head eventlog.Position) (Throughput, error) {
	const topic = "bench.forwarded"
	if err := stream.InitializeSQLTopic(ctx, cfg.Pool, topic); err != nil {
		return Throughput{}, err
	}
	fwd, err := stream.NewForwarder(stream.Config{
		Name: "bench-backlog", Topic: topic, Pool: cfg.Pool, Store: cfg.Store,
		PublishInTx: stream.SQLPublisherInTx, BatchSize: cfg.ForwarderBatch, Logger: cfg.Logger,
	})
	if err != nil {
		return Throughput{}, err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	started := time.Now()
	go func() { defer close(done); _ = fwd.Run(runCtx) }()
	defer func() { stop(); <-done }()
	for fwd.Position().Compare(head) < 0 {
		select {
		case <-ctx.Done():
			return Throughput{}, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	took := time.Since(started)
	return Throughput{Events: fwd.Published(), Duration: took, Batch: cfg.ForwarderBatch}, nil
}

// measureStreamLatency appends single events at cfg.Rate while a forwarder publishes them
// live to a watermill-sql topic and a subscriber reads them, and times each event from the
// start of its append to its delivery to the subscriber.
func measureStreamLatency(ctx context.Context, cfg StreamConfig) (StreamLatency, error) {
	const warmUp = 2 * time.Second
	topic := "bench.live"
	if err := stream.InitializeSQLTopic(ctx, cfg.Pool, topic); err != nil {
		return StreamLatency{}, err
	}
	head, err := cfg.Store.Head(ctx)
	if err != nil {
		return StreamLatency{}, fmt.Errorf("bench stream: head of the log: %w", err)
	}
	fwd, err := stream.NewForwarder(stream.Config{
		Name: "bench-live", Topic: topic, Pool: cfg.Pool, Store: cfg.Store, StartFrom: head,
		PublishInTx: stream.SQLPublisherInTx, BatchSize: cfg.ForwarderBatch, Logger: cfg.Logger,
	})
	if err != nil {
		return StreamLatency{}, err
	}
	subscriber, err := stream.NewSQLSubscriber(cfg.Pool, stream.SQLSubscriberConfig{ConsumerGroup: "bench", PollInterval: cfg.SubscriberPoll}, cfg.Logger)
	if err != nil {
		return StreamLatency{}, err
	}
	defer subscriber.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	msgs, err := subscriber.Subscribe(runCtx, topic)
	if err != nil {
		return StreamLatency{}, fmt.Errorf("bench stream: subscribe to %s: %w", topic, err)
	}
	fwdDone := make(chan struct{})
	go func() { defer close(fwdDone); _ = fwd.Run(runCtx) }()
	defer func() { stop(); <-fwdDone }()

	var appendedAt sync.Map // event ID → time its append began, for the measured events
	var mu sync.Mutex
	var latencies []time.Duration
	delivered := map[string]bool{}
	go func() {
		for m := range msgs {
			now := time.Now()
			m.Ack()
			if v, ok := appendedAt.Load(m.UUID); ok {
				mu.Lock()
				if !delivered[m.UUID] {
					delivered[m.UUID] = true
					latencies = append(latencies, now.Sub(v.(time.Time)))
				}
				mu.Unlock()
			}
		}
	}()

	// One scheduler paces the appends; four writers issue them, so that one slow append does
	// not hold the next back.
	type job struct {
		measured bool
		streamID string
	}
	jobs := make(chan job, 64)
	var measured, failed atomic.Int64
	var writers sync.WaitGroup
	for range 4 {
		writers.Go(func() {
			for j := range jobs {
				e, err := benchEvent(j.streamID, 0)
				if err != nil {
					failed.Add(1)
					continue
				}
				if j.measured {
					appendedAt.Store(e.ID.String(), time.Now())
				}
				if _, err := cfg.Store.Append(runCtx, j.streamID, eventlog.Any(), e); err != nil {
					failed.Add(1)
					if j.measured {
						appendedAt.Delete(e.ID.String())
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
	streams := make([]string, 200)
	for i := range streams {
		streams[i] = "request-" + uuid.NewString()
	}
	started := time.Now()
	measureFrom := started.Add(warmUp)
	end := measureFrom.Add(cfg.LatencyDuration)
	issued := 0
	for now := time.Now(); now.Before(end) && ctx.Err() == nil; now = time.Now() {
		due := started.Add(time.Duration(issued) * interval)
		if due.After(now) {
			time.Sleep(due.Sub(now))
		}
		jobs <- job{measured: due.After(measureFrom) || due.Equal(measureFrom), streamID: streams[issued%len(streams)]}
		issued++
	}
	close(jobs)
	writers.Wait()
	lastAppend := time.Now()
	want := int(measured.Load())
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := len(latencies)
		mu.Unlock()
		if got >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	ls := append([]time.Duration(nil), latencies...)
	return StreamLatency{
		Target: cfg.Rate, Achieved: float64(want) / lastAppend.Sub(measureFrom).Seconds(),
		Events: len(ls), Lost: want - len(ls), Errors: int(failed.Load()), Duration: cfg.LatencyDuration,
		P50: percentile(ls, 0.50), P95: percentile(ls, 0.95), P99: percentile(ls, 0.99), Max: percentile(ls, 1),
	}, nil
}
