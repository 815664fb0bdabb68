package bench

// The projections benchmark (design §7, issue 3 item 8), in one run on a scratch database:
//
//  1. Seed: N requests written through the PostgreSQL event store's bulk path (AppendStreams),
//     every event a real domain event decided by the aggregates, encoded by the codecs, with
//     metadata and a sealed hash chain. A request's events are spread through the log as they
//     would be in production: its assignment, its message and its closing land in later
//     transactions than its submission, behind thousands of other requests' events, so that a
//     rebuild folds them into rows it has already written.
//  2. Rebuild every read model (projections.Rebuild), then load the rows it produced into the
//     same tables, created empty by the projection's Schema, with COPY: the bar compares the
//     two times.
//  3. Projection lag under a steady command rate, with a projections.Runner.
//  4. List query latency on the N requests, every view, sort and direction, first page and a
//     page reached by cursor, for a technician with every company and one with three.

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/readmodels"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/projections"
	projdirectory "github.com/helpstream/helpstream/projections/directory"
	"github.com/helpstream/helpstream/projections/requestlist"
)

// ProjectionsConfig says what the projections benchmark measures. Zero fields take defaults.
type ProjectionsConfig struct {
	// Pool is a connection pool on a scratch database, migrated, with room for the commands
	// in flight at CommandRate, the runner's batches and the waits (40 is plenty).
	Pool *pgxpool.Pool
	// Store is the event store on that database.
	Store *pgstore.Store
	// App runs the commands of the lag measurement on Store.
	App *app.App
	// Projections are the read models to rebuild and run; the request list must be one of
	// them (the list queries read it).
	Projections []projections.Projection

	// Requests is how many requests to seed; 1,000,000 when zero.
	Requests int
	// Companies and Technicians seeded; 20 and 50 when zero.
	Companies, Technicians int
	// SeedWriters is how many transactions write the seed at once; 2 when zero.
	SeedWriters int
	// SeedWindow is how many requests one seeding transaction submits (it also carries the
	// later events of earlier windows); 2500 when zero.
	SeedWindow int
	// CommandRates are the steady rates the lag is measured at, one after the other,
	// commands/s; {500} when empty.
	CommandRates []float64
	// LagDuration is how long the lag is measured, after a warm-up of 2 s; 20 s when zero.
	LagDuration time.Duration
	// RebuildLagRate is the command rate of the last phase: the lag of the other read models
	// while the request list is rebuilt beside them, commands/s; 200 when zero, negative
	// leaves the phase out.
	RebuildLagRate float64
	// lagUntil, when set, ends a lag measurement when it is closed instead of after
	// LagDuration.
	lagUntil <-chan struct{}
	// LagWaitEach makes every command wait for its position with runner.WaitFor, as a
	// read-your-writes query does; by default one observer waits for all of them.
	LagWaitEach bool
	// Samples is how many times each list query is timed; 100 when zero.
	Samples int
	// PageSize is the list page; 50 (the API's default) when zero.
	PageSize int
	// RandomSeed makes the seeded data reproducible; 1 when zero.
	RandomSeed uint64
	// Logger receives the projection runtime's logs; discarded when nil.
	Logger *slog.Logger
}

func (c *ProjectionsConfig) setDefaults() {
	positiveOr(&c.Requests, 1_000_000)
	positiveOr(&c.Companies, 20)
	positiveOr(&c.Technicians, 50)
	positiveOr(&c.SeedWriters, 2)
	positiveOr(&c.SeedWindow, 2500)
	positiveOr(&c.Samples, 100)
	positiveOr(&c.PageSize, 50)
	if len(c.CommandRates) == 0 {
		c.CommandRates = []float64{LagBarRate}
	}
	positiveOr(&c.LagDuration, 20*time.Second)
	c.RebuildLagRate = cmp.Or(c.RebuildLagRate, 200) // negative leaves the phase out
	c.RandomSeed = cmp.Or(c.RandomSeed, 1)
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	c.Technicians = max(c.Technicians, 2)
	c.Companies = max(c.Companies, 3)
}

// ProjectionsReport is what the projections benchmark measured.
type ProjectionsReport struct {
	Seed     SeedStats
	LogRead  LogReadStats
	Rebuilds []RebuildRow
	Lags     []LagStats
	// CommandsAlone is the highest rate's commands with no read model to wait for (a
	// runner with no projection): what the machine gives the commands themselves.
	CommandsAlone LagStats
	Lists         []ListRow
	// RebuildLag is the lag of the other read models while the request list is rebuilt
	// beside them (RebuildLagRate), and RebuildBeside that rebuild.
	RebuildLag    LagStats
	RebuildBeside RebuildRow
	// Load holds /proc/loadavg at the start and after each phase.
	Load []LoadSample
}

// SeedStats describe the seeding.
type SeedStats struct {
	Requests, New, Active, Completed int
	Events                           int64
	Transactions                     int
	Duration                         time.Duration
}

// Rate is events/s.
func (s SeedStats) Rate() float64 { return float64(s.Events) / s.Duration.Seconds() }

// LogReadStats time one read of the whole log in the rebuild's pages, applying nothing: the
// floor under every rebuild.
type LogReadStats struct {
	Events   int64
	Duration time.Duration
}

// RebuildRow is one read model's rebuild beside the COPY of the rows it produced.
type RebuildRow struct {
	Name    string
	Events  int64
	Rows    int64 // rows of all its tables
	Bytes   int64 // their size in COPY's binary format
	Rebuild time.Duration
	Copy    time.Duration
	// Bar is the least acceptable Copy/Rebuild; 0 when the bar does not apply (a read model
	// with a handful of rows, whose rebuild is the read of the log).
	Bar float64
}

// EventsPerSecond is the rebuild's rate in events of the log.
func (r RebuildRow) EventsPerSecond() float64 { return float64(r.Events) / r.Rebuild.Seconds() }

// Ratio is COPY time over rebuild time: 1 would be a rebuild as fast as loading its result.
func (r RebuildRow) Ratio() float64 { return r.Copy.Seconds() / r.Rebuild.Seconds() }

// Pass reports whether the row meets its bar (always, when none applies).
func (r RebuildRow) Pass() bool { return r.Bar == 0 || r.Ratio() >= r.Bar }

