package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/notifier"
	"github.com/helpstream/helpstream/internal/service"
)

const benchNotifySummary = "submit requests at a steady rate through the application while the notifier runs as serve runs it; measure submission → SMTP receipt and → webhook receipt at an in-process mail server and webhook receiver (issue 14, p99 < 1 s at 50/s)"

// notifyBar is the bar of issue 14: notification p99 below a second at 50 submissions/s.
const notifyBar = time.Second

func init() {
	benchMeasurements = append(benchMeasurements, command{"notify", benchNotifySummary, runBenchNotify})
}

// runBenchNotify is `helpstream bench notify`.
func runBenchNotify(ctx context.Context, args []string, out io.Writer) error {
	fs, dbURL := newBenchFlagSet("bench notify", benchNotifySummary, out)
	rate := fs.Float64("rate", 50, "submissions per second")
	duration := fs.Duration("duration", 20*time.Second, "how long submissions are measured, after 2 s of warm-up")
	technicians := fs.Int("technicians", 3, "technicians with access to the company, each with e-mail and a webhook on")
	verbose := fs.Bool("verbose", false, "log what the service does to stderr")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *rate <= 0 || *duration <= 0 || *technicians <= 0 {
		return errors.New("bench notify: --rate, --duration and --technicians must be positive")
	}
	scratchURL, drop, err := scratchDatabase(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer drop()
	rx := newNotifyReceivers()
	smtpAddr, stopSMTP, err := rx.serveSMTP()
	if err != nil {
		return err
	}
	defer stopSMTP()
	hookURL, stopHook, err := rx.serveWebhooks()
	if err != nil {
		return err
	}
	defer stopHook()

	files, err := os.MkdirTemp("", "helpstream-bench-notify")
	if err != nil {
		return err
	}
	defer os.RemoveAll(files)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if *verbose {
		logger = slog.Default()
	}
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: scratchURL, FilesDir: filepath.Join(files, "files"), Projectors: true, Logger: logger,
		Notifications: true, PublicURL: "http://helpstream.invalid", SMTPURL: "smtp://" + smtpAddr + "?from=helpstream@example.com",
	})
	if err != nil {
		return err
	}
	defer svc.Close()
	runCtx, stopRun := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = svc.Run(runCtx) }()
	defer func() { stopRun(); <-stopped }()

	company, portal, err := seedNotifyBench(ctx, svc, *technicians, hookURL)
	if err != nil {
		return err
	}
	if err := waitNotifierStarted(ctx, svc); err != nil {
		return err
	}
	meta := app.Meta{CorrelationID: "bench-notify"}
	submit := func() (uuid.UUID, time.Time, error) {
		id := uuid.New()
		meta.Actor = app.Actor{Kind: "customer", ID: id}
		at := time.Now()
		_, err := svc.App.SubmitRequest(ctx, meta, app.SubmitRequest{RequestID: id, PortalID: portal, CompanyID: company,
			Description: "The printer in room 4 prints blank pages since this morning.",
			Customer:    request.Customer{Name: "Bench Customer", Email: "customer@example.com"},
			Source:      request.Source{IP: "192.0.2.1", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}})
		return id, at, err
	}
	fmt.Fprintf(out, "Notifier running (watermill-sql forwarder \"notifications\" in the scratch database); %d technicians, e-mail and webhook each; %.0f submissions/s for %s after 2 s of warm-up\n",
		*technicians, *rate, *duration)
	// Warm-up, then the measured submissions at a steady pace.
	if _, err := pace(ctx, *rate, 2*time.Second, submit); err != nil {
		return err
	}
	measured, err := pace(ctx, *rate, *duration, submit)
	if err != nil {
		return err
	}
	// Every measured submission's notifications, or 30 s.
	want := len(measured) * *technicians
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mails, hooks := rx.counts(measured)
		if mails >= want && hooks >= want {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mailLat, mailMissing := rx.latencies(measured, *technicians, true)
	hookLat, hookMissing := rx.latencies(measured, *technicians, false)
	achieved := float64(len(measured)) / duration.Seconds()
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "channel\tsubmissions/s\tachieved\tnotifications\tmissing\tp50 ms\tp99 ms\tmax ms\tbar\tresult")
	for _, row := range []struct {
		name    string
		lat     []time.Duration
		missing int
	}{{"e-mail (SMTP receipt)", mailLat, mailMissing}, {"webhook (HTTP receipt)", hookLat, hookMissing}} {
		p50, p99, worst := latencyPercentiles(row.lat)
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%d\t%d\t%s\t%s\t%s\tp99 < %s, 0 missing\t%s\n", row.name, *rate, achieved, len(row.lat), row.missing,
			ms(p50), ms(p99), ms(worst), notifyBar, verdict(row.missing == 0 && p99 < notifyBar))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printNotifyStages(ctx, svc, out)
}

