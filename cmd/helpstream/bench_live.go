package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
	"github.com/helpstream/helpstream/internal/service"
)

const benchLiveSummary = "hold N consoles' live-update streams open on a real serve while commands run through its API: append → every console p99, and the server's memory per stream (design §7)"

// runBenchLive is `helpstream bench live`.
func runBenchLive(ctx context.Context, args []string, out io.Writer) error {
	fs, dbURL := newBenchFlagSet("bench live", benchLiveSummary, out)
	connections := fs.Int("connections", 1000, "console event streams held open")
	technicians := fs.Int("technicians", 20, "technicians the streams belong to (one session each)")
	rate := fs.Float64("rate", 200, "commands per second through the API while the streams are open")
	duration := fs.Duration("duration", 20*time.Second, "how long the commands are measured, after 2 s of warm-up")
	serveProfile := fs.String("serve-cpuprofile", "", "write a CPU profile of the server during the measured commands (go tool pprof) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raiseOpenFiles()
	scratchURL, drop, err := scratchDatabase(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer drop()
	root, pid, private, stop, err := startServe(ctx, scratchURL, "bench-live-admin", *serveProfile != "")
	if err != nil {
		return err
	}
	defer stop()
	pool, err := service.OpenDatabase(ctx, scratchURL, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	cfg := bench.LiveConfig{Root: root, AdminToken: "bench-live-admin", ServerPID: pid, Pool: pool,
		Connections: *connections, Technicians: *technicians, Rate: *rate, Duration: *duration}
	if *serveProfile != "" {
		cfg.DuringLoad = func(ctx context.Context) error {
			return fetchProfile(ctx, private, *duration, *serveProfile)
		}
	}
	rep, err := bench.RunLive(ctx, cfg, out)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "streams\tcommands/s\tdeliveries\tmissed\tappend→all p50 ms\tp99 ms\tmax ms\tsend→all p50 ms\tp99 ms\tbar\tserver RSS before\twith streams\tper stream\tresult")
	fmt.Fprintf(tw, "%d\t%.0f\t%d\t%d\t%s\t%s\t%s\t%s\t%s\tp99 < 250 ms, 0 missed\t%.1f MiB\t%.1f MiB\t%.1f KiB\t%s\n",
		rep.Connections, rep.Rate, rep.Deliveries, rep.Missed, ms(rep.P50), ms(rep.P99), ms(rep.Max), ms(rep.SentP50), ms(rep.SentP99),
		float64(rep.RSSBefore)/(1<<20), float64(rep.RSSAfter)/(1<<20), rep.BytesPerConnection()/1024, verdict(rep.Pass()))
	return tw.Flush()
}

// raiseOpenFiles lifts this process's open-file limit to its hard limit: the streams' client
// ends are files, and serve (started by this process) inherits the limit.
func raiseOpenFiles() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// startServe runs this binary's serve on databaseURL and a free port, and returns its root URL,
// its process ID and a function that stops it. Its log goes to a file named on failure.
func startServe(ctx context.Context, databaseURL, adminToken string, profiles bool) (root string, pid int, private string, stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", 0, "", nil, fmt.Errorf("find this binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "helpstream-bench-live")
	if err != nil {
		return "", 0, "", nil, err
	}
	logPath := filepath.Join(dir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", 0, "", nil, err
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--database-url", databaseURL,
		"--files-dir", filepath.Join(dir, "files"), "--admin-token", adminToken}
	if profiles {
		// The private address serves /metrics and, with --pprof, the profiles.
		private = freeAddr()
		args = append(args, "--metrics-addr", private, "--pprof")
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, "", nil, err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", 0, "", nil, fmt.Errorf("start serve: %w", err)
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		os.RemoveAll(dir)
	}
	api := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			// "Helpstream API on http://127.0.0.1:port/api/v1 (OpenAPI: …"
			if rest, ok := strings.CutPrefix(lines.Text(), "Helpstream API on "); ok {
				url, _, _ := strings.Cut(rest, " ")
				select {
				case api <- strings.TrimSuffix(url, "/api/v1"):
				default:
				}
			}
		}
	}()
	select {
	case root = <-api:
		return root, cmd.Process.Pid, private, stop, nil
	case <-time.After(60 * time.Second):
	case <-ctx.Done():
	}
	logFile.Sync()
	b, _ := os.ReadFile(logPath)
	stop()
	return "", 0, "", nil, fmt.Errorf("serve printed no API address within 60 s; its log:\n%s", b)
}

// freeAddr returns a loopback address with a port free now.
func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer l.Close()
	return l.Addr().String()
}

// fetchProfile saves a CPU profile of d taken by the server at addr.
func fetchProfile(ctx context.Context, addr string, d time.Duration, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds())), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile the server: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile the server: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile the server: %w", err)
	}
	return f.Close()
}