// LagStats describe the projection lag under a steady command rate: for each command, from
// its append returning to the runner's checkpoint of every read model reaching its position.
type LagStats struct {
	Target, Achieved       float64 // commands/s
	Commands               int     // measured, succeeded
	Errors                 int
	Skipped                int // commands not issued: too many in flight
	TimedOut               int // writes not reached after 10 s
	P50, P95, P99, Max     time.Duration
	CommandP50, CommandP99 time.Duration // the commands themselves
	Duration               time.Duration
	// WaitEach says every command waited for its own position (runner.WaitFor per command),
	// rather than one observer for all.
	WaitEach bool
}

// Pass reports whether the lag meets the bar: p99 below 100 ms, at the rate asked.
func (l LagStats) Pass() bool {
	return l.Commands > 0 && l.TimedOut == 0 && l.P99 < LagBar && l.Achieved >= 0.95*l.Target
}

// RebuildLagBar is issue 11's bar on the p99 lag of the live read models while another one is
// rebuilt beside them.
const RebuildLagBar = time.Second

// PassDuringRebuild reports whether the lag during a rebuild meets RebuildLagBar.
func (l LagStats) PassDuringRebuild() bool {
	return l.Commands > 0 && l.TimedOut == 0 && l.P99 < RebuildLagBar && l.Achieved >= 0.95*l.Target
}

// BarApplies reports whether the design's bar is about this rate (500 commands/s or more).
func (l LagStats) BarApplies() bool { return l.Target >= LagBarRate }

// LagBar is design §7's bar on the projection lag's p99, at LagBarRate commands/s.
const (
	LagBar     = 100 * time.Millisecond
	LagBarRate = 500
)

// ListBar is design §7's bar on the list query's p99.
const ListBar = 10 * time.Millisecond

// ListRow is one list query timed Samples times.
type ListRow struct {
	Caller     string
	View       app.View
	Sort       app.SortColumn
	Descending bool
	Page       string // "first" or "cursor"
	Samples    int
	P50, P99   time.Duration
	Max        time.Duration
	// Slowest describes the slowest sample of a cursor page: the cursor it started from, so
	// that its query can be looked at again (EXPLAIN) on a kept database.
	Slowest string
}

// Pass reports whether the row meets the bar.
func (r ListRow) Pass() bool { return r.Samples > 0 && r.P99 < ListBar }

// LoadSample is how busy the machine and the PostgreSQL cluster were at a point of the run.
// Others' sessions count: on a shared cluster every DROP DATABASE forces a checkpoint, after
// which the first change of every page writes its full image to the WAL.
type LoadSample struct {
	After string
	Load  string // the three figures of /proc/loadavg
	// Checkpoints counts the cluster's checkpoints so far (timed and requested); WAL is the
	// cluster's WAL position in bytes.
	Checkpoints int64
	WAL         int64
}

// RunProjections runs the four measurements and reports them; progress goes to progress.
func RunProjections(ctx context.Context, cfg ProjectionsConfig, progress io.Writer) (ProjectionsReport, error) {
	cfg.setDefaults()
	var rep ProjectionsReport
	if cfg.Pool == nil || cfg.Store == nil || cfg.App == nil {
		return rep, errors.New("projections benchmark: Pool, Store and App are required")
	}
	if !slices.ContainsFunc(cfg.Projections, func(p projections.Projection) bool { return p.Name() == requestlist.Name }) {
		return rep, errors.New("projections benchmark: the request list is not among the projections")
	}
	load := func(after string) {
		ls := LoadSample{After: after, Load: loadAverage()}
		_ = cfg.Pool.QueryRow(ctx, `SELECT checkpoints_timed + checkpoints_req, (pg_current_wal_lsn() - '0/0')::bigint FROM pg_stat_bgwriter`).
			Scan(&ls.Checkpoints, &ls.WAL)
		if n := len(rep.Load); n > 0 {
			prev := rep.Load[n-1]
			fmt.Fprintf(progress, "load average %s after %s; the cluster meanwhile: %d checkpoints, %d MB of WAL\n",
				ls.Load, after, ls.Checkpoints-prev.Checkpoints, (ls.WAL-prev.WAL)>>20)
		} else {
			fmt.Fprintf(progress, "load average %s at the start\n", ls.Load)
		}
		rep.Load = append(rep.Load, ls)
	}
	load("start")

	w := newWorld(cfg)
	fmt.Fprintf(progress, "seeding %d requests over %d companies and %d technicians, %d writers…\n",
		cfg.Requests, cfg.Companies, cfg.Technicians, cfg.SeedWriters)
	seed, last, err := w.seed(ctx, cfg, progress)
	rep.Seed = seed
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "seeded %d events in %s: %.0f events/s\n", seed.Events, seed.Duration.Round(time.Millisecond), seed.Rate())
	load("seeding")

	// A database that has been running has vacuumed its log: hint bits set, statistics
	// gathered. Without this the first reader of the fresh rows pays for it, and autovacuum
	// would do it in the middle of the rebuilds.
	t0 := time.Now()
	if _, err := cfg.Pool.Exec(ctx, "VACUUM (ANALYZE) events"); err != nil {
		return rep, fmt.Errorf("vacuum the log: %w", err)
	}
	fmt.Fprintf(progress, "VACUUM (ANALYZE) events: %s\n", time.Since(t0).Round(time.Millisecond))

	if err := waitReadable(ctx, cfg.Store, last); err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "reading the whole log in pages of %d, applying nothing…\n", projections.DefaultCatchUpBatch)
	if rep.LogRead, err = readLog(ctx, cfg.Store); err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "read %d events in %s: %.0f events/s\n", rep.LogRead.Events, rep.LogRead.Duration.Round(time.Millisecond),
		float64(rep.LogRead.Events)/rep.LogRead.Duration.Seconds())

	for _, p := range cfg.Projections {
		fmt.Fprintf(progress, "rebuilding %s…\n", p.Name())
		res, err := projections.Rebuild(ctx, cfg.Pool, cfg.Store, p, projections.RebuildOptions{Logger: cfg.Logger})
		if err != nil {
			return rep, err
		}
		row := RebuildRow{Name: p.Name(), Events: res.Events, Rebuild: res.Duration}
		fmt.Fprintf(progress, "rebuilt %s: %d events in %s (%.0f events/s); COPY of its rows…\n",
			p.Name(), res.Events, res.Duration.Round(time.Millisecond), row.EventsPerSecond())
		if row.Rows, row.Bytes, row.Copy, err = copyBaseline(ctx, cfg.Pool, p); err != nil {
			return rep, err
		}
		// The bar is about producing rows. The directory folds the log into a handful of rows
		// (companies, portals, technicians, access), skipping every request event: its rebuild
		// is the read of the log, shown beside it instead.
		if p.Name() != projdirectory.Name {
			row.Bar = 0.50
		}
		fmt.Fprintf(progress, "COPY of %d rows (%d MB) into %s's tables: %s, ratio %.0f%%\n",
			row.Rows, row.Bytes>>20, p.Name(), row.Copy.Round(time.Millisecond), 100*row.Ratio())
		rep.Rebuilds = append(rep.Rebuilds, row)
	}
	load("rebuilds")

	// The swapped-in tables have no statistics yet; autovacuum would gather them within a
	// minute or so. The list is measured in that steady state.
	if err := analyze(ctx, cfg.Pool, cfg.Projections); err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "list queries: 4 views × 7 sorts × 2 directions × first page and cursor page × 2 callers, %d samples each…\n", cfg.Samples)
	if rep.Lists, err = w.measureLists(ctx, cfg); err != nil {
		return rep, err
	}
	load("list queries")

	top := slices.Max(cfg.CommandRates)
	fmt.Fprintf(progress, "commands alone (no read model) at %.0f commands/s for %s…\n", top, cfg.LagDuration)
	alone := cfg
	alone.Projections = nil
	if rep.CommandsAlone, err = w.measureLag(ctx, alone, top, last); err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "  %.0f commands/s achieved, command p50 %s, p99 %s\n", rep.CommandsAlone.Achieved,
		rep.CommandsAlone.CommandP50.Round(time.Millisecond), rep.CommandsAlone.CommandP99.Round(time.Millisecond))
	for _, rate := range cfg.CommandRates {
		fmt.Fprintf(progress, "projection lag at %.0f commands/s for %s (after 2 s of warm-up)…\n", rate, cfg.LagDuration)
		lag, err := w.measureLag(ctx, cfg, rate, last)
		if err != nil {
			return rep, err
		}
		fmt.Fprintf(progress, "  %.0f commands/s achieved, lag p50 %s, p99 %s\n", lag.Achieved, lag.P50.Round(time.Millisecond), lag.P99.Round(time.Millisecond))
		rep.Lags = append(rep.Lags, lag)
	}
	load("lag")

	if cfg.RebuildLagRate > 0 {
		if err := w.measureLagDuringRebuild(ctx, cfg, last, &rep, progress); err != nil {
			return rep, err
		}
		load("rebuild beside live read models")
	}
	return rep, nil
}