// printNotifyStages splits the delay on the server's clock: the event's time → the delivery
// recorded by the Watermill handler (forwarder, broker, directory wait), and recorded → sent
// (the lane's worker and the receiver).
func printNotifyStages(ctx context.Context, svc *service.Service, out io.Writer) error {
	rows, err := svc.Pool.Query(ctx, `
SELECT channel,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - (body->>'submitted_at')::timestamptz)),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - (body->>'submitted_at')::timestamptz)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at))
FROM notification_deliveries WHERE status = 'sent' GROUP BY channel ORDER BY channel`)
	if err != nil {
		return fmt.Errorf("read the deliveries' stages: %w", err)
	}
	defer rows.Close()
	fmt.Fprintln(out, "\nStages (server clock, warm-up included):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "channel	event → recorded p50 ms	p99 ms	recorded → sent p50 ms	p99 ms")
	for rows.Next() {
		var ch string
		var a, b, c, d float64
		if err := rows.Scan(&ch, &a, &b, &c, &d); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\n", ch, a*1000, b*1000, c*1000, d*1000)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return tw.Flush()
}

// pace calls submit rate times a second for d and returns when each submission was made.
func pace(ctx context.Context, rate float64, d time.Duration, submit func() (uuid.UUID, time.Time, error)) (map[uuid.UUID]time.Time, error) {
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d.Seconds() * rate)
	started := time.Now()
	out := make(map[uuid.UUID]time.Time, n)
	for i := range n {
		if wait := time.Until(started.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
		}
		id, at, err := submit()
		if err != nil {
			return nil, fmt.Errorf("submit: %w", err)
		}
		out[id] = at
	}
	return out, nil
}

// seedNotifyBench creates a company, its portal and the technicians, each with e-mail on and a
// webhook endpoint (a technician_webhooks row, as the secrets' store keeps it).
func seedNotifyBench(ctx context.Context, svc *service.Service, technicians int, hookURL string) (company, portal uuid.UUID, err error) {
	meta := app.Meta{Actor: app.Admin, CorrelationID: "bench-notify"}
	company, portal = uuid.New(), uuid.New()
	if _, err := svc.App.CreateCompany(ctx, meta, app.CreateCompany{CompanyID: company, Name: "Bench Ltd"}); err != nil {
		return company, portal, err
	}
	if _, err := svc.App.CreatePortal(ctx, meta, app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Bench portal"}); err != nil {
		return company, portal, err
	}
	for i := range technicians {
		id := uuid.New()
		if _, err := svc.App.RegisterTechnician(ctx, meta, app.RegisterTechnician{TechnicianID: id, Name: fmt.Sprintf("Tech %d", i), Email: fmt.Sprintf("tech%d@example.com", i)}); err != nil {
			return company, portal, err
		}
		if _, err := svc.App.GrantAccess(ctx, meta, app.GrantAccess{TechnicianID: id, CompanyID: company}); err != nil {
			return company, portal, err
		}
		// The app keeps the endpoint and its signing secret in technician_webhooks, out of the
		// settings event, as `PUT /api/v1/me/notifications` does.
		if _, err := svc.App.ChangeNotificationSettings(ctx, meta, app.ChangeNotificationSettings{TechnicianID: id,
			Email: true, InConsole: true, WebhookURL: hookURL}); err != nil {
			return company, portal, fmt.Errorf("give technician %d e-mail and a webhook: %w", i, err)
		}
		// Only Available technicians are notified (R2, R5).
		if _, err := svc.App.SetAvailability(ctx, meta, app.SetAvailability{TechnicianID: id, Availability: directory.Available}); err != nil {
			return company, portal, fmt.Errorf("set technician %d Available: %w", i, err)
		}
	}
	return company, portal, svc.CatchUp(ctx, 30*time.Second)
}

// waitNotifierStarted waits until the notifier has recorded where it starts: what is
// submitted afterwards is notified.
func waitNotifierStarted(ctx context.Context, svc *service.Service) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := svc.Pool.QueryRow(ctx, `SELECT count(*) FROM notifier_start`).Scan(&n); err == nil && n > 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("the notifier did not start within 30 s")
}

