package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a PostgreSQL server of a test's own, for tests that stop, crash and restart the
// database under a running program: the shared server on 5432 must never see that. It listens
// on a free port of 127.0.0.1 and on a unix socket in its own directory, trusts every local
// connection as user postgres, and is stopped (immediate) and deleted when the test ends.
//
// Its methods fail the test on error, as NewDatabase does, so call them from the test's
// goroutine.
type Cluster struct {
	tb   testing.TB
	bin  string              // the directory of initdb, pg_ctl and postgres
	dir  string              // data/, the socket and postgres.log, owned by the server's OS user
	cred *syscall.Credential // the server's OS user when the test runs as root, else nil
	port int

	mu      sync.Mutex
	running *server // nil while stopped
}

// server is one run of the postmaster.
type server struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the postmaster has exited and been reaped
}

// ClusterSettings go into a cluster's postgresql.conf. Durability stays as in production
// except for fsync: an immediate stop kills PostgreSQL, not the machine, so what was written to
// the OS survives it and fsync only costs time. synchronous_commit stays on, or a commit
// acknowledged just before an immediate stop could be lost and a test would blame the program.
var ClusterSettings = []string{
	"listen_addresses = '127.0.0.1'",
	"fsync = off",
	"full_page_writes = off",
	"shared_buffers = 32MB",
	"max_connections = 100", // a server's pool (32 on 2 cores), its projectors and listeners, and the test
	"max_wal_size = 256MB",
	"log_min_messages = warning",
	"log_connections = off",
}

// PGBinEnv names the environment variable that points at the directory of PostgreSQL's server
// binaries (initdb, pg_ctl, postgres). When it is set, no other place is searched.
const PGBinEnv = "HELPSTREAM_PG_BIN"

// PGUserEnv names the environment variable that says which OS user runs a cluster when the tests
// run as root (PostgreSQL refuses to run as root). Default: postgres.
const PGUserEnv = "HELPSTREAM_PG_USER"

// FindBinaries returns the directory that holds initdb, pg_ctl and postgres: $HELPSTREAM_PG_BIN
// when set, else the directory of pg_ctl on $PATH (links followed), else the newest
// /usr/lib/postgresql/*/bin, else /usr/local/pgsql/bin.
func FindBinaries() (string, error) {
	if dir := os.Getenv(PGBinEnv); dir != "" {
		if err := hasBinaries(dir); err != nil {
			return "", fmt.Errorf("pgtest: $%s=%s: %w", PGBinEnv, dir, err)
		}
		return dir, nil
	}
	var candidates []string
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(versions, func(a, b string) int { return majorOf(b) - majorOf(a) })
	candidates = append(candidates, versions...)
	candidates = append(candidates, "/usr/local/pgsql/bin")
	for _, dir := range candidates {
		if hasBinaries(dir) == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("pgtest: no PostgreSQL server binaries (initdb, pg_ctl, postgres) in $%s, $PATH, /usr/lib/postgresql/*/bin or /usr/local/pgsql/bin: "+
		"install the PostgreSQL server (e.g. apt-get install postgresql-15) or set %s to their directory", PGBinEnv, PGBinEnv)
}

// Program returns the path of a PostgreSQL client program (pg_dump, pg_restore, psql) of the
// same installation as the server binaries FindBinaries finds, else the one on $PATH; the test
// fails when there is none.
func Program(tb testing.TB, name string) string {
	tb.Helper()
	if dir, err := FindBinaries(); err == nil {
		if p := filepath.Join(dir, name); exec.Command(p, "--version").Run() == nil {
			return p
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("pgtest: no %s: %v", name, err)
	}
	return p
}

func hasBinaries(dir string) error {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("no %s: %w", name, err)
		}
		if info.IsDir() || info.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not an executable file", filepath.Join(dir, name))
		}
	}
	return nil
}