// measureLagDuringRebuild rebuilds the request list (as a schema change does, beside its live
// tables) while commands run at RebuildLagRate, and measures the lag of the other read models
// meanwhile: the rebuild's long transactions and DDL must not hold them back.
func (w *world) measureLagDuringRebuild(ctx context.Context, cfg ProjectionsConfig, seeded eventlog.Position, rep *ProjectionsReport, progress io.Writer) error {
	var list projections.Projection
	others := cfg
	others.Projections = nil
	for _, p := range cfg.Projections {
		if p.Name() == requestlist.Name {
			list = p
		} else {
			others.Projections = append(others.Projections, p)
		}
	}
	fmt.Fprintf(progress, "lag of the other read models at %.0f commands/s while %s is rebuilt beside them…\n", cfg.RebuildLagRate, list.Name())
	rebuilt := make(chan struct{})
	others.lagUntil = rebuilt
	var res projections.RebuildResult
	var rebuildErr error
	go func() {
		defer close(rebuilt)
		time.Sleep(2 * time.Second) // the lag's warm-up
		res, rebuildErr = projections.Rebuild(ctx, cfg.Pool, cfg.Store, list, projections.RebuildOptions{Logger: cfg.Logger})
	}()
	lag, err := w.measureLag(ctx, others, cfg.RebuildLagRate, seeded)
	<-rebuilt
	if err != nil {
		return err
	}
	if rebuildErr != nil {
		return rebuildErr
	}
	rep.RebuildLag = lag
	rep.RebuildBeside = RebuildRow{Name: list.Name(), Events: res.Events, Rebuild: res.Duration}
	fmt.Fprintf(progress, "  rebuilt %s in %s; meanwhile %.0f commands/s achieved, lag p50 %s, p99 %s, max %s\n", list.Name(),
		res.Duration.Round(time.Millisecond), lag.Achieved, lag.P50.Round(time.Millisecond), lag.P99.Round(time.Millisecond), lag.Max.Round(time.Millisecond))
	return nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// --- the seeded world -------------------------------------------------------------------------

type seedCompany struct {
	id, portal uuid.UUID
	name       string
	techs      []*directory.Technician // those with access
}

type world struct {
	companies  []seedCompany
	cumulative []float64 // cumulative weights of the companies
	techs      []*directory.Technician
	// allCaller has access to every company; threeCaller to the three smallest.
	allCaller, threeCaller *directory.Technician
	// base is when the first seeded request was submitted, end a little after the last.
	base, end time.Time
	step      time.Duration
	requests  *eventlog.Codec
	dir       *eventlog.Codec
}

var firstNames = []string{"Ada", "Alan", "Barbara", "Beatrice", "Carl", "Chloé", "Dmitri", "Dolores", "Edsger", "Elena",
	"Frances", "Grace", "Hedy", "Ivan", "Jean", "Joan", "Karen", "Ken", "Linus", "Margaret", "Niklaus", "Olga", "Pavel",
	"Radia", "Rosa", "Sophie", "Tim", "Ursula", "Vint", "Wendy", "Xavier", "Yukihiro", "Zoë", "Øystein", "Ángel", "Søren"}

var lastNames = []string{"Lovelace", "Turing", "Liskov", "Hopper", "Dijkstra", "Allen", "Lamarr", "Sutherland", "Wirth",
	"Perlman", "Hamilton", "Thompson", "Ritchie", "Torvalds", "Berners-Lee", "Cerf", "Kahn", "Knuth", "Backus", "McCarthy",
	"Kernighan", "Pike", "Matsumoto", "van Rossum", "Stroustrup", "Gosling", "Hejlsberg", "Wilson", "Spärck Jones", "Goldberg"}

var companyNames = []string{"Acme Logistics", "Blue Harbor Dental", "Cobalt Legal", "Delta Freight", "Evergreen Schools",
	"Fjord Insurance", "Granite Builders", "Helios Energy", "Iris Opticians", "Juniper Bakery", "Kestrel Aviation",
	"Lumen Studios", "Meridian Clinic", "Northwind Traders", "Orchid Hotels", "Pioneer Farms", "Quartz Accounting",
	"Riverbend Council", "Summit Outdoor", "Tundra Brewing", "Umber Architects", "Vertex Media", "Willow Vets", "Zenith Realty"}

var problems = []string{"printer shows a paper jam but there is no paper in it", "VPN disconnects every few minutes",
	"cannot log in to the accounting software after the update", "laptop is very slow since this morning",
	"e-mail stuck in the outbox", "screen flickers when connected to the docking station",
	"shared drive asks for a password again and again", "phone does not sync the calendar",
	"Wi-Fi drops in the meeting room", "need a new user account for a colleague starting Monday",
	"antivirus says a file is infected", "the scanner saves empty PDFs", "Teams camera shows a black image",
	"keyboard types the wrong characters", "backup failed last night with error 0x80070005"}

var messages = []string{"Thank you, it works again!", "Restarting fixed it, thanks.", "Still broken after the restart.",
	"I will try that and come back to you.", "Great, all good now."}

func newWorld(cfg ProjectionsConfig) *world {
	rng := rand.New(rand.NewPCG(cfg.RandomSeed, 0))
	w := &world{step: 30 * time.Second, requests: request.Codec(), dir: directory.Codec()}
	// A year and a bit of requests, ending a day before now.
	w.base = time.Now().UTC().Truncate(time.Hour).Add(-24*time.Hour - time.Duration(cfg.Requests)*w.step)
	w.end = w.base.Add(time.Duration(cfg.Requests)*w.step + 4*time.Hour)
	total := 0.0
	for i := range cfg.Companies {
		name := companyNames[i%len(companyNames)]
		if i >= len(companyNames) {
			name = fmt.Sprintf("%s %d", name, i/len(companyNames)+1)
		}
		w.companies = append(w.companies, seedCompany{id: uuid.New(), portal: uuid.New(), name: name})
		// Sizes fall off like 1/rank^0.8: the largest company holds about a fifth of the
		// requests, the smallest about 2%.
		total += 1 / math.Pow(float64(i+1), 0.8)
		w.cumulative = append(w.cumulative, total)
	}
	for i := range w.cumulative {
		w.cumulative[i] /= total
	}
	used := map[string]bool{}
	for i := range cfg.Technicians {
		var name string
		for name == "" || used[name] {
			name = firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))]
		}
		used[name] = true
		email := fmt.Sprintf("tech%d@helpdesk.example", i)
		t, err := directory.RegisterTechnician(uuid.New(), name, email)
		if err != nil {
			panic(err) // the names above are valid
		}
		w.techs = append(w.techs, t)
	}
	w.allCaller, w.threeCaller = w.techs[0], w.techs[1]
	for ci := range w.companies {
		for ti, t := range w.techs {
			if t == w.threeCaller && ci < len(w.companies)-3 {
				continue
			}
			_ = t.GrantAccess(w.companies[ci].id)
			w.companies[ci].techs = append(w.companies[ci].techs, w.techs[ti])
		}
	}
	for _, t := range w.techs {
		_ = t.SetAvailability(directory.Available)
	}
	return w
}

