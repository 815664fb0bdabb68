// Package bench measures Helpstream against the PostgreSQL it runs on: the event store's append,
// a whole command, and 32 writers chatting on one request, each beside the rate of plain
// single-row INSERT transactions that pgbench reaches on the same server at the same
// concurrency; and whole commands through the HTTP API beside the same commands in process, in
// the same run (design §7). Ratios, not absolute numbers, are what carry from one machine to
// another.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/httpapi"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// Config says what to measure and for how long.
type Config struct {
	// Pool is a connection pool on a scratch database, migrated, with room for the largest
	// concurrency plus a few connections.
	Pool *pgxpool.Pool
	// DatabaseURL is the same database, for pgbench.
	DatabaseURL string
	// Store is the event store on that database.
	Store eventlog.Store
	// App runs commands on Store.
	App *app.App
	// Accounts and Idempotency complete the API for the HTTP row, which is left out when
	// Accounts is nil.
	Accounts    *app.Accounts
	Idempotency httpapi.IdempotencyStore
	// CatchUp brings the App's read models up to the HTTP row's seed (see HTTPConfig).
	CatchUp func(ctx context.Context) error
	// Duration is how long each measurement runs; 5 s when zero.
	Duration time.Duration
	// Rounds is how many times every row and its baseline are measured, interleaved: a round
	// measures each baseline right before the rows compared with it, so a change in the
	// machine's load between rounds moves both sides of a ratio together. A row reports the
	// median of its rounds' ratios. 3 when zero.
	Rounds int
	// Concurrency lists the writer counts for appends; {1, 32} when empty.
	Concurrency []int
	// CommandConcurrency is the writer count for whole commands; 32 when zero.
	CommandConcurrency int
	// Pgbench is the pgbench binary; "pgbench" from PATH when empty.
	Pgbench string
}

// Row is one measurement beside its baseline: the medians of its rounds.
type Row struct {
	What    string
	Clients int
	Rate    float64 // operations per second, the median of the rounds
	// Baseline is what Rate is compared with, in operations per second: pgbench INSERT
	// transactions with the same clients, or for the HTTP row the in-process commands.
	Baseline     float64
	BaselineName string
	Bar          float64 // the least acceptable Rate/Baseline
	// Ratios holds each round's Rate/Baseline, both measured in that round.
	Ratios []float64
	// Refusals counts the operations refused over every round, for rows that allow none.
	Refusals int64
}

// Ratio is the median of the rounds' ratios, or Rate over Baseline for a row measured once.
func (r Row) Ratio() float64 {
	if len(r.Ratios) > 0 {
		return median(r.Ratios)
	}
	if r.Baseline == 0 {
		return 0
	}
	return r.Rate / r.Baseline
}

// Spread is the lowest and highest ratio of the rounds.
func (r Row) Spread() (lowest, highest float64) {
	if len(r.Ratios) == 0 {
		return r.Ratio(), r.Ratio()
	}
	return slices.Min(r.Ratios), slices.Max(r.Ratios)
}

// Pass reports whether the row meets its bar, with no refusal.
func (r Row) Pass() bool { return r.Ratio() >= r.Bar && r.Refusals == 0 }