// majorOf reads the major version out of /usr/lib/postgresql/<major>/bin; 0 when it is not one.
func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// StartCluster creates a cluster in a new temporary directory (initdb), starts it and waits
// until it accepts connections. When the test ends the server is stopped (immediate) and the
// directory removed; if the test failed, the end of the server's log is logged first.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := FindBinaries()
	if err != nil {
		tb.Fatal(err)
	}
	cred, err := serverUser()
	if err != nil {
		tb.Fatal(err)
	}
	// A short name: the socket's path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "hs-pg-")
	if err != nil {
		tb.Fatalf("pgtest: cluster directory: %v", err)
	}
	c := &Cluster{tb: tb, bin: bin, dir: dir, cred: cred}
	tb.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			tb.Errorf("pgtest: remove cluster directory: %v", err)
		}
	})
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			tb.Fatalf("pgtest: give %s to the server's OS user: %v", dir, err)
		}
	}
	tb.Cleanup(c.cleanup)
	if err := c.initdb(); err != nil {
		tb.Fatal(err)
	}
	// A free port can be taken by another process before the server binds it; pick again then.
	for attempt := 1; ; attempt++ {
		if c.port, err = freePort(); err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
		err = c.start()
		if err == nil {
			return c
		}
		if !errors.Is(err, errPortTaken) || attempt == 5 {
			tb.Fatal(err)
		}
	}
}

// serverUser is the credential the server runs with: PostgreSQL refuses root, so a test run as
// root starts it as $HELPSTREAM_PG_USER (postgres by default); anyone else runs it as themselves.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	name := os.Getenv(PGUserEnv)
	if name == "" {
		name = "postgres"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("pgtest: the tests run as root, which PostgreSQL refuses, and OS user %q to run the cluster is missing (create it or set %s): %w", name, PGUserEnv, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: uid of %s: %w", name, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: gid of %s: %w", name, err)
	}
	// No supplementary groups: root's must not follow the server.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) logPath() string { return filepath.Join(c.dir, "postgres.log") }

// command runs a server binary as the server's OS user, from the cluster's directory (the
// test's working directory may not be readable by that user).
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd
}

func (c *Cluster) initdb() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := c.command(ctx, "initdb", "--pgdata", c.dataDir(), "--username", "postgres", "--auth", "trust",
		"--encoding", "UTF8", "--locale", "C", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: initdb in %s (the directory must be reachable by the server's OS user): %w\n%s", c.dir, err, out)
	}
	conf, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgtest: open postgresql.conf: %w", err)
	}
	settings := append([]string{"unix_socket_directories = '" + c.dir + "'"}, ClusterSettings...)
	_, err = conf.WriteString("\n# pgtest\n" + strings.Join(settings, "\n") + "\n")
	if cerr := conf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pgtest: write postgresql.conf: %w", err)
	}
	return nil
}

// errPortTaken is start's error when another process holds the cluster's port.
var errPortTaken = errors.New("pgtest: the cluster's port is taken")

// start runs the postmaster as a child of the test process and waits until it accepts
// connections. It is a child, not a daemon started by pg_ctl, so that the kernel kills it
// (Pdeathsig) when the test binary dies without running its cleanups (a -timeout panic, a
// kill): a cluster never outlives its test on a shared machine. pg_ctl still stops it.
func (c *Cluster) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running != nil {
		return errors.New("pgtest: start: the cluster is already running")
	}
	logFile, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: open the server log: %w", err)
	}
	defer logFile.Close() // the child has its own copy
	logStart, _ := logFile.Seek(0, 2)
	cmd := c.command(context.Background(), "postgres", "-D", c.dataDir(), "-p", strconv.Itoa(c.port))
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	// Its own process group: a ^C meant for go test must not shut the cluster down under a
	// test that is still cleaning up.
	cmd.SysProcAttr.Setpgid = true
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s := &server{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	c.running = s

	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			err = conn.Ping(ctx)
			_ = conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			c.running = nil
			tail := c.logSince(logStart)
			if strings.Contains(tail, "Address already in use") {
				return fmt.Errorf("%w (%d)", errPortTaken, c.port)
			}
			return fmt.Errorf("pgtest: postgres exited while starting (%v); its log:\n%s", cmd.ProcessState, tail)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres does not accept connections on port %d after a minute: %w; its log:\n%s", c.port, err, c.logSince(logStart))
		}
	}
}