func (w *world) pickCompany(rng *rand.Rand) int {
	u := rng.Float64()
	i, _ := slices.BinarySearch(w.cumulative, u)
	return min(i, len(w.companies)-1)
}

// seal encodes a decision's events with their metadata and seals them after (version, hash).
func seal(codec *eventlog.Codec, stream string, version int64, hash string, changes []eventlog.Event, meta []eventlog.Metadata) ([]eventlog.EventData, error) {
	data := make([]eventlog.EventData, len(changes))
	for i, e := range changes {
		typ, payload, err := codec.Encode(e)
		if err != nil {
			return nil, err
		}
		data[i] = eventlog.EventData{ID: uuid.New(), Type: typ, Data: payload, Metadata: meta[i]}
	}
	eventlog.Seal(stream, version, hash, data)
	return data, nil
}

// seedRequest is a request being seeded: its aggregate, where its stream stands and its fate.
type seedRequest struct {
	r        *request.Request
	stream   string
	actor    string // the customer, "customer:<id>"
	fate     request.Status
	tech     *directory.Technician
	version  int64
	hash     string
	written  int // changes of r already written
	at       time.Time
	pending  []eventlog.EventData
	expected eventlog.ExpectedVersion
}

// Phases of a request's life; phase k is written k windows after its submission.
const (
	phaseSubmit = iota
	phaseAssign
	phaseMessage
	phaseClose
	phases
)

