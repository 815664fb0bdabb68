// Package service is Helpstream's composition root: from a Config it opens the stores (the
// PostgreSQL database, the event store, the file store), builds the application on them, the
// read models that answer its queries and the runtime that keeps them, and the HTTP handlers of
// the API, the console and the portal. cmd/helpstream only turns flags into a Config; tests
// build exactly the same thing (see servicetest).
package service

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/filestore"
	"github.com/helpstream/helpstream/adapters/httpapi"
	"github.com/helpstream/helpstream/adapters/postgres/accesslog"
	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/adapters/postgres/presencerelay"
	"github.com/helpstream/helpstream/adapters/postgres/profiles"
	"github.com/helpstream/helpstream/adapters/postgres/readmodels"
	"github.com/helpstream/helpstream/adapters/postgres/reports"
	"github.com/helpstream/helpstream/adapters/postgres/secrets"
	"github.com/helpstream/helpstream/adapters/web"
	"github.com/helpstream/helpstream/adapters/web/presence"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/anchor"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/asof"
	"github.com/helpstream/helpstream/internal/privacy"
	"github.com/helpstream/helpstream/internal/retention"
	"github.com/helpstream/helpstream/internal/routing"
	"github.com/helpstream/helpstream/internal/servicelevel"
	"github.com/helpstream/helpstream/internal/subscriber"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/directory"
	"github.com/helpstream/helpstream/projections/requestdetails"
	"github.com/helpstream/helpstream/projections/requestlist"
)