// stop runs pg_ctl stop in mode and waits until the postmaster is gone.
func (c *Cluster) stop(mode string) error {
	switch mode {
	case "smart", "fast", "immediate":
	default:
		return fmt.Errorf("pgtest: stop mode %q: want smart, fast or immediate", mode)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.running
	if s == nil {
		return errors.New("pgtest: stop: the cluster is not running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := c.command(ctx, "pg_ctl", "stop", "--pgdata", c.dataDir(), "--mode", mode, "--wait", "--timeout", "60").CombinedOutput()
	if err != nil {
		select {
		case <-s.exited: // it was already gone: stopped is what was asked
		default:
			return fmt.Errorf("pgtest: pg_ctl stop -m %s: %w\n%s", mode, err, out)
		}
	}
	select {
	case <-s.exited:
	case <-ctx.Done():
		return fmt.Errorf("pgtest: postgres still runs after pg_ctl stop -m %s", mode)
	}
	c.running = nil
	return nil
}

// cleanup stops the server however it can, and tells the end of its log when the test failed.
func (c *Cluster) cleanup() {
	c.mu.Lock()
	s := c.running
	c.mu.Unlock()
	if s != nil {
		if err := c.stop("immediate"); err != nil {
			c.tb.Errorf("pgtest: %v; killing it", err)
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if c.tb.Failed() {
		c.tb.Logf("pgtest: the end of the test cluster's log (%s):\n%s", c.logPath(), lastLines(c.logSince(0), 40))
	}
}

// logSince returns the server log from byte offset.
func (c *Cluster) logSince(offset int64) string {
	b, err := os.ReadFile(c.logPath())
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if offset > int64(len(b)) {
		offset = 0
	}
	return string(b[offset:])
}

func lastLines(s string, n int) string {
	lines := bytes.Split([]byte(strings.TrimRight(s, "\n")), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// URL is a connection URL for database db as superuser postgres, over TCP, for programs the
// test starts as well as for the test itself.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// CreateDatabase creates the empty, unmigrated database name on the cluster and returns its
// URL. The database goes with the cluster when the test ends; before, if the cluster still
// runs, its events are scanned for the secrets it keeps (ScanDatabase), as every test
// database's are: a restore must not bring a secret into a log either.
func (c *Cluster) CreateDatabase(name string) string {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		c.tb.Fatalf("connect to create database %s: %v", name, err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		c.tb.Fatalf("create database %s: %v", name, err)
	}
	url := c.URL(name)
	c.tb.Cleanup(func() {
		if !c.Running() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		// Only a secret found fails the test: a cluster a test left in a fault's state may
		// refuse the scan's connection, which is that test's business.
		if _, err := ScanDatabase(ctx, url); errors.Is(err, ErrSecretInLog) {
			c.tb.Errorf("database %s on the test cluster: %v", name, err)
		}
	})
	return url
}

// Port is the TCP port the cluster listens on; it stays the same across restarts.
func (c *Cluster) Port() int { return c.port }

// Running reports whether the server runs (started and not stopped by the test).
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running != nil
}

// Stop stops the server with pg_ctl stop -m mode: "fast" (clients are disconnected, a clean
// shutdown) or "immediate" (every process quits at once; the next start recovers from the WAL,
// as after a crash). "smart" waits for every client to leave. It returns when the server is
// gone.
func (c *Cluster) Stop(mode string) {
	c.tb.Helper()
	if err := c.stop(mode); err != nil {
		c.tb.Fatal(err)
	}
}

// Start starts the stopped server again on the same port and waits until it accepts
// connections (after an immediate stop, once it has recovered).
func (c *Cluster) Start() {
	c.tb.Helper()
	if err := c.start(); err != nil {
		c.tb.Fatal(err)
	}
}

// Restart is Stop(mode) then Start.
func (c *Cluster) Restart(mode string) {
	c.tb.Helper()
	c.Stop(mode)
	c.Start()
}

// Log returns the server's log so far (every run of it), for a failure message.
func (c *Cluster) Log() string { return c.logSince(0) }