func (w *world) seed(ctx context.Context, cfg ProjectionsConfig, progress io.Writer) (SeedStats, eventlog.Position, error) {
	started := time.Now()
	var stats SeedStats
	var last eventlog.Position
	// The directory first: companies with a portal, technicians with access, Available.
	var parts []pgstore.StreamAppend
	adminMeta := func(n int, at time.Time) []eventlog.Metadata {
		m := make([]eventlog.Metadata, n)
		for i := range m {
			m[i] = eventlog.Metadata{Actor: app.Admin.String(), OccurredAt: at, CorrelationID: uuid.NewString()}
		}
		return m
	}
	at := w.base.Add(-time.Hour)
	for _, c := range w.companies {
		co, err := directory.CreateCompany(c.id, c.name)
		if err != nil {
			return stats, last, err
		}
		if err := co.AddPortal(c.portal, c.name+" portal"); err != nil {
			return stats, last, err
		}
		stream := directory.CompanyStream(c.id)
		data, err := seal(w.dir, stream, -1, "", co.Changes(), adminMeta(len(co.Changes()), at))
		if err != nil {
			return stats, last, err
		}
		parts = append(parts, pgstore.StreamAppend{StreamID: stream, Expected: eventlog.NoStream(), Events: data})
	}
	for _, t := range w.techs {
		stream := directory.TechnicianStream(t.ID())
		data, err := seal(w.dir, stream, -1, "", t.Changes(), adminMeta(len(t.Changes()), at))
		if err != nil {
			return stats, last, err
		}
		parts = append(parts, pgstore.StreamAppend{StreamID: stream, Expected: eventlog.NoStream(), Events: data})
	}
	results, err := cfg.Store.AppendStreams(ctx, parts)
	if err != nil {
		return stats, last, fmt.Errorf("seed the directory: %w", err)
	}
	for i, p := range parts {
		stats.Events += int64(len(p.Events))
		last = maxPosition(last, results[i].Position)
	}
	stats.Transactions++

	// Then the requests, in windows of SeedWindow requests. Writer lane j takes the windows
	// j, j+L, j+2L…; each of its transactions submits one window and moves the three windows
	// before it one phase on (assign, customer message, close), so a request's events are
	// spread over four transactions among thousands of other requests' events.
	windows := (cfg.Requests + cfg.SeedWindow - 1) / cfg.SeedWindow
	var mu sync.Mutex
	var requests, events atomic.Int64
	events.Store(stats.Events)
	done := make(chan struct{})
	go func() {
		ticker := time.NewTicker(15 * time.Second)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				n, e := requests.Load(), events.Load()
				fmt.Fprintf(progress, "  %d/%d requests submitted, %d events, %.0f events/s\n", n, cfg.Requests, e,
					float64(e)/time.Since(started).Seconds())
			}
		}
	}()
	defer close(done)

	lanes := min(cfg.SeedWriters, windows)
	errs := make(chan error, lanes)
	var wg sync.WaitGroup
	for lane := range lanes {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(cfg.RandomSeed, uint64(lane)+1))
			var ring [phases][]*seedRequest // ring[k%phases] is the window submitted k steps ago
			var txs int
			var counts [3]int
			var laneLast eventlog.Position
			for k := 0; ; k++ {
				wi := lane + k*lanes // the window this step submits
				var batch []*seedRequest
				if wi < windows {
					from, to := wi*cfg.SeedWindow, min((wi+1)*cfg.SeedWindow, cfg.Requests)
					window := make([]*seedRequest, 0, to-from)
					for i := from; i < to; i++ {
						sr, err := w.submit(rng, i)
						if err != nil {
							errs <- err
							return
						}
						window = append(window, sr)
						switch sr.fate {
						case request.StatusNew:
							counts[0]++
						case request.StatusActive:
							counts[1]++
						default:
							counts[2]++
						}
					}
					ring[k%phases] = window
					batch = append(batch, window...)
				} else {
					ring[k%phases] = nil
				}
				for phase := phaseAssign; phase < phases; phase++ {
					if k-phase < 0 {
						continue
					}
					for _, sr := range ring[(k-phase)%phases] {
						ok, err := w.advance(rng, sr, phase)
						if err != nil {
							errs <- err
							return
						}
						if ok {
							batch = append(batch, sr)
						}
					}
				}
				if len(batch) == 0 {
					if wi >= windows {
						break
					}
					continue
				}
				parts := make([]pgstore.StreamAppend, len(batch))
				n := 0
				for i, sr := range batch {
					parts[i] = pgstore.StreamAppend{StreamID: sr.stream, Expected: sr.expected, Events: sr.pending}
					n += len(sr.pending)
				}
				results, err := cfg.Store.AppendStreams(ctx, parts)
				if err != nil {
					errs <- fmt.Errorf("seed: %w", err)
					return
				}
				for i, sr := range batch {
					sr.version = results[i].NextExpected
					sr.hash = sr.pending[len(sr.pending)-1].Metadata.Hash
					sr.pending = nil
					laneLast = maxPosition(laneLast, results[i].Position)
				}
				txs++
				events.Add(int64(n))
				if wi < windows {
					requests.Add(int64(len(ring[k%phases])))
				}
			}
			mu.Lock()
			stats.Transactions += txs
			stats.New += counts[0]
			stats.Active += counts[1]
			stats.Completed += counts[2]
			last = maxPosition(last, laneLast)
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return stats, last, err
	}
	stats.Requests = int(requests.Load())
	stats.Events = events.Load()
	stats.Duration = time.Since(started)
	return stats, last, nil
}

func maxPosition(a, b eventlog.Position) eventlog.Position {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}

// submit decides request i's submission and draws its fate: about a third stay New, a third
// are assigned (Active), a third are assigned, get a message and are closed (Completed).
func (w *world) submit(rng *rand.Rand, i int) (*seedRequest, error) {
	c := w.companies[w.pickCompany(rng)]
	first, lastName := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	name := first + " " + lastName
	email := fmt.Sprintf("%s.%s%d@%s.example", asciiLower(first), asciiLower(lastName), rng.IntN(1000), asciiLower(c.name))
	platform := request.Platforms[rng.IntN(len(request.Platforms))]
	id := uuid.New()
	r, err := request.Submit(request.Submission{
		RequestID: id, CompanyID: c.id, PortalID: c.portal,
		Customer:    request.Customer{Name: name, Email: email},
		Description: fmt.Sprintf("Hello, my %s. Ticket from the %s office, floor %d.", problems[rng.IntN(len(problems))], c.name, 1+rng.IntN(9)),
		Source: request.Source{IP: fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254)), Platform: platform,
			OS: string(platform), OSVersion: fmt.Sprintf("%d.%d", 10+rng.IntN(5), rng.IntN(10)), Browser: "Firefox 133"},
	})
	if err != nil {
		return nil, fmt.Errorf("seed: submit: %w", err)
	}
	sr := &seedRequest{
		r: r, stream: request.Stream(id), actor: app.Actor{Kind: "customer", ID: id}.String(), version: -1,
		fate: []request.Status{request.StatusNew, request.StatusActive, request.StatusCompleted}[rng.IntN(3)],
		at:   w.base.Add(time.Duration(i)*w.step + time.Duration(rng.Int64N(int64(w.step)))).Truncate(time.Microsecond),
	}
	if sr.fate != request.StatusNew {
		techs := c.techs
		sr.tech = techs[rng.IntN(len(techs))]
	}
	return sr, sr.prepare(w.requests, sr.actor)
}

// advance decides the request's next phase, if its fate has one, and prepares its events.
func (w *world) advance(rng *rand.Rand, sr *seedRequest, phase int) (bool, error) {
	var err error
	actor := app.Actor{Kind: "technician", ID: uuid.Nil}
	if sr.tech != nil {
		actor.ID = sr.tech.ID()
	}
	switch {
	case phase == phaseAssign && sr.fate != request.StatusNew:
		sr.at = sr.at.Add(time.Minute + time.Duration(rng.Int64N(int64(59*time.Minute))))
		err = sr.r.Assign(sr.tech)
		if err == nil {
			err = sr.prepare(w.requests, actor.String())
		}
	case phase == phaseMessage && sr.fate == request.StatusCompleted:
		sr.at = sr.at.Add(time.Minute + time.Duration(rng.Int64N(int64(29*time.Minute))))
		err = sr.r.SendCustomerMessage(uuid.New(), messages[rng.IntN(len(messages))])
		if err == nil {
			err = sr.prepare(w.requests, sr.actor)
		}
	case phase == phaseClose && sr.fate == request.StatusCompleted:
		sr.at = sr.at.Add(5*time.Minute + time.Duration(rng.Int64N(int64(115*time.Minute))))
		err = sr.r.Close(sr.tech)
		if err == nil {
			err = sr.prepare(w.requests, actor.String())
		}
	default:
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("seed: %s phase %d: %w", sr.stream, phase, err)
	}
	return true, nil
}