// notifyReceivers are the in-process mail server and webhook receiver; they note when each
// request's notifications arrive.
type notifyReceivers struct {
	mu    sync.Mutex
	mails map[uuid.UUID][]time.Time // by request
	hooks map[uuid.UUID][]time.Time
}

func newNotifyReceivers() *notifyReceivers {
	return &notifyReceivers{mails: map[uuid.UUID][]time.Time{}, hooks: map[uuid.UUID][]time.Time{}}
}

// serveSMTP runs a go-smtp server on a free loopback port.
func (rx *notifyReceivers) serveSMTP() (addr string, stop func(), err error) {
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &benchSession{rx: rx}, nil }))
	s.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = s.Serve(l) }()
	return l.Addr().String(), func() { _ = s.Close() }, nil
}

// serveWebhooks runs the webhook receiver on a free loopback port.
func (rx *notifyReceivers) serveWebhooks() (url string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var n notifier.Notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rx.mu.Lock()
		rx.hooks[n.RequestID] = append(rx.hooks[n.RequestID], at)
		rx.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String() + "/hook", func() { _ = srv.Close() }, nil
}

type benchSession struct{ rx *notifyReceivers }

func (s *benchSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *benchSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *benchSession) Reset()                               {}
func (s *benchSession) Logout() error                        { return nil }

// Data notes the receipt under the request the message's link names.
func (s *benchSession) Data(r io.Reader) error {
	at := time.Now()
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return err
	}
	_, rest, ok := strings.Cut(string(body), "/console/requests/")
	if !ok || len(rest) < 36 {
		return errors.New("no link to a request")
	}
	id, err := uuid.Parse(rest[:36])
	if err != nil {
		return err
	}
	s.rx.mu.Lock()
	s.rx.mails[id] = append(s.rx.mails[id], at)
	s.rx.mu.Unlock()
	return nil
}

// counts is how many e-mails and webhooks arrived for the submissions.
func (rx *notifyReceivers) counts(submitted map[uuid.UUID]time.Time) (mails, hooks int) {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	for id := range submitted {
		mails += len(rx.mails[id])
		hooks += len(rx.hooks[id])
	}
	return mails, hooks
}

// latencies is submission → receipt of every notification of the submissions on one channel,
// and how many of the per technicians each expected are missing.
func (rx *notifyReceivers) latencies(submitted map[uuid.UUID]time.Time, per int, mails bool) ([]time.Duration, int) {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	got := rx.hooks
	if mails {
		got = rx.mails
	}
	var out []time.Duration
	missing := 0
	for id, at := range submitted {
		for _, t := range got[id] {
			out = append(out, t.Sub(at))
		}
		missing += max(0, per-len(got[id]))
	}
	return out, missing
}

func latencyPercentiles(ds []time.Duration) (p50, p99, worst time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*99/100)], ds[len(ds)-1]
}
