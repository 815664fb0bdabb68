package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/projections/directory"
	"github.com/helpstream/helpstream/projections/requestdetails"
	"github.com/helpstream/helpstream/projections/requestlist"
)

// The fault tests run the real binary against a PostgreSQL cluster of their own, which they
// stop fast and immediate under load, and kill the server with SIGKILL: nothing here may touch
// the shared server on 5432.

// The demo's fixed names (serve --demo prints them; README "Quick start").
const (
	demoAdminToken = "helpstream-demo-admin"
	demoPassword   = "helpstream-demo"
	acmePortal     = "6d830c2d-47a8-53bb-85c3-7a1a7b064359"
	globexPortal   = "54ef3e0c-ae29-5c26-a628-954ee781e56f"
	windowsAgent   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"
)

// buildHelpstream builds the binary under test into dir.
func buildHelpstream(dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "helpstream")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/helpstream: %w\n%s", err, out)
	}
	return bin, nil
}

// servers starts helpstream serve processes on one database, one after another, all writing
// to one log.
type servers struct {
	t        *testing.T
	bin      string
	dbURL    string
	filesDir string
	// masterKeyFile, when set, is passed as --master-key-file; otherwise serve --demo makes
	// one beside filesDir (keyFile).
	masterKeyFile string
	logPath       string
	log           *os.File
}

// keyFile is the master key the servers seal personal fields with.
func (s *servers) keyFile() string {
	if s.masterKeyFile != "" {
		return s.masterKeyFile
	}
	return filepath.Join(filepath.Dir(s.filesDir), "master.key")
}

func newServers(t *testing.T, bin, dbURL string) *servers {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "server.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	s := &servers{t: t, bin: bin, dbURL: dbURL, filesDir: filepath.Join(dir, "files"), logPath: logPath, log: log}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			t.Logf("the end of the servers' log (%d lines):\n%s", len(lines), strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
		log.Close()
	})
	return s
}

// errorLines counts the servers' ERROR log lines so far.
func (s *servers) errorLines() int {
	b, _ := os.ReadFile(s.logPath)
	return bytes.Count(b, []byte("level=ERROR"))
}

// errors returns up to n of the servers' ERROR log lines.
func (s *servers) errors(n int) []string {
	b, _ := os.ReadFile(s.logPath)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "level=ERROR") && len(out) < n {
			out = append(out, line)
		}
	}
	return out
}

// server is one running helpstream serve.
type server struct {
	cmd    *exec.Cmd
	root   string // http://127.0.0.1:<port>
	exited chan struct{}
}

// start runs serve --demo and returns once it listens. The process dies with the test binary
// (Pdeathsig) and is killed when the test ends, failed or not.
func (s *servers) start() *server {
	s.t.Helper()
	fmt.Fprintf(s.log, "---- serve started at %s\n", time.Now().Format(time.RFC3339Nano))
	args := []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--database-url", s.dbURL, "--files-dir", s.filesDir}
	if s.masterKeyFile != "" {
		args = append(args, "--master-key-file", s.masterKeyFile)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = s.log
	// A pipe of our own rather than StdoutPipe: the process is waited for while its output is
	// still being read.
	stdout, w, err := os.Pipe()
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start serve: %v", err)
	}
	w.Close()
	srv := &server{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(srv.exited) }()
	s.t.Cleanup(srv.kill)
	api := make(chan string, 1)
	go func() {
		defer stdout.Close()
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			fmt.Fprintln(s.log, lines.Text())
			if rest, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), "API:"); ok {
				select {
				case api <- strings.TrimSpace(rest):
				default:
				}
			}
		}
	}()
	select {
	case a := <-api:
		srv.root = strings.TrimSuffix(a, "/api/v1")
		return srv
	case <-srv.exited:
		s.t.Fatalf("serve exited before it listened (%v)", cmd.ProcessState)
	case <-time.After(90 * time.Second):
		s.t.Fatal("serve printed no API address in 90 s")
	}
	return nil
}

// kill sends SIGKILL and waits until the process is gone; a no-op once it is.
func (srv *server) kill() {
	select {
	case <-srv.exited:
		return
	default:
	}
	_ = srv.cmd.Process.Signal(syscall.SIGKILL)
	<-srv.exited
}

// stop asks the server to shut down as an operator would (SIGTERM) and waits for it.
func (srv *server) stop(t *testing.T) {
	t.Helper()
	_ = srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-srv.exited:
	case <-time.After(20 * time.Second):
		srv.kill()
		t.Error("serve did not stop within 20 s of SIGTERM; killed")
	}
}

// answer is what one HTTP call got.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error // the call failed: no answer
}

func (a answer) String() string {
	if a.err != nil {
		return "no answer: " + a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body))
}

func (a answer) object() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(a.body, &m)
	return m
}

// errorCode is the code of an error answer in the API's shape, "" for any other body.
func (a answer) errorCode() string {
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(a.body, &e) != nil || e.Error == nil || e.Error.Message == "" {
		return ""
	}
	return e.Error.Code
}