// prepare encodes and seals the aggregate's changes not written yet, as one command by actor.
func (sr *seedRequest) prepare(codec *eventlog.Codec, actor string) error {
	changes := sr.r.Changes()[sr.written:]
	meta := make([]eventlog.Metadata, len(changes))
	correlation := uuid.NewString()
	for i := range meta {
		meta[i] = eventlog.Metadata{Actor: actor, OccurredAt: sr.at, CorrelationID: correlation}
	}
	data, err := seal(codec, sr.stream, sr.version, sr.hash, changes, meta)
	if err != nil {
		return err
	}
	sr.pending, sr.expected, sr.written = data, eventlog.Exactly(sr.version), len(sr.r.Changes())
	return nil
}

func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// --- rebuild beside COPY ----------------------------------------------------------------------

func readLog(ctx context.Context, store eventlog.Store) (LogReadStats, error) {
	started := time.Now()
	var stats LogReadStats
	pos := eventlog.Start()
	for {
		page, err := store.ReadAll(ctx, pos, eventlog.ReadOptions{Limit: projections.DefaultCatchUpBatch})
		if err != nil {
			return stats, fmt.Errorf("read the log: %w", err)
		}
		stats.Events += int64(len(page))
		if len(page) > 0 {
			pos = page[len(page)-1].Position
		}
		if len(page) < projections.DefaultCatchUpBatch {
			break
		}
	}
	stats.Duration = time.Since(started)
	return stats, nil
}

// copyBaseline copies the projection's live tables out (binary COPY, into memory), creates the
// same tables empty with its Schema in a scratch schema, and times the COPY of those rows into
// them, in one transaction, indexes and all. It returns the rows, their size and that time.
func copyBaseline(ctx context.Context, pool *pgxpool.Pool, p projections.Projection) (rows, size int64, took time.Duration, err error) {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return 0, 0, 0, fmt.Errorf("COPY baseline: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tables := p.Tables()
	dumps := make([][]byte, len(tables))
	for i, t := range tables {
		var buf bytes.Buffer
		tag, err := conn.PgConn().CopyTo(ctx, &buf, "COPY public."+pgx.Identifier{t}.Sanitize()+" TO STDOUT (FORMAT binary)")
		if err != nil {
			return 0, 0, 0, fmt.Errorf("COPY baseline: copy %s out: %w", t, err)
		}
		rows += tag.RowsAffected()
		size += int64(buf.Len())
		dumps[i] = buf.Bytes()
	}
	scratch := pgx.Identifier{"bench_copy_" + p.Name()}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+scratch+" CASCADE; CREATE SCHEMA "+scratch+"; SET search_path = "+scratch+", public"); err != nil {
		return 0, 0, 0, fmt.Errorf("COPY baseline: scratch schema: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP SCHEMA IF EXISTS "+scratch+" CASCADE")
	}()
	if _, err := conn.Exec(ctx, p.Schema()); err != nil {
		return 0, 0, 0, fmt.Errorf("COPY baseline: create %s's tables: %w", p.Name(), err)
	}
	started := time.Now()
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		return 0, 0, 0, err
	}
	for i, t := range tables {
		if _, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(dumps[i]), "COPY "+pgx.Identifier{t}.Sanitize()+" FROM STDIN (FORMAT binary)"); err != nil {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			return 0, 0, 0, fmt.Errorf("COPY baseline: copy into %s: %w", t, err)
		}
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		return 0, 0, 0, err
	}
	return rows, size, time.Since(started), nil
}

func analyze(ctx context.Context, pool *pgxpool.Pool, ps []projections.Projection) error {
	for _, p := range ps {
		for _, t := range p.Tables() {
			if _, err := pool.Exec(ctx, "ANALYZE public."+pgx.Identifier{t}.Sanitize()); err != nil {
				return fmt.Errorf("analyze %s: %w", t, err)
			}
		}
	}
	return nil
}

// --- lag --------------------------------------------------------------------------------------

// liveRequest is a request the lag measurement walks through its life, one command per tick.
type liveRequest struct {
	id      uuid.UUID
	company int
	tech    uuid.UUID
}

