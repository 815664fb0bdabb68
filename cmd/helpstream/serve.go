package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/helpstream/helpstream/adapters/httpapi"
	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/adapters/web"
	"github.com/helpstream/helpstream/projections"
)

func init() {
	const summary = "run the HTTP server: the web console under /console, the customer portal under /portal and the JSON API under /api/v1 (and its OpenAPI document)"
	register(command{name: "serve", summary: summary, run: func(ctx context.Context, args []string, out io.Writer) error {
		fs := newFlagSet("serve", summary, out)
		addr := fs.String("addr", envOr("HELPSTREAM_ADDR", "127.0.0.1:8080"), "address to listen on (env HELPSTREAM_ADDR)")
		adminToken := fs.String("admin-token", envOr("HELPSTREAM_ADMIN_TOKEN", ""), "token that opens the admin routes; when empty, a random one is made and printed ("+DemoAdminToken+" with --demo) (env HELPSTREAM_ADMIN_TOKEN)")
		demo := fs.Bool("demo", false, "create a demo company, portal and technicians (idempotent) and print how to use them")
		secure := fs.Bool("secure-cookies", false, "mark the session cookie Secure (serve over HTTPS)")
		trustProxy := fs.Bool("trust-proxy", false, "take the client IP from X-Forwarded-For (only behind a proxy that sets it)")
		projectors := fs.Bool("projectors", true, "keep the read models up to date from this process too (an advisory lock elects one active projector per read model; `helpstream projections run` runs them alone)")
		streamBroker := fs.String("stream-broker", envOr("HELPSTREAM_STREAM_BROKER", ""), "also run the event stream's forwarder (as `helpstream stream run`) to this "+brokerFlagUsage+"; off when empty (env HELPSTREAM_STREAM_BROKER)")
		stores := addStoreFlags(fs, true)
		if err := fs.Parse(args); err != nil {
			return err
		}
		svc, err := openServices(ctx, stores)
		if err != nil {
			return err
		}
		defer svc.close()
		switch {
		case *adminToken == "" && *demo:
			*adminToken = DemoAdminToken
		case *adminToken == "":
			*adminToken = randomToken()
		}
		models := readModels()
		api, err := httpapi.New(httpapi.Config{
			App: svc.app, Accounts: svc.accounts, Idempotency: svc.creds, AdminToken: *adminToken,
			SecureCookies: *secure, TrustProxyHeaders: *trustProxy,
			ProjectionStatus: func(ctx context.Context) (any, error) {
				return projections.Status(ctx, svc.pool, svc.store, models)
			},
		})
		if err != nil {
			return err
		}
		console, err := web.New(web.Config{
			App: svc.app, Accounts: svc.accounts, Store: svc.store,
			SecureCookies: *secure, TrustProxyHeaders: *trustProxy,
		})
		if err != nil {
			return err
		}
		go func() { _ = console.Run(ctx) }() // live updates; returns when ctx ends
		if *projectors {
			runner, err := projections.NewRunner(projections.Config{Pool: svc.pool, Store: svc.store, Projections: models})
			if err != nil {
				return err
			}
			go func() { _ = runner.Run(ctx) }() // returns when ctx ends; failures are logged and retried
		}
		if *streamBroker != "" {
			forwarder, closeBroker, err := openStreamForwarder(ctx, svc.pool, *stores.databaseURL, svc.store, *streamBroker, stream.Config{})
			if err != nil {
				return err
			}
			forwardCtx, stopForwarding := context.WithCancel(ctx)
			forwarding := make(chan struct{})
			go func() { defer close(forwarding); _ = forwarder.Run(forwardCtx) }() // failures are logged and retried
			defer func() { stopForwarding(); <-forwarding; closeBroker() }()
		}
		metrics := prometheus.NewRegistry()
		metrics.MustRegister(
			projections.NewCollector(svc.pool, svc.store, models),
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		root := http.NewServeMux()
		root.Handle("GET /metrics", promhttp.HandlerFor(metrics, promhttp.HandlerOpts{}))
		root.Handle("/", api)
		root.Handle("/console", console)
		root.Handle("/console/", console)
		root.Handle("/portal/", console)
		root.Handle("/static/", console)
		root.Handle("GET /{$}", http.RedirectHandler("/console", http.StatusSeeOther))
		listener, err := net.Listen("tcp", *addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", *addr, err)
		}
		base := "http://" + listener.Addr().String()
		if *demo {
			d, err := seedDemo(ctx, svc)
			if err != nil {
				listener.Close()
				return fmt.Errorf("seed demo: %w", err)
			}
			printDemo(out, base, *adminToken, d)
			fmt.Fprintf(out, "Web console:  %s/console (log in as alice@example.com, password %q)\n", base, DemoPassword)
			for _, c := range d.Companies {
				fmt.Fprintf(out, "Portal:       %s/portal/%s (%s)\n", base, c.PortalID, c.PortalName)
			}
			fmt.Fprintln(out)
		} else {
			fmt.Fprintf(out, "Helpstream API on %s/api/v1 (OpenAPI: %s/api/v1/openapi.yaml, metrics: %s/metrics)\nweb console: %s/console\nadmin token: %s\n", base, base, base, base, *adminToken)
		}
		server := &http.Server{
			Handler:           root,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
		}
		errc := make(chan error, 1)
		go func() { errc <- server.Serve(listener) }()
		slog.InfoContext(ctx, "serving", "addr", base)
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
	}})
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