// Config says what to open and how the application behaves. Zero values take the defaults
// written on each field.
type Config struct {
	// DatabaseURL is the PostgreSQL database of the read models and the credentials, and the
	// event store unless EventStoreURL names another. It is created and migrated when needed.
	DatabaseURL string
	// PoolSize caps the database's connections, unless the URL sets pool_max_conns;
	// ServerPoolSize() when zero.
	PoolSize int32
	// EventStoreURL is the event store: empty (or DatabaseURL) for the log in the same
	// database, postgres://… for another PostgreSQL database, esdb://… for KurrentDB.
	EventStoreURL string
	// FilesDir keeps the shared files' bytes; created when missing. Required.
	FilesDir string
	// MaxFileSize caps an upload, in bytes; app.DefaultMaxFileSize when zero.
	MaxFileSize int64
	// ScreenSharing makes the links of screen-sharing sessions (serve --screen-sharing-url);
	// nil: accepting screen sharing starts no session.
	ScreenSharing *app.ScreenSharingProvider
	// CachedStreams and CachedBytes bound the aggregates the command path keeps in memory; the
	// application's defaults when zero, none when negative.
	CachedStreams int
	CachedBytes   int64
	// ConflictWait is how long a command keeps deciding again after other processes wrote
	// first; app.DefaultConflictWait when zero.
	ConflictWait time.Duration
	// AuthCache is how long a session or customer token looked up is trusted before the
	// database is asked again; app.DefaultAuthCacheTTL when zero, never cached when negative.
	AuthCache time.Duration
	// MaxProjectionWait bounds how long a query waits for the read models to reach a position
	// (min_position, the process's own writes); app.MaxProjectionWait when zero.
	MaxProjectionWait time.Duration
	// Projectors keeps the read models up to date from this process while Run runs, and runs
	// the process managers (an advisory lock elects one leader per read model and per manager
	// among all processes).
	Projectors bool

	// PresenceViewingTTL and PresenceTypingTTL are how long a console's "viewing" and "typing"
	// reports hold (who is viewing, issue 16); presence.DefaultViewingTTL and
	// presence.DefaultTypingTTL when zero.
	PresenceViewingTTL, PresenceTypingTTL time.Duration

	// AdminToken opens the admin routes of the API; they are closed when it is empty.
	AdminToken string
	// SecureCookies marks cookies Secure (serving over HTTPS).
	SecureCookies bool
	// TrustProxyHeaders takes the client IP from X-Forwarded-For (only behind a proxy that
	// overwrites it).
	TrustProxyHeaders bool
	// LiveHeartbeat is the interval of the console's event streams' keep-alive comments; 15 s
	// when zero.
	LiveHeartbeat time.Duration
	// Logger receives the runtime's logs; slog.Default() when nil.
	Logger *slog.Logger

	// AnchorKey signs the log's anchors (internal/anchor): when set, Run records the log's
	// head, signed, every AnchorInterval, so that an auditor's verify sees a deleted tail or
	// stream. The key stays in this process; the log holds only signatures.
	AnchorKey ed25519.PrivateKey
	// Notifications runs the notifier while Run runs (R5 by e-mail and signed webhooks,
	// internal/notifier): a Watermill handler on the event stream, in the consumer group
	// "notifier". It requires PublicURL.
	Notifications bool
	// NotifyBroker is the broker the notifier subscribes to: the one a stream forwarder
	// publishes the log to (serve --stream-broker), postgres://, amqp:// or nats://, topic
	// "helpstream.events". When empty, Run also runs a forwarder of its own, named
	// "notifications", to watermill-sql in the database (topic "helpstream.notifications"),
	// which starts at the log's head the first time.
	NotifyBroker string
	// NotifyTopic is the topic the notifier subscribes to on NotifyBroker; the forwarder's
	// default, "helpstream.events", when empty.
	NotifyTopic string
	// PublicURL is the console's base URL in the notifications' links
	// ("<PublicURL>/console/requests/<id>").
	PublicURL string
	// SMTPURL is the mail server of the e-mail notifications,
	// smtp://user:password@host:port?from=address; e-mail is off when empty.
	SMTPURL string
	// SMTPTLS is the TLS configuration of the mail server's STARTTLS; the system's roots when
	// nil (tests trust their own server's certificate).
	SMTPTLS *tls.Config
	// WebhookAttempts is how many times a notification is tried (e-mail or webhook) before it
	// is a dead letter; notifier.DefaultMaxAttempts when zero.
	WebhookAttempts int
	// WebhookTimeout bounds one attempt (a webhook POST, an SMTP conversation);
	// notifier.DefaultSendTimeout when zero.
	WebhookTimeout time.Duration
	// NotifyRetryBase is the first wait between a notification's attempts, doubled at each
	// (with jitter); notifier.DefaultRetryBase when zero.
	NotifyRetryBase time.Duration
	// NotifyPollInterval is how often the notifier's watermill-sql subscriber and its workers
	// look for work they were not told about; DefaultNotifyPoll for the subscriber and
	// notifier.DefaultPollInterval for the workers when zero.
	NotifyPollInterval time.Duration

	// AnchorInterval is how often the head is anchored when something was written since the
	// last anchor; anchor.DefaultInterval when zero.
	AnchorInterval time.Duration

	// Routing tunes the routing process manager (auto-assignment and reassignment, issue 16),
	// which runs with the projectors; its defaults when zero.
	Routing routing.Options
	// ServiceLevelTick is how often the service-level process manager fires the clocks that
	// ran out (issue 16); servicelevel.DefaultTickEvery when zero.
	ServiceLevelTick time.Duration

	// RetentionTick is how often the retention process manager erases the customers whose
	// retention ran out (issue 17); retention.DefaultTickEvery when zero.
	RetentionTick time.Duration

	// MasterKey is standard base64 of the 32 bytes that wrap the customers' data keys (issue
	// 17): the personal fields of request events are sealed at append with their customer's
	// key and opened on read; erasing a customer destroys the key. Empty: nothing is sealed.
	MasterKey string
}

// Validate says what is missing from c.
func (c Config) Validate() error {
	if c.DatabaseURL == "" {
		return errors.New("service: a database URL is required")
	}
	if c.FilesDir == "" {
		return errNoFilesDir
	}
	if c.Routing.TickEvery < 0 {
		return errors.New("service: the routing manager's tick period must not be negative")
	}
	if c.MasterKey != "" {
		if _, err := privacy.ParseMasterKey(c.MasterKey); err != nil {
			return fmt.Errorf("service: %w", err)
		}
	}
	if c.Notifications && c.PublicURL == "" {
		return errors.New("service: notifications need the public URL their links point to")
	}
	return nil
}

var errNoFilesDir = errors.New("service: a directory for shared files is required")