func (w *world) measureLag(ctx context.Context, cfg ProjectionsConfig, rate float64, seeded eventlog.Position) (LagStats, error) {
	stats := LagStats{Target: rate}
	runner, err := projections.NewRunner(projections.Config{Pool: cfg.Pool, Store: cfg.Store, Projections: cfg.Projections, Logger: cfg.Logger})
	if err != nil {
		return stats, err
	}
	names := make([]string, len(cfg.Projections))
	for i, p := range cfg.Projections {
		names[i] = p.Name()
	}
	runCtx, stopRunner := context.WithCancel(ctx)
	runnerDone := make(chan struct{})
	go func() {
		defer close(runnerDone)
		_ = runner.Run(runCtx)
	}()
	defer func() {
		stopRunner()
		<-runnerDone
	}()
	if ok, err := runner.WaitFor(ctx, names, seeded, 2*time.Minute); err != nil || !ok {
		return stats, fmt.Errorf("lag: the runner did not reach the seeded log: %v", err)
	}

	var mu sync.Mutex
	var toAssign, toMessage, toClose []liveRequest
	pop := func(q *[]liveRequest) (liveRequest, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(*q) == 0 {
			return liveRequest{}, false
		}
		r := (*q)[0]
		*q = (*q)[1:]
		return r, true
	}
	push := func(q *[]liveRequest, r liveRequest) {
		mu.Lock()
		*q = append(*q, r)
		mu.Unlock()
	}
	rng := rand.New(rand.NewPCG(cfg.RandomSeed, 1000))
	// next picks the tick's command: submit, assign, customer message, close in turn, each on
	// a request the previous step left ready (a submission when none is).
	type command struct {
		run  func(context.Context) (app.Result, error)
		then func()
	}
	// byTechnician is the command do, by the request's technician, after which then runs.
	byTechnician := func(r liveRequest, do func(context.Context, app.Meta, uuid.UUID) (app.Result, error), then func()) command {
		tech := app.Meta{Actor: app.Actor{Kind: "technician", ID: r.tech}}
		return command{run: func(ctx context.Context) (app.Result, error) { return do(ctx, tech, r.id) }, then: then}
	}
	turn := 0
	next := func() command {
		turn++
		var r liveRequest
		var ok bool
		switch turn % 4 {
		case 1:
			r, ok = pop(&toAssign)
			if ok {
				return byTechnician(r, cfg.App.AssignToMe, func() { push(&toMessage, r) })
			}
		case 2:
			r, ok = pop(&toMessage)
			if ok {
				customer := app.Meta{Actor: app.Actor{Kind: "customer", ID: r.id}}
				body := messages[rng.IntN(len(messages))]
				return command{
					run: func(ctx context.Context) (app.Result, error) {
						return cfg.App.SendCustomerMessage(ctx, customer, r.id, uuid.New(), body)
					},
					then: func() { push(&toClose, r) },
				}
			}
		case 3:
			r, ok = pop(&toClose)
			if ok {
				return byTechnician(r, cfg.App.Close, func() {})
			}
		}
		ci := w.pickCompany(rng)
		c := w.companies[ci]
		r = liveRequest{id: uuid.New(), company: ci, tech: c.techs[rng.IntN(len(c.techs))].ID()}
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		sub := app.SubmitRequest{
			RequestID: r.id, PortalID: c.portal, CompanyID: c.id,
			Customer:    request.Customer{Name: first + " " + last, Email: asciiLower(first) + "@" + asciiLower(c.name) + ".example"},
			Description: "Hello, my " + problems[rng.IntN(len(problems))] + ".",
			Source:      request.Source{Platform: request.Platforms[rng.IntN(len(request.Platforms))]},
		}
		customer := app.Meta{Actor: app.Actor{Kind: "customer", ID: r.id}}
		return command{
			run:  func(ctx context.Context) (app.Result, error) { return cfg.App.SubmitRequest(ctx, customer, sub) },
			then: func() { push(&toAssign, r) },
		}
	}

	const warmup = 2 * time.Second
	// Beyond this many commands in flight the machine is past what it can do: more would
	// only queue for connections and thrash; they are counted as not issued instead.
	const maxInFlight = 64
	const waitLimit = 10 * time.Second
	var lags, latencies []time.Duration
	var errCount, timedOut, skipped atomic.Int64
	var firstErr atomic.Value
	record := func(c written, reached time.Time) {
		if !c.measured {
			return
		}
		mu.Lock()
		lags = append(lags, reached.Sub(c.returned))
		latencies = append(latencies, c.latency)
		mu.Unlock()
	}
	// With one observer, commands hand it what they wrote and it waits for the oldest; with
	// WaitEach every command waits itself, as a read-your-writes query does.
	writes := make(chan written, 4*maxInFlight)
	observed := make(chan struct{})
	if cfg.LagWaitEach {
		close(observed)
	} else {
		go func() {
			defer close(observed)
			observe(ctx, runner, names, writes, waitLimit, record, func(c written) {
				if c.measured {
					timedOut.Add(1)
				}
			})
		}()
	}
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(cfg.LagDuration)
	if cfg.lagUntil != nil {
		end = start.Add(24 * time.Hour)
	}
	// Open loop: command i is due at start + i/rate; a dispatcher that falls behind (the
	// machine is shared) issues what is due at once rather than lowering the rate.
	due := func(i int) time.Time {
		return start.Add(time.Duration(float64(i) * float64(time.Second) / rate))
	}
	for i := 0; ctx.Err() == nil; i++ {
		at := due(i)
		if at.After(end) {
			break
		}
		if cfg.lagUntil != nil {
			select {
			case <-cfg.lagUntil:
				end = time.Now()
			default:
			}
			if at.After(end) {
				break
			}
		}
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		measured := !at.Before(measureFrom)
		select {
		case sem <- struct{}{}:
		default:
			if measured {
				skipped.Add(1)
			}
			continue
		}
		cmd := next()
		wg.Go(func() {
			defer func() { <-sem }()
			issued := time.Now()
			res, err := cmd.run(ctx)
			returned := time.Now()
			if err != nil {
				if measured {
					errCount.Add(1)
				}
				firstErr.CompareAndSwap(nil, err)
				return
			}
			cmd.then()
			c := written{pos: res.Position, returned: returned, latency: returned.Sub(issued), measured: measured}
			if !cfg.LagWaitEach {
				writes <- c
				return
			}
			ok, err := runner.WaitFor(ctx, names, res.Position, waitLimit)
			if err != nil || !ok {
				if measured {
					timedOut.Add(1)
				}
				return
			}
			record(c, time.Now())
		})
	}
	wg.Wait()
	close(writes)
	<-observed
	stats.Duration = cfg.LagDuration
	if cfg.lagUntil != nil {
		stats.Duration = end.Sub(measureFrom)
	}
	stats.WaitEach = cfg.LagWaitEach
	stats.Commands = len(lags)
	stats.Errors, stats.TimedOut, stats.Skipped = int(errCount.Load()), int(timedOut.Load()), int(skipped.Load())
	stats.Achieved = float64(stats.Commands) / stats.Duration.Seconds()
	if err, ok := firstErr.Load().(error); ok && stats.Errors > stats.Commands/100 {
		return stats, fmt.Errorf("lag: %d commands failed, the first with: %w", stats.Errors, err)
	}
	stats.P50, stats.P95, stats.P99, stats.Max = percentile(lags, 0.50), percentile(lags, 0.95), percentile(lags, 0.99), percentile(lags, 1)
	stats.CommandP50, stats.CommandP99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
	return stats, nil
}

// written is a command's write on its way to the observer.
type written struct {
	pos      eventlog.Position
	returned time.Time // when the command returned
	latency  time.Duration
	measured bool
}

