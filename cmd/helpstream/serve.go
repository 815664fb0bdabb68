package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/internal/anchor"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

const serveSummary = "run the HTTP server: the web console under /console, the customer portal under /portal and the JSON API under /api/v1 (and its OpenAPI document)"

func init() { register(command{"serve", serveSummary, runServe}) }

// serveFlags are serve's flags beside the stores'.
type serveFlags struct {
	addr, adminToken, metricsAddr, metricsToken, streamBroker, anchorKey *string
	demo, secure, trustProxy, projectors, pprof                          *bool
	anchorInterval                                                       *time.Duration
	notify                                                               notifyFlags
	stores                                                               storeFlags

	// screenSharingURL is the screen-sharing provider's link template (issue 15).
	screenSharingURL *string
}

func parseServeFlags(args []string, out io.Writer) (serveFlags, error) {
	fs := newFlagSet("serve", serveSummary, out)
	f := serveFlags{
		addr:           fs.String("addr", envOr("HELPSTREAM_ADDR", "127.0.0.1:8080"), "address to listen on (env HELPSTREAM_ADDR)"),
		adminToken:     fs.String("admin-token", envOr("HELPSTREAM_ADMIN_TOKEN", ""), "token that opens the admin routes; when empty, a random one is made and printed ("+DemoAdminToken+" with --demo) (env HELPSTREAM_ADMIN_TOKEN)"),
		demo:           fs.Bool("demo", false, "create a demo company, portal and technicians (idempotent) and print how to use them"),
		secure:         fs.Bool("secure-cookies", false, "mark the session cookie Secure (serve over HTTPS)"),
		trustProxy:     fs.Bool("trust-proxy", false, "take the client IP from X-Forwarded-For (only behind a proxy that sets it)"),
		projectors:     fs.Bool("projectors", true, "keep the read models up to date from this process too (an advisory lock elects one active projector per read model; `helpstream projections run` runs them alone)"),
		metricsAddr:    fs.String("metrics-addr", envOr("HELPSTREAM_METRICS_ADDR", ""), "serve /metrics on this address only (e.g. 127.0.0.1:9090, for a scraper on a private network); when empty, /metrics is served on --addr to bearers of --metrics-token (env HELPSTREAM_METRICS_ADDR)"),
		metricsToken:   fs.String("metrics-token", envOr("HELPSTREAM_METRICS_TOKEN", ""), "bearer token that opens /metrics on --addr; the admin token when empty (env HELPSTREAM_METRICS_TOKEN)"),
		streamBroker:   fs.String("stream-broker", envOr("HELPSTREAM_STREAM_BROKER", ""), "also run the event stream's forwarder (as `helpstream stream run`) to this "+brokerFlagUsage+"; off when empty (env HELPSTREAM_STREAM_BROKER)"),
		pprof:          fs.Bool("pprof", false, "also serve Go's profiles (/debug/pprof/) on --metrics-addr, the private address, for an operator chasing CPU or memory"),
		anchorKey:      fs.String("anchor-key", envOr("HELPSTREAM_ANCHOR_KEY", ""), "private key file (`helpstream audit keygen`) that signs the log's anchors; no anchors when empty; with --demo, "+demoAnchorDir+"/"+anchor.PrivateKeyFile+" (beside --files-dir), made on first use (env HELPSTREAM_ANCHOR_KEY)"),
		anchorInterval: fs.Duration("anchor-interval", anchor.DefaultInterval, "how often the log's head is anchored (signed), when something was written since the last anchor"),
		notify:         addNotifyFlags(fs),
		stores:         addStoreFlags(fs),
	}
	f.screenSharingURL = fs.String("screen-sharing-url", envOr("HELPSTREAM_SCREEN_SHARING_URL", ""), "URL template of the screen-sharing provider's session link, absolute http(s), with the placeholders {request}, {session} and {company} (URL-escaped when filled), e.g. 'https://meet.example/{request}?s={session}'; when a customer accepts screen sharing, a session starts and both sides get its link; off when empty (env HELPSTREAM_SCREEN_SHARING_URL)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	switch {
	case *f.adminToken == "" && *f.demo:
		*f.adminToken = DemoAdminToken
	case *f.adminToken == "":
		*f.adminToken = randomToken()
	}
	return f, nil
}