// Service is Helpstream put together. Its fields are what the parts around it need: the
// binary's subcommands, the demo seed and tests.
type Service struct {
	Pool        *pgxpool.Pool
	Store       eventlog.Store
	Credentials *credentials.Store
	// Webhooks keeps the technicians' webhook endpoints (URL and signing secret, out of the log).
	Webhooks *secrets.Webhooks
	Files    *filestore.Local
	App      *app.App     // the commands
	Queries  *app.Queries // the App's read side
	Accounts *app.Accounts
	// ReadModels are the projections the runtime keeps and the queries read.
	ReadModels []projections.Projection
	// API is the JSON API (/api/v1, /healthz); Console the web console and the portal.
	API     *httpapi.API
	Console *web.Handler

	cfg     Config
	log     *slog.Logger
	runtime *runtimeMetrics
	close   func()
	// presence is who has which request open in the consoles of this server, and its relay
	// to and from the other servers on the database.
	presence      *presence.Hub
	presenceRelay *presencerelay.Relay
	// serviceLevels is the service-level process manager (processManagers).
	serviceLevels *servicelevel.Manager
	// openFiles is Files as the application reads and writes them: sealed under the
	// customers' keys with a master key (privacy.Files), Files itself without one.
	openFiles app.FileStore
	// retention is the retention process manager (processManagers); nil without a master key.
	retention *retention.Manager

	// Keys are the customers' data keys (issue 17); nil without a master key. Store then reads
	// through privacy.Reader: privacy.Unwrap(Store) is the log as stored.
	Keys *privacy.Keys
}

// ReadModels lists the read models every runner keeps, `projections rebuild` rebuilds and
// `projections status` reports: the directory (R2's access and availability, portals), the
// request list (R3, R4) and the request details (R14).
func ReadModels() []projections.Projection {
	return []projections.Projection{
		directory.NewProjection(),
		requestlist.NewProjection(),
		requestdetails.NewProjection(),
	}
}

// New opens the stores cfg names and puts the service together on them. Close releases them.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PoolSize == 0 {
		cfg.PoolSize = ServerPoolSize()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pool, store, closeStores, err := OpenStores(ctx, cfg.DatabaseURL, cfg.EventStoreURL, cfg.PoolSize)
	if err != nil {
		return nil, err
	}
	s, err := Assemble(cfg, pool, store)
	if err != nil {
		closeStores()
		return nil, err
	}
	s.close = closeStores
	return s, nil
}