func (a answer) retryAfter() (time.Duration, bool) {
	n, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// client calls the current server and checks every answer against the outage rule (issue 18
// item 1): a failure that is not the client's is a 503 with Retry-After and code
// "unavailable", never a 500; a key still claimed is a 409 with Retry-After.
type client struct {
	http *http.Client
	root atomic.Pointer[string]

	unavailable   atomic.Int64 // 503 unavailable answers
	inProgress    atomic.Int64 // 409 idempotency_in_progress answers
	noAnswer      atomic.Int64 // calls that got no answer (server killed or restarting)
	mu            sync.Mutex
	violations    []string
	violationsAll int
}

func newClient(root string) *client {
	c := &client{http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	c.root.Store(&root)
	return c
}

func (c *client) violation(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.violationsAll++
	if len(c.violations) < 20 {
		c.violations = append(c.violations, fmt.Sprintf(format, args...))
	}
}

// report fails the test for every answer that broke the outage rule.
func (c *client) report(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.violationsAll > 0 {
		t.Errorf("%d answers broke the outage rule (503 + Retry-After + code unavailable; 409 in progress + Retry-After); the first ones:\n%s",
			c.violationsAll, strings.Join(c.violations, "\n"))
	}
}

// call sends one request; key is the Idempotency-Key ("" for none), body a value to send as
// JSON (nil for none).
func (c *client) call(ctx context.Context, method, path, token, key string, body any) answer {
	var payload io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{err: err}
		}
		payload = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, *c.root.Load()+path, payload)
	if err != nil {
		return answer{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	req.Header.Set("User-Agent", windowsAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		c.noAnswer.Add(1)
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.noAnswer.Add(1)
		return answer{err: fmt.Errorf("read the answer of %s %s: %w", method, path, err)}
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	c.check(method+" "+path, a)
	return a
}

func (c *client) check(what string, a answer) {
	_, hasRetryAfter := a.retryAfter()
	switch {
	case a.status == http.StatusServiceUnavailable && a.errorCode() == "unavailable" && hasRetryAfter:
		c.unavailable.Add(1)
	case a.status >= 500:
		c.violation("%s: %s (Retry-After %q)", what, a, a.header.Get("Retry-After"))
	case a.status == http.StatusConflict && a.errorCode() == "idempotency_in_progress":
		c.inProgress.Add(1)
		if !hasRetryAfter {
			c.violation("%s: %s without Retry-After", what, a)
		}
	}
}

// command sends a command with a new Idempotency-Key and, as a client should, sends it again
// with the same key until it is answered: after no answer, a 503 or a 409 "in progress"
// (waiting what Retry-After says). It returns the first other answer.
func (c *client) command(ctx context.Context, method, path, token string, body any) (answer, string) {
	key := uuid.NewString()
	return c.retry(ctx, method, path, token, key, body), key
}

func (c *client) retry(ctx context.Context, method, path, token, key string, body any) answer {
	for {
		a := c.call(ctx, method, path, token, key, body)
		wait := 100 * time.Millisecond
		switch {
		case a.err != nil:
		case a.status == http.StatusServiceUnavailable, a.status == http.StatusConflict && a.errorCode() == "idempotency_in_progress":
			if d, ok := a.retryAfter(); ok {
				wait = max(d, wait)
			}
		default:
			return a
		}
		select {
		case <-ctx.Done():
			return answer{err: fmt.Errorf("%s %s with key %s still unanswered: %w (last: %s)", method, path, key, ctx.Err(), a)}
		case <-time.After(wait):
		}
	}
}

// login logs a demo technician in and makes them Available.
func (c *client) login(ctx context.Context, t *testing.T, email string) string {
	t.Helper()
	a, _ := c.command(ctx, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": demoPassword})
	token, _ := a.object()["token"].(string)
	if a.status != http.StatusOK || token == "" {
		t.Fatalf("log in %s: %s", email, a)
	}
	if a, _ := c.command(ctx, "PUT", "/api/v1/me/availability", token, map[string]string{"availability": "available"}); a.status != http.StatusOK {
		t.Fatalf("make %s available: %s", email, a)
	}
	return token
}

// ack is an acknowledged command: what was sent and what the server answered.
type ack struct {
	step      string // submit, assign, join, tech-message, customer-message, end-chat, close
	requestID string
	key       string
	body      string // a message's text
	answer    map[string]any
	at        time.Time
}

// lifecycle are a request's commands, in order, with the event each must leave in its stream.
var lifecycle = []struct{ step, eventType string }{
	{"submit", "request.submitted.v1"},
	{"assign", "request.assigned.v1"},
	{"join", "request.chat_joined.v1"},
	{"tech-message", "request.message_sent.v1"},
	{"customer-message", "request.message_sent.v1"},
	{"end-chat", "request.chat_ended.v1"},
	{"close", "request.closed.v1"},
}

// loadRun is the state of the load: what was acknowledged, and what went wrong.
type loadRun struct {
	c        *client
	mu       sync.Mutex
	acks     []ack
	failures []string
	lastAck  atomic.Int64   // unix nanoseconds of the latest acknowledgement
	workers  []atomic.Int64 // the same, per worker
}

// busy waits until every worker has had a command acknowledged lately, so that the next fault
// lands on commands in flight rather than on workers waiting out a Retry-After.
func (l *loadRun) busy(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		recent := time.Now().Add(-300 * time.Millisecond).UnixNano()
		all := true
		for i := range l.workers {
			all = all && l.workers[i].Load() > recent
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the workers are not all running commands 20 s after the last fault")
		}
	}
}

func (l *loadRun) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) < 20 {
		l.failures = append(l.failures, fmt.Sprintf(format, args...))
	}
}

func (l *loadRun) acked(worker int, a ack) {
	l.mu.Lock()
	l.acks = append(l.acks, a)
	l.mu.Unlock()
	l.lastAck.Store(a.at.UnixNano())
	l.workers[worker].Store(a.at.UnixNano())
}

// walk takes one request from submission to close; every command is retried with its key
// until answered. It stops at the first answer that is not a success.
func (l *loadRun) walk(ctx context.Context, worker, n int, portal, techToken string) {
	tag := fmt.Sprintf("w%d-r%d-%s", worker, n, uuid.NewString()[:8])
	var requestID, customerToken string
	for _, s := range lifecycle {
		var method, path, token, text string
		var body any
		switch s.step {
		case "submit":
			method, path = "POST", "/api/v1/portals/"+portal+"/requests"
			body = map[string]string{"customer_name": "Customer " + tag, "customer_email": tag + "@example.com", "description": "fault test " + tag}
		case "tech-message":
			method, path, token, text = "POST", "/api/v1/requests/"+requestID+"/messages", techToken, "technician says "+tag
			body = map[string]string{"body": text}
		case "customer-message":
			method, path, token, text = "POST", "/api/v1/customer/requests/"+requestID+"/messages", customerToken, "customer says "+tag
			body = map[string]string{"body": text}
		default:
			method, path, token = "POST", "/api/v1/requests/"+requestID+"/"+s.step, techToken
		}
		a, key := l.c.command(ctx, method, path, token, body)
		if a.err != nil || a.status/100 != 2 {
			l.fail("%s %s (key %s): %s", s.step, tag, key, a)
			return
		}
		obj := a.object()
		if s.step == "submit" {
			requestID, _ = obj["request_id"].(string)
			customerToken, _ = obj["customer_token"].(string)
			if requestID == "" || customerToken == "" {
				l.fail("submit %s: no request ID or customer token in %s", tag, a)
				return
			}
		}
		l.acked(worker, ack{step: s.step, requestID: requestID, key: key, body: text, answer: obj, at: time.Now()})
		time.Sleep(5 * time.Millisecond) // a steady load, not a benchmark, on a shared 2-core machine
	}
}

// faultServers builds the binary, starts a cluster of the test's own, and returns it with the
// servers to run on its database helpstream.
func faultServers(t *testing.T) (*pgtest.Cluster, *servers) {
	t.Helper()
	bin, cluster := faultCluster(t)
	return cluster, newServers(t, bin, cluster.URL("helpstream"))
}

// connect opens a connection of the test's own to the database at url, closed when the test
// ends.
func connect(ctx context.Context, t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// faultCluster builds the binary and starts a cluster of the test's own.
func faultCluster(t *testing.T) (bin string, cluster *pgtest.Cluster) {
	t.Helper()
	dir := t.TempDir()
	built := make(chan error, 1)
	go func() {
		var err error
		bin, err = buildHelpstream(dir)
		built <- err
	}()
	cluster = pgtest.StartCluster(t)
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	return bin, cluster
}

// PostgreSQL restarted fast and immediate under load, and the server killed with SIGKILL and
// started again (issue 9 item 8, design §7 reliability): every acknowledged command's event is
// in the log once, nothing else is, the read models equal a fresh rebuild, and the server
// comes back by itself after each restart of the database. During the outages every failing
// answer is a 503 with Retry-After and code "unavailable", and /healthz says 503 until the
// database is back (issue 18 item 1).
func TestFaultsRestartsAndKillUnderLoad(t *testing.T) {
	started := time.Now()
	cluster, runs := faultServers(t)
	srv := runs.start()
	c := newClient(srv.root)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	techs := map[string]string{}
	for _, email := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		techs[email] = c.login(ctx, t, email)
	}
	// Each worker walks requests of a portal its technician may serve.
	workers := []struct{ portal, tech string }{
		{acmePortal, "alice@example.com"}, {globexPortal, "alice@example.com"},
		{acmePortal, "bob@example.com"}, {acmePortal, "bob@example.com"},
		{globexPortal, "carol@example.com"}, {globexPortal, "carol@example.com"},
	}
	load := &loadRun{c: c, workers: make([]atomic.Int64, len(workers))}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				load.walk(ctx, i, n, w.portal, techs[w.tech])
			}
		}()
	}
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad) // a failed test must not leave workers calling a dead server

	type outage struct {
		name                   string
		healthDown, commands   int // 503s seen by the probes while the database was down
		healthUp, commandUp    time.Duration
		unavailableDuringPhase int64
	}
	var outages []outage
	probeToken := techs["alice@example.com"]
	// restartDatabase stops PostgreSQL in mode, probes the server while it is down, starts it
	// again and measures how long the server takes to answer again, by itself.
	restartDatabase := func(mode string) {
		t.Helper()
		o := outage{name: "PostgreSQL stopped -m " + mode}
		before := c.unavailable.Load()
		cluster.Stop(mode)
		for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			h := c.call(ctx, "GET", "/healthz", "", "", nil)
			if h.status != http.StatusServiceUnavailable {
				t.Errorf("%s: /healthz answered %s while the database was down, want 503", o.name, h)
			} else {
				o.healthDown++
			}
			p := c.call(ctx, "PUT", "/api/v1/me/availability", probeToken, "", map[string]string{"availability": "available"})
			if p.status != http.StatusServiceUnavailable {
				t.Errorf("%s: a command answered %s while the database was down, want 503", o.name, p)
			} else {
				o.commands++
			}
		}
		cluster.Start()
		up := time.Now()
		for o.healthUp == 0 || o.commandUp == 0 {
			if time.Since(up) > 15*time.Second {
				t.Fatalf("%s: the server has not recovered 15 s after PostgreSQL was back (healthz after %v, a command after %v)", o.name, o.healthUp, o.commandUp)
			}
			if o.healthUp == 0 && c.call(ctx, "GET", "/healthz", "", "", nil).status == http.StatusOK {
				o.healthUp = time.Since(up)
			}
			if o.commandUp == 0 && c.call(ctx, "PUT", "/api/v1/me/availability", probeToken, "", map[string]string{"availability": "available"}).status == http.StatusOK {
				o.commandUp = time.Since(up)
			}
			time.Sleep(50 * time.Millisecond)
		}
		o.unavailableDuringPhase = c.unavailable.Load() - before
		outages = append(outages, o)
	}

	time.Sleep(2 * time.Second)
	load.busy(t)
	restartDatabase("fast")
	load.busy(t)
	time.Sleep(time.Second)
	restartDatabase("immediate")
	load.busy(t)
	time.Sleep(time.Second)

	// The server killed mid-command and started again on the same database.
	unanswered := c.noAnswer.Load()
	srv.kill()
	killedAt := time.Now()
	time.Sleep(500 * time.Millisecond)
	srv = runs.start()
	listening := time.Now()
	restarted := listening.Sub(killedAt)
	c.root.Store(&srv.root)
	for load.lastAck.Load() < listening.UnixNano() {
		if time.Since(listening) > 30*time.Second {
			t.Fatal("no command acknowledged within 30 s of the server's restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ackAfterKill := time.Unix(0, load.lastAck.Load()).Sub(killedAt)
	if c.noAnswer.Load() == unanswered {
		t.Error("no call went unanswered when the server was killed: the kill hit no command in flight")
	}
	time.Sleep(2 * time.Second)
	stopLoad()
	loadDone := time.Now()

	load.mu.Lock()
	for _, f := range load.failures {
		t.Errorf("a command failed: %s", f)
	}
	acks := slices.Clone(load.acks)
	load.mu.Unlock()
	c.report(t)
	for _, o := range outages {
		if o.healthDown == 0 || o.commands == 0 {
			t.Errorf("%s: no 503 seen while the database was down", o.name)
		}
		// "Within a few seconds": PostgreSQL answers when Start returns, so this is the
		// server's own reconnection.
		if o.healthUp > 5*time.Second || o.commandUp > 5*time.Second {
			t.Errorf("%s: the server took %v (/healthz) and %v (a command) to answer again after PostgreSQL was back, want under 5 s", o.name, o.healthUp, o.commandUp)
		}
	}

	// Let the read models catch up, then stop the server so that nothing moves under the checks.
	admin := func() answer { return c.call(ctx, "GET", "/api/v1/admin/projections", demoAdminToken, "", nil) }
	caughtUp := false
	for deadline := time.Now().Add(30 * time.Second); !caughtUp && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var status struct {
			Projections []struct {
				Name      string `json:"name"`
				Built     bool   `json:"built"`
				LagEvents int64  `json:"lag_events"`
				LagCapped bool   `json:"lag_capped"`
			} `json:"projections"`
		}
		a := admin()
		if a.status != http.StatusOK || json.Unmarshal(a.body, &status) != nil || len(status.Projections) == 0 {
			continue
		}
		caughtUp = true
		for _, p := range status.Projections {
			caughtUp = caughtUp && p.Built && p.LagEvents == 0 && !p.LagCapped
		}
	}
	if !caughtUp {
		t.Errorf("the read models did not catch up within 30 s: %s", admin())
	}
	srv.stop(t)

	conn := connect(ctx, t, runs.dbURL)
	checkLog(ctx, t, conn, openSealedLog(ctx, t, runs.dbURL, runs.keyFile()), acks)
	checkRebuild(ctx, t, conn, runs.bin, runs.dbURL, runs.keyFile())
	var open int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM request_list WHERE status <> 'completed' OR messages <> 2`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Errorf("%d listed requests are not completed with two messages, though every walk ended with a close", open)
	}

	steps := map[string]int{}
	for _, a := range acks {
		steps[a.step]++
	}
	t.Logf("load: %d commands acknowledged (%d requests walked to close) by %d workers (%v into the test); %d answers 503 unavailable, %d 409 in progress, %d calls without answer; %d ERROR lines in the server log",
		len(acks), steps["close"], len(workers), loadDone.Sub(started).Round(time.Millisecond), c.unavailable.Load(), c.inProgress.Load(), c.noAnswer.Load(), runs.errorLines())
	for _, o := range outages {
		t.Logf("%s for 1.5 s: %d /healthz and %d command probes answered 503 while down, %d 503s in all; /healthz 200 %v and a command 2xx %v after PostgreSQL was back",
			o.name, o.healthDown, o.commands, o.unavailableDuringPhase, o.healthUp.Round(time.Millisecond), o.commandUp.Round(time.Millisecond))
	}
	t.Logf("server SIGKILLed: listening again %v after the kill (0.5 s of it the test's pause), the workers' commands acknowledged again %v after it",
		restarted.Round(time.Millisecond), ackAfterKill.Round(time.Millisecond))
	for _, line := range runs.errors(10) {
		t.Logf("server log: %s", line)
	}
}

// checkLog holds the event log to the acknowledgements: every acknowledged command's event
// where its answer says, every walked request's stream exactly its commands' events in order
// (nothing lost, nothing twice), no request the clients were not told of, no message twice.
func checkLog(ctx context.Context, t *testing.T, conn *pgx.Conn, sealed sealedLog, acks []ack) {
	t.Helper()
	type event struct {
		version         int64
		eventID, typ    string
		messageID, body string
		position        string
	}
	types := func(events []event) []string {
		out := make([]string, len(events))
		for i, e := range events {
			out[i] = e.typ
		}
		return out
	}
	streams := map[string][]event{}
	rows, err := conn.Query(ctx, `SELECT stream_id, stream_version, event_id::text, event_type,
			coalesce(data->>'message_id', ''), data, transaction_id::text || '-' || global_position
		FROM events WHERE stream_id LIKE 'request-%' ORDER BY stream_id, stream_version`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var stream string
		var e event
		var data []byte
		if err := rows.Scan(&stream, &e.version, &e.eventID, &e.typ, &e.messageID, &data, &e.position); err != nil {
			t.Fatal(err)
		}
		e.body = string(data) // opened below, once the rows are read
		streams[stream] = append(streams[stream], e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	bodies := map[string]int{}
	for _, events := range streams {
		for i, e := range events {
			events[i].body = sealed.body(ctx, e.eventID, e.typ, []byte(e.body))
			if e.typ == "request.message_sent.v1" {
				bodies[events[i].body]++
			}
		}
	}
	var all, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT event_id) FROM events`).Scan(&all, &distinct); err != nil {
		t.Fatal(err)
	}
	if all != distinct {
		t.Errorf("%d events but %d distinct event IDs", all, distinct)
	}
	var repeated []string
	for body, n := range bodies {
		if n > 1 {
			repeated = append(repeated, body)
		}
	}
	if len(repeated) > 0 {
		t.Errorf("%d messages stored more than once (every one was sent with a text of its own), e.g. %q", len(repeated), repeated[0])
	}

	byRequest := map[string][]ack{}
	for _, a := range acks {
		byRequest[a.requestID] = append(byRequest[a.requestID], a)
	}
	step := map[string]string{}
	for _, s := range lifecycle {
		step[s.step] = s.eventType
	}
	bad := 0
	wrong := func(format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	for id, walked := range byRequest {
		stream := streams["request-"+id]
		if len(stream) != len(walked) {
			wrong("request %s: %d events in its stream for %d acknowledged commands (%v)", id, len(stream), len(walked), types(stream))
		}
		for i, a := range walked {
			version, _ := a.answer["version"].(float64)
			position, _ := a.answer["position"].(string)
			if int(version) != i || i >= len(stream) {
				wrong("request %s: %s acknowledged at version %v, want %d (stream %v)", id, a.step, a.answer["version"], i, types(stream))
				continue
			}
			e := stream[i]
			switch {
			case e.typ != step[a.step]:
				wrong("request %s: %s acknowledged at version %d, where the log holds %s", id, a.step, i, e.typ)
			case e.position != position:
				wrong("request %s: %s acknowledged at position %s, the log holds it at %s", id, a.step, position, e.position)
			case a.body != "" && (e.body != a.body || e.messageID != a.answer["id"]):
				wrong("request %s: message %v %q acknowledged, the log holds %s %q", id, a.answer["id"], a.body, e.messageID, e.body)
			}
		}
	}
	for stream, events := range streams {
		if _, ok := byRequest[strings.TrimPrefix(stream, "request-")]; !ok {
			wrong("stream %s (%v) belongs to no acknowledged submission: a retried submission made a second request", stream, types(events))
		}
	}
	if len(byRequest) == 0 {
		t.Error("no request was acknowledged")
	}
}

// checkRebuild compares the read models the server kept through the faults with a rebuild from
// the log (helpstream projections rebuild, with the server stopped): equal, row for row.
func checkRebuild(ctx context.Context, t *testing.T, conn *pgx.Conn, bin, dbURL, keyFile string) {
	t.Helper()
	var tables []string
	tables = append(tables, directory.NewProjection().Tables()...)
	tables = append(tables, requestlist.NewProjection().Tables()...)
	tables = append(tables, requestdetails.NewProjection().Tables()...)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS live CASCADE; CREATE SCHEMA live`); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE live.%[1]s AS TABLE public.%[1]s`, table)); err != nil {
			t.Fatalf("keep the live %s: %v", table, err)
		}
	}
	out, err := exec.CommandContext(ctx, bin, "projections", "rebuild", "--database-url", dbURL, "--master-key-file", keyFile).CombinedOutput()
	if err != nil {
		t.Fatalf("projections rebuild: %v\n%s", err, out)
	}
	for _, table := range tables {
		var rows, differ int
		err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM public.%[1]s),
			(SELECT count(*) FROM ((TABLE public.%[1]s EXCEPT ALL TABLE live.%[1]s)
				UNION ALL (TABLE live.%[1]s EXCEPT ALL TABLE public.%[1]s)) x)`, table)).Scan(&rows, &differ)
		if err != nil {
			t.Fatal(err)
		}
		if differ != 0 {
			t.Errorf("%s: %d rows differ between the read model kept through the faults and a fresh rebuild (%d rows rebuilt)", table, differ, rows)
		}
	}
}

// A transaction held open in ANOTHER database of the cluster (the xmin horizon is cluster-wide)
// no longer holds the log back: reads look past it within a second, and /healthz and /metrics
// name it (issue 11 items 2 to 4). An append held open in the server's own database does hold
// the log back, and reads keep their bounds (issue 18 item 3): min_position waits at most about
// 2 s in all and then answers with X-Projection-Behind: true; the details of a request whose
// submission was acknowledged are folded from its stream rather than answered 404; an unknown
// request is 404 with the header; /healthz says delivery is held and by whom. Once the
// transaction ends, the read models catch up and the header goes.
func TestReadsWhileTheLogIsHeldBack(t *testing.T) {
	cluster, runs := faultServers(t)
	srv := runs.start()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newClient(srv.root)
	tech := c.login(ctx, t, "bob@example.com")
	submit := func() (id, position string) {
		t.Helper()
		a, _ := c.command(ctx, "POST", "/api/v1/portals/"+acmePortal+"/requests", "", map[string]string{
			"customer_name": "Ada", "customer_email": "ada@example.com", "description": "Printer on fire", "device_type": "windows"})
		if a.status != http.StatusCreated {
			t.Fatalf("submit: %s", a)
		}
		return a.object()["request_id"].(string), a.object()["position"].(string)
	}
	// A read that must keep the bound, and what it answered.
	read := func(path string) (answer, time.Duration) {
		t.Helper()
		start := time.Now()
		a := c.call(ctx, "GET", path, tech, "", nil)
		return a, time.Since(start)
	}
	const bound = 2*time.Second + 700*time.Millisecond // the documented 2 s, and a slow machine's margin

	// Before: the read models keep up.
	first, pos := submit()
	if a, took := read("/api/v1/requests/" + first + "?min_position=" + pos); a.status != http.StatusOK || a.header.Get("X-Projection-Behind") != "" {
		t.Fatalf("before the transaction: %s after %s, behind %q", a, took, a.header.Get("X-Projection-Behind"))
	}

	// A transaction with an xid, held open in another database of the same cluster.
	admin := connect(ctx, t, cluster.URL("postgres"))
	if _, err := admin.Exec(ctx, "CREATE DATABASE elsewhere"); err != nil {
		t.Fatal(err)
	}
	other, err := connect(ctx, t, cluster.URL("elsewhere")).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	lookedPast, pos := submit()
	if a, took := read("/api/v1/requests/" + lookedPast + "?min_position=" + pos); a.status != http.StatusOK || a.header.Get("X-Projection-Behind") != "" || took > time.Second {
		t.Errorf("while a transaction of another database is open: %s after %s, behind %q; want 200 within 1 s", a, took, a.header.Get("X-Projection-Behind"))
	}
	time.Sleep(time.Second) // /healthz names transactions open for a second or more
	health := c.call(ctx, "GET", "/healthz", "", "", nil)
	report, _ := health.object()["event_log"].(map[string]any)
	if health.status != http.StatusOK || report["delivery_held"] != false || !strings.Contains(fmt.Sprint(report["summary"]), `database "elsewhere"`) {
		t.Errorf("/healthz while another database's transaction is open: %s", health)
	}
	if metrics := c.call(ctx, "GET", "/metrics", demoAdminToken, "", nil); !metricAbove(string(metrics.body), `helpstream_event_log_horizon_held_seconds{application_name="",database="elsewhere"}`, 1) {
		t.Errorf("/metrics does not say the horizon is held by database elsewhere:\n%s", metrics.body)
	}
	if out, err := exec.CommandContext(ctx, runs.bin, "projections", "status", "--database-url", cluster.URL("helpstream")).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), `database "elsewhere"`) || !strings.Contains(string(out), "cannot write events") {
		t.Errorf("projections status while another database's transaction is open (%v):\n%s", err, out)
	}
	if err := other.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// An append held open in the server's own database: the log is held back for real.
	tx, err := connect(ctx, t, cluster.URL("helpstream")).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
		VALUES ('held-open', 0, gen_random_uuid(), 'test.held_open.v1', '{}', '{}')`); err != nil {
		t.Fatal(err)
	}
	var writer int
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&writer); err != nil {
		t.Fatal(err)
	}

	id, pos := submit() // appends are not held back: only what readers see of them is
	for _, r := range []struct {
		name, path string
		status     int
	}{
		{"the list", "/api/v1/requests?view=new&min_position=" + pos, http.StatusOK},
		{"the details", "/api/v1/requests/" + id + "?min_position=" + pos, http.StatusOK},
		{"the details without min_position", "/api/v1/requests/" + id, http.StatusOK},
		{"an unknown request", "/api/v1/requests/" + uuid.NewString() + "?min_position=" + pos, http.StatusNotFound},
	} {
		a, took := read(r.path)
		if a.status != r.status || took > bound {
			t.Errorf("%s while the log is held back: %s after %s, want %d within %s", r.name, a, took, r.status, bound)
		}
		if a.header.Get("X-Projection-Behind") != "true" {
			t.Errorf("%s while the log is held back: no X-Projection-Behind: true (%s)", r.name, a)
		}
		if r.name == "the details" && a.object()["id"] != id {
			t.Errorf("the details folded from the log name %v, want %s", a.object()["id"], id)
		}
	}
	customer, _ := c.command(ctx, "POST", "/api/v1/portals/"+acmePortal+"/requests", "", map[string]string{
		"customer_name": "Bea", "customer_email": "bea@example.com", "description": "Screen is blue", "device_type": "windows"})
	token, _ := customer.object()["customer_token"].(string)
	start := time.Now()
	own := c.call(ctx, "GET", "/api/v1/customer/requests/"+customer.object()["request_id"].(string)+"?min_position="+customer.object()["position"].(string), token, "", nil)
	if own.status != http.StatusOK || time.Since(start) > bound {
		t.Errorf("the customer's own request while the log is held back: %s after %s", own, time.Since(start))
	}

	time.Sleep(time.Second)
	if out, err := exec.CommandContext(ctx, runs.bin, "projections", "status", "--database-url", cluster.URL("helpstream")).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), fmt.Sprintf("event delivery is held back by the transaction of backend %d", writer)) {
		t.Errorf("projections status while an append is held open (%v):\n%s", err, out)
	}
	health = c.call(ctx, "GET", "/healthz", "", "", nil)
	report, _ = health.object()["event_log"].(map[string]any)
	if health.status != http.StatusOK || report["delivery_held"] != true || !strings.Contains(fmt.Sprint(report["summary"]), fmt.Sprintf("held back by the transaction of backend %d", writer)) {
		t.Errorf("/healthz while an append is held open: %s", health)
	}

	// Released: the read models catch up and the answers are theirs again.
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, _ := read("/api/v1/requests/" + id + "?min_position=" + pos)
		if a.status == http.StatusOK && a.header.Get("X-Projection-Behind") == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the transaction ended the details still answer %s, behind %q", a, a.header.Get("X-Projection-Behind"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.report(t)
}