// config is the service's Config the flags say, for a server whose base URL is base; it
// reads the anchors' key (with --demo, made on first use).
func (f serveFlags) config(out io.Writer, base string) (service.Config, error) {
	if *f.stores.masterKey == "" && os.Getenv("HELPSTREAM_MASTER_KEY") == "" && *f.demo {
		file, err := demoMasterKey(out, *f.stores.filesDir)
		if err != nil {
			return service.Config{}, err
		}
		*f.stores.masterKey = file
	}
	cfg, err := f.stores.config()
	if err != nil {
		return cfg, err
	}
	f.notify.configure(&cfg, base, *f.streamBroker)
	cfg.AdminToken, cfg.SecureCookies, cfg.TrustProxyHeaders, cfg.Projectors = *f.adminToken, *f.secure, *f.trustProxy, *f.projectors
	cfg.AnchorInterval = *f.anchorInterval
	sharing := *f.screenSharingURL
	if sharing == "" && *f.demo {
		sharing = DemoScreenSharingURL
	}
	if sharing != "" {
		p, err := app.ParseScreenSharingURL(sharing)
		if err != nil {
			return cfg, fmt.Errorf("--screen-sharing-url: %w", err)
		}
		cfg.ScreenSharing = p
	}
	keyFile := *f.anchorKey
	if keyFile == "" && *f.demo {
		var err error
		if keyFile, err = demoAnchorKey(out, filepath.Join(filepath.Dir(filepath.Clean(*f.stores.filesDir)), "anchor")); err != nil {
			return cfg, err
		}
	}
	if keyFile != "" {
		key, err := anchor.LoadPrivateKey(keyFile)
		if err != nil {
			return cfg, fmt.Errorf("--anchor-key: %w", err)
		}
		cfg.AnchorKey = key
	}
	return cfg, nil
}

// demoAnchorDir is where the demo keeps its anchor key pair with the default --files-dir: the
// directory beside the files'.
const demoAnchorDir = "data/anchor"

// demoAnchorKey returns the demo's anchor key file in dir, making the pair the first time.
func demoAnchorKey(out io.Writer, dir string) (string, error) {
	path := filepath.Join(dir, anchor.PrivateKeyFile)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	files, err := anchor.GenerateKeyFiles(dir)
	if err != nil {
		return "", fmt.Errorf("make the demo's anchor key: %w", err)
	}
	fmt.Fprintf(out, "Made the demo's anchor key pair: %s (the server's) and %s (auditors', fingerprint %s)\n",
		files.PrivateKey, files.PublicKey, anchor.Fingerprint(files.Public))
	return files.PrivateKey, nil
}

func runServe(ctx context.Context, args []string, out io.Writer) error {
	f, err := parseServeFlags(args, out)
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", *f.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *f.addr, err)
	}
	defer listener.Close() // in case serving never starts; Shutdown closes it otherwise
	base := "http://" + listener.Addr().String()
	cfg, err := f.config(out, base)
	if err != nil {
		return err
	}
	svc, err := service.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer svc.Close()
	defer inBackground(ctx, svc.Run)()
	if *f.streamBroker != "" {
		forwarder, closeBroker, err := openStreamForwarder(ctx, svc.Pool, *f.stores.databaseURL, svc.Store, *f.streamBroker, stream.Config{Observer: svc.StreamObserver()})
		if err != nil {
			return err
		}
		defer closeBroker()
		defer inBackground(ctx, forwarder.Run)() // failures are logged and retried
	}
	root, metricsURL, stopMetrics, err := f.routes(ctx, svc, base)
	if err != nil {
		return err
	}
	defer stopMetrics()
	if err := f.announce(ctx, out, svc, base, metricsURL); err != nil {
		return err
	}
	return serveUntilDone(ctx, listener, root, *f.stores.maxFileSize+1<<20)
}