// Assemble puts the service together on a database and an event store opened already (and
// migrated); cfg's DatabaseURL, EventStoreURL and PoolSize are not used. Close does not
// close them.
func Assemble(cfg Config, pool *pgxpool.Pool, store eventlog.Store) (*Service, error) {
	if cfg.FilesDir == "" {
		return nil, errNoFilesDir
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	files, err := filestore.New(cfg.FilesDir)
	if err != nil {
		return nil, fmt.Errorf("open the file store: %w", err)
	}
	checkCtx, cancelCheck := context.WithTimeout(context.Background(), 30*time.Second)
	store, keys, err := privacy.Open(checkCtx, pool, store, cfg.MasterKey)
	cancelCheck()
	if err != nil {
		return nil, err
	}
	var protect func(context.Context, string, []eventlog.EventData) error
	var appFiles app.FileStore = files
	if keys != nil {
		protect, appFiles = privacy.NewProtector(keys).Protect, privacy.NewFiles(files, keys)
	}
	s := &Service{Keys: keys, Pool: pool, Store: store, Credentials: credentials.New(pool), Webhooks: secrets.NewWebhooks(pool), Files: files, openFiles: appFiles, ReadModels: ReadModels(), cfg: cfg, log: cfg.Logger, runtime: newRuntimeMetrics()}
	names := make([]string, 0, len(s.ReadModels))
	for _, p := range s.ReadModels {
		names = append(names, p.Name())
	}
	s.App, err = app.New(app.Config{
		Store: store, Files: appFiles, MaxFileSize: cfg.MaxFileSize, ScreenSharing: cfg.ScreenSharing,
		CachedStreams: cfg.CachedStreams, CachedBytes: cfg.CachedBytes, ConflictWait: cfg.ConflictWait,
		Protect:        protect,
		RequestList:    readmodels.NewRequestList(pool),
		RequestDetails: readmodels.NewDetails(pool),
		Directory:      readmodels.NewDirectory(pool),
		// The companies' canned responses are a table of the directory read model.
		CannedResponses: readmodels.NewDirectory(pool),
		AccessLog:       accesslog.New(pool),
		RequestReads:    readmodels.NewRequestReads(pool),
		Reports:         reportsReadModel(pool),
		Webhooks:        s.Webhooks,
		Profiles:        profiles.New(pool),
		// Read-your-writes waits for the checkpoints of every read model: explicitly with
		// min_position, implicitly for this process's own writes; both bounded.
		// The auditors' views of the past fold the log up to the moment (no copies of the read
		// models are kept).
		PointInTime:       func(ctx context.Context, t time.Time) (app.PastReadModels, error) { return asof.At(ctx, store, t) },
		ReadOwnWrites:     true,
		MaxProjectionWait: cfg.MaxProjectionWait,
		WaitFor: func(ctx context.Context, pos eventlog.Position) (bool, error) {
			return projections.WaitFor(ctx, pool, names, pos, app.MaxProjectionWait)
		},
	})
	if err != nil {
		return nil, err
	}
	s.Queries = s.App.Queries()
	s.serviceLevels, err = servicelevel.New(servicelevel.Config{Pool: pool, App: s.App, TickEvery: cfg.ServiceLevelTick, Logger: s.log})
	if err != nil {
		return nil, err
	}
	if keys != nil {
		s.retention, err = retention.New(retention.Config{Pool: pool, Erase: s.eraseForRetention, TickEvery: cfg.RetentionTick, Logger: s.log})
		if err != nil {
			return nil, err
		}
	}
	s.Accounts = app.NewAccounts(s.App, s.Credentials, 0)
	if cfg.AuthCache != 0 {
		s.Accounts = s.Accounts.WithAuthCache(max(cfg.AuthCache, 0))
	}
	s.API, err = httpapi.New(httpapi.Config{
		App: s.App, Accounts: s.Accounts, Idempotency: s.Credentials, AdminToken: cfg.AdminToken, Store: store,
		SecureCookies: cfg.SecureCookies, TrustProxyHeaders: cfg.TrustProxyHeaders,
		Health:       s.health,
		HealthReport: s.healthReport,
		ProjectionStatus: func(ctx context.Context) (any, error) {
			return projections.Status(ctx, pool, store, s.ReadModels)
		},
		EraseCustomer: func(ctx context.Context, email, reason string) (any, error) {
			return s.EraseCustomer(ctx, email, reason, app.Admin.String())
		},
	})
	if err != nil {
		return nil, err
	}
	s.presenceRelay = presencerelay.New(pool)
	s.presence = presence.New(presence.Config{ViewingTTL: cfg.PresenceViewingTTL, TypingTTL: cfg.PresenceTypingTTL, Relay: s.presenceRelay, Logger: cfg.Logger})
	s.Console, err = web.New(web.Config{
		App: s.App, Accounts: s.Accounts, Store: store, Heartbeat: cfg.LiveHeartbeat,
		SecureCookies: cfg.SecureCookies, TrustProxyHeaders: cfg.TrustProxyHeaders,
		Presence: s.presence,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Config is the Config the service was built from, with its defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Close releases the stores New opened. Stop Run first.
func (s *Service) Close() {
	if s.close != nil {
		s.close()
	}
}

// Handler serves the API under /api/v1 (and /healthz), the console under /console, the
// portal under /portal and their assets under /static; / goes to the console. Any other
// address is the console's HTML error page for a browser's navigation (web.WantsPage) and
// the API's JSON error for everyone else.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/healthz" && web.WantsPage(r) {
			s.Console.ServeHTTP(w, r)
			return
		}
		s.API.ServeHTTP(w, r)
	}))
	for _, prefix := range []string{"/console", "/console/", "/portal/", "/static/"} {
		mux.Handle(prefix, s.Console)
	}
	mux.Handle("GET /{$}", http.RedirectHandler("/console", http.StatusSeeOther))
	return mux
}