// Run measures every row, Rounds times, each round in the same order: pgbench, then the rows
// compared with it; the HTTP row right after the in-process commands it is compared with.
func Run(ctx context.Context, cfg Config, progress io.Writer) ([]Row, error) {
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 3
	}
	if len(cfg.Concurrency) == 0 {
		cfg.Concurrency = []int{1, 32}
	}
	if cfg.CommandConcurrency <= 0 {
		cfg.CommandConcurrency = 32
	}
	if cfg.Pgbench == "" {
		cfg.Pgbench = "pgbench"
	}
	var table rowTable
	for round := 1; round <= cfg.Rounds; round++ {
		step := func(what string, clients int) {
			fmt.Fprintf(progress, "round %d/%d: %s, %d client(s), %s…\n", round, cfg.Rounds, what, clients, cfg.Duration)
		}
		pgbench := func(clients int) (float64, error) {
			step("pgbench single-row INSERT", clients)
			return Pgbench(ctx, cfg.Pgbench, cfg.DatabaseURL, clients, cfg.Duration)
		}
		// againstPgbench measures pgbench's INSERTs with n clients, then measure (announced as
		// what), and adds the row of measure's rate against them; it returns both rates.
		againstPgbench := func(row, what string, n int, measure func() (float64, error)) (rate, base float64, err error) {
			if base, err = pgbench(n); err != nil {
				return 0, 0, err
			}
			step(what, n)
			if rate, err = measure(); err != nil {
				return 0, 0, err
			}
			table.add(Row{What: row, Clients: n, Bar: 0.60, BaselineName: pgbenchName}, rate, base, 0)
			return rate, base, nil
		}
		for _, n := range cfg.Concurrency {
			if _, _, err := againstPgbench("append one event, expected version", "event store append", n, func() (float64, error) {
				return Appends(ctx, cfg.Store, n, cfg.Duration)
			}); err != nil {
				return nil, err
			}
		}
		n := cfg.CommandConcurrency
		inProcess, base, err := againstPgbench("whole command: decide, append", "whole command (decide, append)", n, func() (float64, error) {
			return Commands(ctx, cfg.App, n, cfg.Duration)
		})
		if err != nil {
			return nil, err
		}
		if cfg.Accounts != nil {
			step("whole command through the HTTP API, keep-alive connections", n)
			rate, err := HTTPCommands(ctx, HTTPConfig{App: cfg.App, Accounts: cfg.Accounts, Idempotency: cfg.Idempotency, CatchUp: cfg.CatchUp}, n, cfg.Duration)
			if err != nil {
				return nil, err
			}
			table.add(Row{What: "whole command through the HTTP API", Clients: n, Bar: 0.60, BaselineName: "in-process command"}, rate, inProcess, 0)
		}
		step("chat messages, all writers on one request", n)
		rate, refusals, err := SameRequestMessages(ctx, cfg.App, n, cfg.Duration)
		if err != nil {
			return nil, err
		}
		table.add(Row{What: "chat messages, all on one request", Clients: n, Bar: 0.30, BaselineName: pgbenchName}, rate, base, refusals)
	}
	return table.rows(), nil
}

// rowTable gathers the rounds of each row, in the order rows are first measured.
type rowTable struct {
	order     []string
	byKey     map[string]*Row
	rates     map[string][]float64
	baselines map[string][]float64
}

func (t *rowTable) add(row Row, rate, baseline float64, refusals int64) {
	if t.byKey == nil {
		t.byKey, t.rates, t.baselines = map[string]*Row{}, map[string][]float64{}, map[string][]float64{}
	}
	key := fmt.Sprintf("%s/%d", row.What, row.Clients)
	r, ok := t.byKey[key]
	if !ok {
		r = &row
		t.byKey[key] = r
		t.order = append(t.order, key)
	}
	t.rates[key] = append(t.rates[key], rate)
	t.baselines[key] = append(t.baselines[key], baseline)
	ratio := 0.0
	if baseline > 0 {
		ratio = rate / baseline
	}
	r.Ratios = append(r.Ratios, ratio)
	r.Refusals += refusals
}

func (t *rowTable) rows() []Row {
	rows := make([]Row, 0, len(t.order))
	for _, key := range t.order {
		r := *t.byKey[key]
		r.Rate, r.Baseline = median(t.rates[key]), median(t.baselines[key])
		rows = append(rows, r)
	}
	return rows
}

// median is the middle value, or the mean of the two middle ones.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(values))
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// pgbenchName names the baseline of most rows.
const pgbenchName = "pgbench INSERT"