// inBackground runs run until the function it returns is called, which waits for it to end.
func inBackground(ctx context.Context, run func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	return func() { cancel(); <-done }
}

// routes mounts the service and /metrics: on the public address for bearers of the metrics
// token, or alone on --metrics-addr (with the profiles under --pprof). It returns where
// /metrics is and what stops its own listener.
func (f serveFlags) routes(ctx context.Context, svc *service.Service, base string) (root *http.ServeMux, metricsURL string, stop func(), err error) {
	metrics := promhttp.HandlerFor(svc.Metrics(), promhttp.HandlerOpts{})
	root = http.NewServeMux()
	root.Handle("/", svc.Handler())
	if *f.metricsAddr == "" {
		token := *f.metricsToken
		if token == "" {
			token = *f.adminToken
		}
		root.Handle("GET /metrics", bearerOnly(token, metrics))
		return root, base + "/metrics (bearer: the metrics token)", func() {}, nil
	}
	stop, addr, err := serveMetrics(ctx, *f.metricsAddr, metrics, *f.pprof)
	if err != nil {
		return nil, "", nil, err
	}
	return root, "http://" + addr + "/metrics", stop, nil
}

// announce prints where everything is; with --demo it seeds the demo data first and says how
// to log in.
func (f serveFlags) announce(ctx context.Context, out io.Writer, svc *service.Service, base, metricsURL string) error {
	if !*f.demo {
		fmt.Fprintf(out, "Helpstream API on %s/api/v1 (OpenAPI: %s/api/v1/openapi.yaml, metrics: %s)\nweb console: %s/console\nadmin token: %s\n", base, base, metricsURL, base, *f.adminToken)
		return nil
	}
	d, err := seedDemo(ctx, svc)
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	printDemo(out, base, *f.adminToken, d)
	fmt.Fprintf(out, "Web console:  %s/console (log in as alice@example.com, password %q)\n", base, DemoPassword)
	for _, c := range d.Companies {
		fmt.Fprintf(out, "Portal:       %s/portal/%s (%s)\n", base, c.PortalID, c.PortalName)
	}
	fmt.Fprintln(out)
	return nil
}

// serveUntilDone serves root on listener, behind the server's limits, until ctx ends; then it
// shuts down, giving requests in flight 10 s.
func serveUntilDone(ctx context.Context, listener net.Listener, root http.Handler, maxBody int64) error {
	server, err := httpserver.New(httpserver.Config{Handler: root, MaxBody: maxBody})
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- server.Serve(listener) }()
	slog.InfoContext(ctx, "serving", "addr", "http://"+listener.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	slog.Info("stopped")
	return nil
}

// bearerOnly serves h to requests that carry token as a bearer token, and 401 to the others.
func bearerOnly(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"code":"unauthorized","message":"send the metrics token as a bearer token, or scrape the --metrics-addr listener"}}`+"\n")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveMetrics serves /metrics alone on addr until stop is called; it returns the address it
// listens on.
func serveMetrics(ctx context.Context, addr string, h http.Handler, withProfiles bool) (stop func(), listening string, err error) {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	if withProfiles {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	}
	server, err := httpserver.New(httpserver.Config{Handler: mux, WriteTimeout: 5 * time.Minute})
	if err != nil {
		listener.Close()
		return nil, "", err
	}
	go func() {
		if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.ErrorContext(ctx, "metrics listener stopped; /metrics is no longer served", "addr", addr, "err", err)
		}
	}()
	return func() { _ = server.Close() }, listener.Addr().String(), nil
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