// Run runs what keeps the service current until ctx ends: the console's live updates, the
// janitor of expired bookkeeping, with Config.AnchorKey the log's anchors, with
// Config.Notifications the notifier (and its forwarder) and, with Config.Projectors, the read
// models' runtime and the process managers' (auto-assignment, service levels). It
// returns when all of them have stopped; their failures are logged and retried, not returned.
func (s *Service) Run(ctx context.Context) error {
	parts := []func(context.Context){
		func(ctx context.Context) { _ = s.Console.Run(ctx) },
		func(ctx context.Context) { s.presenceRelay.Listen(ctx, s.presence, s.log) },
		func(ctx context.Context) { keepTidy(ctx, s.Credentials) },
	}
	if len(s.cfg.AnchorKey) > 0 {
		anchorer, err := anchor.New(anchor.Config{Store: privacy.Unwrap(s.Store), PrivateKey: s.cfg.AnchorKey, Interval: s.cfg.AnchorInterval, Logger: s.log})
		if err != nil {
			return err
		}
		parts = append(parts, func(ctx context.Context) { _ = anchorer.Run(ctx) })
	}
	if s.cfg.Notifications {
		notify, closeNotify, err := s.notifierParts(ctx)
		if err != nil {
			return err
		}
		defer closeNotify()
		parts = append(parts, notify...)
	}
	if s.cfg.Projectors {
		runner, err := s.projectionRunner()
		if err != nil {
			return err
		}
		parts = append(parts, func(ctx context.Context) { _ = runner.Run(ctx) })
		managers, err := s.processRunner()
		if err != nil {
			return err
		}
		if managers != nil {
			parts = append(parts, managers)
		}
	}
	done := make(chan struct{}, len(parts))
	for _, run := range parts {
		go func() { defer func() { done <- struct{}{} }(); run(ctx) }()
	}
	for range parts {
		<-done
	}
	return nil
}

// ProjectUntilCurrent runs the read models' projectors, as Run does, until the read models have
// applied the log as far as its head is now (or timeout passes), and stops them: a command-line
// query, or a benchmark's seed, sees the log without a server running. When another process
// leads the projections, its runner does the work and this one waits.
func (s *Service) ProjectUntilCurrent(ctx context.Context, timeout time.Duration) error {
	runner, err := s.projectionRunner()
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = runner.Run(runCtx) }()
	defer func() { stop(); <-stopped }()
	return s.CatchUp(ctx, timeout)
}

// CatchUp waits until the read models have applied the log as far as its head is now and
// everything this service wrote (which the head may not show yet while another transaction
// holds the log back), or timeout passes.
func (s *Service) CatchUp(ctx context.Context, timeout time.Duration) error {
	target := s.App.Written()
	if heads, ok := s.Store.(eventlog.HeadReader); ok {
		head, err := heads.Head(ctx)
		if err != nil {
			return fmt.Errorf("read the log's head: %w", err)
		}
		if head.Compare(target) > 0 {
			target = head
		}
	}
	return s.WaitFor(ctx, target, timeout)
}

// WaitFor waits until every read model has applied the log up to pos, or timeout passes.
func (s *Service) WaitFor(ctx context.Context, pos eventlog.Position, timeout time.Duration) error {
	names := make([]string, 0, len(s.ReadModels))
	for _, p := range s.ReadModels {
		names = append(names, p.Name())
	}
	reached, err := projections.WaitFor(ctx, s.Pool, names, pos, timeout)
	if err != nil {
		return fmt.Errorf("wait for the read models: %w", err)
	}
	if !reached {
		return fmt.Errorf("the read models did not reach %s within %s: is a projector running? (`helpstream projections status`)", pos, timeout)
	}
	return nil
}

// projectionRunner is the runtime that keeps the read models, reporting to the metrics.
func (s *Service) projectionRunner() (*projections.Runner, error) {
	return projections.NewRunner(projections.Config{Pool: s.Pool, Store: s.Store, Projections: s.ReadModels, Logger: s.log,
		Observer: s.runtime.observer("projection")})
}

// StreamObserver is what an event-stream forwarder this process runs reports to
// (stream.Config.Observer), so that Metrics counts it with the read models.
func (s *Service) StreamObserver() subscriber.Observer { return s.runtime.observer("stream") }

// Metrics returns a registry of the service's metrics: the read models' status, the command
// path's counters, what the subscriber runtime applied here, the event log's horizon
// (PostgreSQL store), Go's and the process's.
func (s *Service) Metrics() *prometheus.Registry {
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(
		projections.NewCollector(s.Pool, s.Store, s.ReadModels),
		commandMetrics{app: s.App},
		s.runtime,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if pg, ok := privacy.Unwrap(s.Store).(*pgstore.Store); ok {
		metrics.MustRegister(pg.HorizonCollector())
	}
	return metrics
}

// health is nil when the service can serve: its database answers and no read model has
// parked an event (which leaves it without what that event carried until `projections retry`).
func (s *Service) health(ctx context.Context) error {
	if err := s.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping the database: %w", err)
	}
	ok, reason, err := projections.Health(ctx, s.Pool)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New(reason)
	}
	return nil
}