// metricAbove reports whether the exposition text has series with a value above least.
func metricAbove(exposition, series string, least float64) bool {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return err == nil && v >= least
		}
	}
	return false
}

// An Idempotency-Key whose server died mid-command (issue 18 item 2): killed after the claim
// and before the append, and after the append and before the answer was stored. After a
// restart each retry with the same key succeeds exactly once: one message each, and the second
// answers as its first attempt would have, pointing at the event that attempt wrote. No hook
// in the server: the test holds it at the right moment with locks from its own connections.
func TestFaultsIdempotencyAfterKill(t *testing.T) {
	_, runs := faultServers(t)
	srv := runs.start()
	c := newClient(srv.root)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	bob := c.login(ctx, t, "bob@example.com")
	submitted, _ := c.command(ctx, "POST", "/api/v1/portals/"+acmePortal+"/requests", "",
		map[string]string{"customer_name": "Ada", "customer_email": "ada@example.com", "description": "killed mid-command"})
	requestID, _ := submitted.object()["request_id"].(string)
	if submitted.status != http.StatusCreated || requestID == "" {
		t.Fatalf("submit: %s", submitted)
	}
	for _, step := range []string{"assign", "join"} {
		if a, _ := c.command(ctx, "POST", "/api/v1/requests/"+requestID+"/"+step, bob, nil); a.status != http.StatusOK {
			t.Fatalf("%s: %s", step, a)
		}
	}
	stream := "request-" + requestID
	path := "/api/v1/requests/" + requestID + "/messages"
	type command struct {
		name, key, text string
		first           chan answer // what the attempt the server died in got, if anything
	}
	afterAppend := command{name: "killed after the append", key: "after-append-" + uuid.NewString(), text: "after append " + uuid.NewString(), first: make(chan answer, 1)}
	beforeAppend := command{name: "killed before the append", key: "before-append-" + uuid.NewString(), text: "before append " + uuid.NewString(), first: make(chan answer, 1)}
	send := func(cmd command) {
		go func() { cmd.first <- c.call(ctx, "POST", path, bob, cmd.key, map[string]string{"body": cmd.text}) }()
	}

	connect := func() *pgx.Conn {
		conn := connect(ctx, t, runs.dbURL)
		if _, err := conn.Exec(ctx, `SET lock_timeout = '10s'`); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	check, events, keys := connect(), connect(), connect()
	pid := func(conn *pgx.Conn) int32 { return int32(conn.PgConn().PID()) }
	// blockedBy waits until a backend of the server waits for a lock held by holder while
	// running a statement that contains like, and returns its pid.
	blockedBy := func(holder *pgx.Conn, like, what string) int32 {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var blocked int32
			err := check.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
				WHERE datname = current_database() AND $1::int = ANY(pg_blocking_pids(pid)) AND query ILIKE $2 LIMIT 1`,
				pid(holder), "%"+like+"%").Scan(&blocked)
			if err == nil {
				return blocked
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				t.Fatal(err)
			}
		}
		t.Fatalf("no statement of the server blocked %s within 10 s", what)
		return 0
	}
	var sealed sealedLog // opened once serve --demo has made its master key
	messages := func(text string) int {
		t.Helper()
		if sealed.keys == nil {
			sealed = openSealedLog(ctx, t, runs.dbURL, runs.keyFile())
		}
		rows, err := check.Query(ctx, `SELECT event_id::text, event_type, data FROM events WHERE stream_id = $1 AND event_type = 'request.message_sent.v1'`, stream)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var id, typ string
			var data []byte
			if err := rows.Scan(&id, &typ, &data); err != nil {
				t.Fatal(err)
			}
			if sealed.body(ctx, id, typ, data) == text {
				n++
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	claimStatus := func(key string) int {
		t.Helper()
		var status int
		if err := check.QueryRow(ctx, `SELECT status FROM idempotency_keys WHERE key = $1`, key).Scan(&status); err != nil {
			t.Fatalf("the claim of key %s: %v", key, err)
		}
		return status
	}
	begin := func(conn *pgx.Conn, sql string, args ...any) pgx.Tx {
		t.Helper()
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
		return tx
	}

	// After the append: hold the command at its append (events locked), lock its claim row,
	// let the append commit: storing the answer now waits for the claim row.
	eventsLock := begin(events, `LOCK TABLE events IN EXCLUSIVE MODE`)
	send(afterAppend)
	blockedBy(events, "INSERT INTO events", "on the events table (after-append case)")
	if s := claimStatus(afterAppend.key); s != 0 {
		t.Fatalf("claim of the after-append command has status %d before its append, want 0 (claimed)", s)
	}
	claimLock := begin(keys, `SELECT 1 FROM idempotency_keys WHERE key = $1 FOR UPDATE`, afterAppend.key)
	if err := eventsLock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); messages(afterAppend.text) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the after-append command did not append within 10 s")
		}
	}
	blockedBy(keys, "completed_at", "on the claim row (storing the answer)")

	// Before the append: another command held at its append, its key claimed.
	eventsLock = begin(events, `LOCK TABLE events IN EXCLUSIVE MODE`)
	send(beforeAppend)
	blockedBy(events, "INSERT INTO events", "on the events table (before-append case)")
	if s := claimStatus(beforeAppend.key); s != 0 {
		t.Fatalf("claim of the before-append command has status %d, want 0 (claimed)", s)
	}

	srv.kill()
	killedAt := time.Now()
	// PostgreSQL notices that a client died only when it next talks to it: the dead server's
	// statements waiting for our locks would run when we let go (the append would commit, the
	// answer be stored) as if the server were alive. Ending them is the server's death reaching
	// the database.
	if _, err := check.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pg_blocking_pids(pid) && $1::int[]`, []int32{pid(events), pid(keys)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var left int
		if err := check.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pg_blocking_pids(pid) && $1::int[]`, []int32{pid(events), pid(keys)}).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed server's blocked statements are still there 10 s after they were terminated")
		}
	}
	if err := eventsLock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := claimLock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []command{afterAppend, beforeAppend} {
		if a := <-cmd.first; a.err == nil {
			// The server answered before it died: that answer is what a retry must repeat.
			cmd.first <- a
		}
	}
	if n := messages(afterAppend.text); n != 1 {
		t.Fatalf("after the kill the log holds the after-append message %d times, want 1", n)
	}
	if n := messages(beforeAppend.text); n != 0 {
		t.Fatalf("after the kill the log holds the before-append message %d times, want 0", n)
	}
	if claimStatus(afterAppend.key) != 0 || claimStatus(beforeAppend.key) != 0 {
		t.Fatal("a key the killed server claimed is no longer just claimed")
	}

	srv = runs.start()
	c.root.Store(&srv.root)
	type outcome struct {
		answer answer
		took   time.Duration
	}
	results := make([]outcome, 2)
	var wg sync.WaitGroup
	for i, cmd := range []command{afterAppend, beforeAppend} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].answer = c.retry(ctx, "POST", path, bob, cmd.key, map[string]string{"body": cmd.text})
			results[i].took = time.Since(killedAt)
		}()
	}
	wg.Wait()
	c.report(t)

	type storedMessage struct {
		id, body, position string
		version            int64
	}
	var messageEvents []storedMessage
	rows, err := check.Query(ctx, `SELECT data->>'message_id', event_id::text, data, transaction_id::text || '-' || global_position, stream_version
		FROM events WHERE stream_id = $1 AND event_type = 'request.message_sent.v1' ORDER BY stream_version`, stream)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e storedMessage
		var eventID string
		var data []byte
		if err := rows.Scan(&e.id, &eventID, &data, &e.position, &e.version); err != nil {
			t.Fatal(err)
		}
		e.body = sealed.body(ctx, eventID, "request.message_sent.v1", data)
		messageEvents = append(messageEvents, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(messageEvents) != 2 {
		t.Errorf("the stream holds %d messages, want 2, one per command: %+v", len(messageEvents), messageEvents)
	}
	for i, cmd := range []command{afterAppend, beforeAppend} {
		got := results[i].answer
		if got.status != http.StatusCreated {
			t.Errorf("%s: the retry after the restart answered %s, want 201", cmd.name, got)
			continue
		}
		obj := got.object()
		var stored *storedMessage
		for j := range messageEvents {
			if messageEvents[j].body == cmd.text {
				if stored != nil {
					t.Errorf("%s: the message is in the log twice", cmd.name)
				}
				stored = &messageEvents[j]
			}
		}
		if stored == nil {
			t.Errorf("%s: acknowledged %s, but its message is not in the log", cmd.name, got)
			continue
		}
		if obj["id"] != stored.id || obj["position"] != stored.position || obj["version"] != float64(stored.version) {
			t.Errorf("%s: the retry answered %s, the message is in the log as id %s, version %d, position %s",
				cmd.name, got, stored.id, stored.version, stored.position)
		}
		select {
		case first := <-cmd.first:
			if !bytes.Equal(first.body, got.body) || first.status != got.status {
				t.Errorf("%s: the dying server answered %s, the retry %s", cmd.name, first, got)
			}
		default:
		}
		// And once more: now the answer is kept, and replayed as is.
		again := c.call(ctx, "POST", path, bob, cmd.key, map[string]string{"body": cmd.text})
		if again.status != got.status || !bytes.Equal(again.body, got.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("%s: a second retry answered %s (Idempotent-Replayed %q), want the first retry's %s replayed",
				cmd.name, again, again.header.Get("Idempotent-Replayed"), got)
		}
		// The README's lease is 10 s: a retry runs once the dead attempt's lease has run out.
		if results[i].took > 25*time.Second {
			t.Errorf("%s: the retry succeeded only %v after the kill, want soon after the 10 s lease", cmd.name, results[i].took)
		}
		t.Logf("%s: the retry succeeded %v after the kill", cmd.name, results[i].took.Round(time.Millisecond))
	}
	if n := messages(afterAppend.text) + messages(beforeAppend.text); n != 2 {
		t.Errorf("%d messages in the log after the retries, want 2", n)
	}
	t.Logf("%d answers 409 idempotency_in_progress (with Retry-After) while the dead server's leases ran out; %d ERROR lines in the server log",
		c.inProgress.Load(), runs.errorLines())
}