// Pgbench runs pgbench with a script that inserts one event-shaped row per transaction into a
// table with a bigserial key and a unique (stream, version), and returns its transactions/s.
func Pgbench(ctx context.Context, binary, databaseURL string, clients int, d time.Duration) (float64, error) {
	setup := `DROP TABLE IF EXISTS bench_insert;
CREATE TABLE bench_insert (
  position bigserial PRIMARY KEY,
  stream_id text NOT NULL,
  stream_version bigint NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  event_type text NOT NULL,
  data json NOT NULL,
  metadata json NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, stream_version));`
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return 0, fmt.Errorf("pgbench setup: connect: %w", err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, setup); err != nil {
		return 0, fmt.Errorf("pgbench setup: %w", err)
	}
	dir, err := os.MkdirTemp("", "helpstream-bench")
	if err != nil {
		return 0, fmt.Errorf("pgbench script dir: %w", err)
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "insert.sql")
	body := `INSERT INTO bench_insert (stream_id, stream_version, event_id, event_type, data, metadata) VALUES ('request-' || gen_random_uuid(), 0, gen_random_uuid(), 'request.message_sent.v1', '{"message_id":"4f8a","from":"customer","body":"Hello, my printer is on fire"}', '{"actor":"customer","occurred_at":"2026-11-25T12:00:00Z"}');` + "\n"
	if err := os.WriteFile(script, []byte(body), 0o600); err != nil {
		return 0, fmt.Errorf("pgbench script: %w", err)
	}
	threads := min(clients, 2)
	cmd := exec.CommandContext(ctx, binary, "-n", "-f", script, "-c", strconv.Itoa(clients), "-j", strconv.Itoa(threads),
		"-T", strconv.Itoa(int(d.Seconds())), databaseURL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("run pgbench: %w: %s", err, out.String())
	}
	m := tpsLine.FindSubmatch(out.Bytes())
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps line: %s", out.String())
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+)`)

// Appends runs writers that each append one event at a time to their own stream with the
// exact expected version, and returns events/s.
func Appends(ctx context.Context, store eventlog.Store, writers int, d time.Duration) (float64, error) {
	return measure(ctx, writers, d, func(ctx context.Context, writer int, count *atomic.Int64) error {
		stream := "bench-" + uuid.NewString()
		version := int64(-1)
		data := []byte(`{"message_id":"4f8a","from":"customer","body":"Hello, my printer is on fire"}`)
		for ctx.Err() == nil {
			_, err := store.Append(ctx, stream, eventlog.Exactly(version), eventlog.EventData{
				ID: uuid.New(), Type: "request.message_sent.v1", Data: data,
				Metadata: eventlog.Metadata{Actor: "customer", OccurredAt: time.Now().UTC()},
			})
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("append: %w", err)
			}
			version++
			count.Add(1)
		}
		return nil
	})
}

// Commands runs writers through the request lifecycle with the application layer: each
// submits a request, assigns it, joins, sends ten messages and closes it, then starts over,
// so streams stay the size of real ones. It returns commands/s.
func Commands(ctx context.Context, a *app.App, writers int, d time.Duration) (float64, error) {
	companyID, portalID, techs, _, err := benchCompany(context.WithoutCancel(ctx), a, nil, writers)
	if err != nil {
		return 0, err
	}
	return measure(ctx, writers, d, func(ctx context.Context, writer int, count *atomic.Int64) error {
		tech := app.Meta{Actor: app.Actor{Kind: "technician", ID: techs[writer]}}
		for ctx.Err() == nil {
			requestID := uuid.New()
			customer := app.Meta{Actor: app.Actor{Kind: "customer", ID: requestID}}
			steps := []func() (app.Result, error){
				func() (app.Result, error) {
					return a.SubmitRequest(ctx, customer, app.SubmitRequest{
						RequestID: requestID, PortalID: portalID, CompanyID: companyID,
						Customer:    request.Customer{Name: "Ada", Email: "ada@example.com"},
						Description: "My printer is on fire", Source: request.Source{Platform: request.Windows},
					})
				},
				func() (app.Result, error) { return a.AssignToMe(ctx, tech, requestID) },
				func() (app.Result, error) { return a.JoinChat(ctx, tech, requestID) },
			}
			for i := range 10 {
				steps = append(steps, func() (app.Result, error) {
					if i%2 == 0 {
						return a.SendCustomerMessage(ctx, customer, requestID, uuid.New(), "Still on fire")
					}
					return a.SendTechnicianMessage(ctx, tech, requestID, uuid.New(), "Have you tried water?")
				})
			}
			steps = append(steps, func() (app.Result, error) { return a.Close(ctx, tech, requestID) })
			for _, step := range steps {
				if _, err := step(); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return fmt.Errorf("command: %w", err)
				}
				count.Add(1)
			}
		}
		return nil
	})
}

// measure runs work on writers goroutines for d after a short warm-up and returns the count
// per second of the measured part.
func measure(ctx context.Context, writers int, d time.Duration, work func(ctx context.Context, writer int, count *atomic.Int64) error) (float64, error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var count atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			if err := work(runCtx, w, &count); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	warmup := min(d/5, 2*time.Second)
	select {
	case <-time.After(warmup):
	case <-runCtx.Done():
	}
	start, startCount := time.Now(), count.Load()
	select {
	case <-time.After(d):
	case <-runCtx.Done():
	}
	elapsed, done := time.Since(start), count.Load()-startCount
	cancel()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if elapsed <= 0 {
		return 0, errors.New("measured nothing")
	}
	return float64(done) / elapsed.Seconds(), nil
}

// waitReadable waits until ReadAll returns the log up to head: the log is read only below the
// oldest transaction open on the server, in any database, and under a parallel test run that
// may be another test's for a while.
func waitReadable(ctx context.Context, store *pgstore.Store, head eventlog.Position) error {
	for {
		got, err := store.Head(ctx)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		if got.Compare(head) >= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: the seed is not readable yet: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// positiveOr sets *v to def unless it is positive: a measurement's zero or negative setting
// asks for its default.
func positiveOr[T int | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