// HeldBackAfter is how long a transaction must have held events back before /healthz and
// `projections status` say so: every append holds them back for the milliseconds it runs.
const HeldBackAfter = time.Second

// healthReport tells, under "event_log", whether an open transaction holds back the delivery of
// events (PostgreSQL event store only): "delivery_held" (an event writer has held it back for
// HeldBackAfter or longer) and, when some transaction holds events back that long, a sentence
// ("summary") and the whole report ("horizon").
func (s *Service) healthReport(ctx context.Context) (map[string]any, error) {
	pg, ok := privacy.Unwrap(s.Store).(*pgstore.Store)
	if !ok {
		return nil, nil
	}
	r, err := pg.Horizon(ctx)
	if err != nil {
		return nil, err
	}
	report := map[string]any{"delivery_held": r.DeliveryHeld && r.BlockedFor >= HeldBackAfter}
	if summary := r.Summary(HeldBackAfter); summary != "" {
		report["summary"], report["horizon"] = summary, r
	}
	return map[string]any{"event_log": report}, nil
}

// OpenStores opens the database at databaseURL (created and migrated if needed) with at most
// maxConns connections unless the URL sets pool_max_conns, and the event store at
// eventStoreURL. When that is empty or the database itself, the event store shares the
// database's pool rather than opening a second one. The function returned closes both.
func OpenStores(ctx context.Context, databaseURL, eventStoreURL string, maxConns int32) (*pgxpool.Pool, eventlog.Store, func(), error) {
	if eventStoreURL == "" || eventStoreURL == databaseURL {
		pool, pg, err := OpenPostgresEventStore(ctx, databaseURL, maxConns, pgstore.Config{})
		if err != nil {
			return nil, nil, nil, err
		}
		return pool, pg, func() { pg.Close(); pool.Close() }, nil
	}
	pool, err := OpenDatabase(ctx, databaseURL, maxConns)
	if err != nil {
		return nil, nil, nil, err
	}
	store, closeStore, err := OpenEventStore(ctx, eventStoreURL)
	if err != nil {
		pool.Close()
		return nil, nil, nil, fmt.Errorf("open event store: %w", err)
	}
	return pool, store, func() { closeStore(); pool.Close() }, nil
}

// commandMetrics exposes the command path's counters and aggregate cache on /metrics.
type commandMetrics struct{ app *app.App }

var (
	commandsDesc       = prometheus.NewDesc("helpstream_commands_total", "Commands decided (accepted or refused by the domain).", nil, nil)
	commandAppendsDesc = prometheus.NewDesc("helpstream_command_appends_total", "Appends that stored commands; commands queued on one stream share one.", nil, nil)
	conflictsDesc      = prometheus.NewDesc("helpstream_command_conflicts_total", "Appends another process won; the commands were decided again on the tails read.", nil, nil)
	cachedStreamsDesc  = prometheus.NewDesc("helpstream_aggregate_cache_streams", "Streams whose state the command path keeps in memory.", nil, nil)
	cachedBytesDesc    = prometheus.NewDesc("helpstream_aggregate_cache_bytes", "Rough size of the cached states, in bytes.", nil, nil)
)

func (m commandMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{commandsDesc, commandAppendsDesc, conflictsDesc, cachedStreamsDesc, cachedBytesDesc} {
		ch <- d
	}
}

func (m commandMetrics) Collect(ch chan<- prometheus.Metric) {
	s := m.app.CommandStats()
	ch <- prometheus.MustNewConstMetric(commandsDesc, prometheus.CounterValue, float64(s.Commands))
	ch <- prometheus.MustNewConstMetric(commandAppendsDesc, prometheus.CounterValue, float64(s.Appends))
	ch <- prometheus.MustNewConstMetric(conflictsDesc, prometheus.CounterValue, float64(s.Conflicts))
	ch <- prometheus.MustNewConstMetric(cachedStreamsDesc, prometheus.GaugeValue, float64(s.CachedStreams))
	ch <- prometheus.MustNewConstMetric(cachedBytesDesc, prometheus.GaugeValue, float64(s.CachedBytes))
}

// reportsReadModel is the Reports page's read model over the analytics job's tables (nil, and
// the page refuses, only when there is no database, which Assemble never has).
func reportsReadModel(pool *pgxpool.Pool) app.ReportsReadModel {
	rm, err := reports.New(pool)
	if err != nil {
		return nil
	}
	return rm
}