// observe waits, with the runner, for the oldest position written and not yet reached, and
// records every write as reached when the runner's checkpoints pass it. One waiter, however
// many commands are in flight: the measurement stays out of what it measures. (A Runner's
// WaitFor also reads the checkpoints from the database every 5 ms while it waits, for the
// projections other runners lead; hundreds of waiters at once would load the database.)
func observe(ctx context.Context, runner *projections.Runner, names []string, writes <-chan written, limit time.Duration,
	record func(written, time.Time), timedOut func(written)) {
	var pending []written // by position
	add := func(c written) {
		i, _ := slices.BinarySearchFunc(pending, c.pos, func(p written, pos eventlog.Position) int { return p.pos.Compare(pos) })
		pending = slices.Insert(pending, i, c)
	}
	open := true
	for open || len(pending) > 0 {
		if len(pending) == 0 {
			c, ok := <-writes
			if !ok {
				open = false
				continue
			}
			add(c)
		}
	drain:
		for open {
			select {
			case c, ok := <-writes:
				if !ok {
					open = false
					break drain
				}
				add(c)
			default:
				break drain
			}
		}
		// The runner applies the log in order: once the oldest is reached, the next ones
		// are checked without waiting (its own state, no database read when reached). The
		// timeout is not short: WaitFor's database reads run under it, and a read cut short
		// by its context costs a cancel request, a new backend on the server.
		ok, err := runner.WaitFor(ctx, names, pending[0].pos, 250*time.Millisecond)
		if err != nil {
			return
		}
		if !ok {
			if time.Since(pending[0].returned) > limit {
				timedOut(pending[0])
				pending = pending[1:]
			}
			continue
		}
		reached := time.Now()
		i := 0
		for i < len(pending) {
			if i > 0 {
				if ok, err := runner.WaitFor(ctx, names, pending[i].pos, 0); err != nil || !ok {
					break
				}
			}
			record(pending[i], reached)
			i++
		}
		pending = pending[i:]
	}
}

// percentile returns the q-quantile of ds (nearest rank), sorting ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// --- list queries -----------------------------------------------------------------------------

func (w *world) measureLists(ctx context.Context, cfg ProjectionsConfig) ([]ListRow, error) {
	rng := rand.New(rand.NewPCG(cfg.RandomSeed, 2000))
	conn, err := cfg.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	db := conn.Conn()
	callers := []struct {
		name string
		tech *directory.Technician
	}{
		{fmt.Sprintf("%d companies", len(w.allCaller.Companies())), w.allCaller},
		{fmt.Sprintf("%d companies", len(w.threeCaller.Companies())), w.threeCaller},
	}
	views := []app.View{app.ViewAll, app.ViewNew, app.ViewActive, app.ViewCompleted}
	sorts := []app.SortColumn{app.SortSubmitted, app.SortID, app.SortCustomer, app.SortCompany, app.SortStatus, app.SortAssignee, app.SortLastActivity}
	var rows []ListRow
	for _, caller := range callers {
		for _, view := range views {
			for _, sort := range sorts {
				for _, desc := range []bool{false, true} {
					q := app.RequestListQuery{
						Companies: caller.tech.Companies(), IncludeNew: caller.tech.IsAvailable(),
						View: view, Sort: sort, Descending: desc, Limit: cfg.PageSize,
					}
					// This process holds the seeded world (a million requests' names and keys for
					// the random cursors): a garbage collection of it in the middle of a cell
					// took one or two samples to 10–25 ms, at the same samples run after run (the
					// seed is fixed), while the same queries timed alone never passed 3 ms. Collect
					// before each cell, so that the figures are the queries', not this heap's.
					runtime.GC()
					// First page.
					if _, err := readmodels.ListRequests(ctx, db, q); err != nil { // warm-up
						return rows, fmt.Errorf("list %s/%s: %w", view, sort, err)
					}
					times := make([]time.Duration, 0, cfg.Samples)
					for range cfg.Samples {
						t0 := time.Now()
						if _, err := readmodels.ListRequests(ctx, db, q); err != nil {
							return rows, err
						}
						times = append(times, time.Since(t0))
					}
					rows = append(rows, listRow(caller.name, q, "first", times))
					// A page reached by a cursor the read model issued, from a random point.
					times = times[:0]
					var slowest string
					var slowestTime time.Duration
					for range cfg.Samples {
						after, err := w.randomCursor(ctx, db, rng, q)
						if err != nil {
							return rows, err
						}
						if after == nil {
							continue
						}
						cq := q
						cq.After = after
						t0 := time.Now()
						if _, err := readmodels.ListRequests(ctx, db, cq); err != nil {
							return rows, err
						}
						took := time.Since(t0)
						times = append(times, took)
						if took > slowestTime {
							slowestTime, slowest = took, fmt.Sprintf("after key %q, id %s: %.2f ms", after.Key, after.ID, float64(took.Microseconds())/1000)
						}
					}
					row := listRow(caller.name, q, "cursor", times)
					row.Slowest = slowest
					rows = append(rows, row)
				}
			}
		}
	}
	return rows, nil
}

func listRow(caller string, q app.RequestListQuery, page string, times []time.Duration) ListRow {
	return ListRow{
		Caller: caller, View: q.View, Sort: q.Sort, Descending: q.Descending, Page: page, Samples: len(times),
		P50: percentile(times, 0.5), P99: percentile(times, 0.99), Max: percentile(times, 1),
	}
}

// randomCursor returns the next-page cursor of a page that starts at a random point of the
// sort order (untimed), or nil when a few tries land at the end of the list.
func (w *world) randomCursor(ctx context.Context, db readmodels.Querier, rng *rand.Rand, q app.RequestListQuery) (*app.ListCursor, error) {
	for range 5 {
		start := app.ListCursor{Sort: q.Sort, Descending: q.Descending, ID: uuid.New()}
		switch q.Sort {
		case app.SortSubmitted, app.SortLastActivity:
			t := w.base.Add(time.Duration(rng.Float64() * float64(w.end.Sub(w.base))))
			start.Key = t.Format(time.RFC3339Nano)
		case app.SortCustomer:
			start.Key = strings.ToLower(firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))])
		case app.SortCompany:
			start.Key = strings.ToLower(w.companies[rng.IntN(len(w.companies))].name)
		case app.SortAssignee:
			if rng.IntN(10) > 0 {
				start.Key = strings.ToLower(w.techs[rng.IntN(len(w.techs))].Name())
			}
		case app.SortStatus:
			start.Key = []string{"active", "completed", "new"}[rng.IntN(3)]
		}
		sq := q
		sq.After = &start
		page, err := readmodels.ListRequests(ctx, db, sq)
		if err != nil {
			return nil, fmt.Errorf("list %s/%s from a random cursor: %w", q.View, q.Sort, err)
		}
		if page.NextCursor == "" {
			continue
		}
		c, err := app.ParseListCursor(page.NextCursor)
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
	// The random points fell past the end: take the second page.
	page, err := readmodels.ListRequests(ctx, db, q)
	if err != nil || page.NextCursor == "" {
		return nil, err
	}
	c, err := app.ParseListCursor(page.NextCursor)
	if err != nil {
		return nil, err
	}
	return &c, nil
}
