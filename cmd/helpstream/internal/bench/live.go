package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// LiveConfig is a live-consoles measurement (design §7): consoles' event streams held open on
// one running server while commands run through its API.
type LiveConfig struct {
	// Root is the server's address, "http://127.0.0.1:8080".
	Root string
	// AdminToken opens the server's admin routes, to create the company and technicians.
	AdminToken string
	// ServerPID is the server's process, whose resident memory is reported; 0 skips it.
	ServerPID int
	// Connections is how many console event streams are held open; 1000 when zero.
	Connections int
	// Technicians share the connections (one session each, several consoles per session);
	// 20 when zero.
	Technicians int
	// Rate is the commands per second sent while the streams are open; 200 when zero.
	Rate float64
	// Duration is how long the commands run, after a warm-up of 2 s; 20 s when zero.
	Duration time.Duration
	// Settle is how long the streams stay open after the last command; 3 s when zero. A
	// delivery still missing then counts as missed.
	Settle time.Duration
	// DuringLoad, when set, runs beside the measured commands (a profile of the server).
	DuringLoad func(ctx context.Context) error
	// Pool is the server's database, where the time each event was appended is read
	// (recorded_at); without it, latencies run from the sending of each command only.
	Pool *pgxpool.Pool
}

func (c *LiveConfig) setDefaults() {
	positiveOr(&c.Connections, 1000)
	positiveOr(&c.Technicians, 20)
	c.Technicians = min(c.Technicians, c.Connections)
	positiveOr(&c.Rate, 200)
	positiveOr(&c.Duration, 20*time.Second)
	positiveOr(&c.Settle, 3*time.Second)
}

// LiveReport is what RunLive measured.
type LiveReport struct {
	Connections int
	// Commands counts the commands answered in the measured part, and Rate their rate.
	Commands int
	Rate     float64
	// Deliveries counts the events received by the consoles; Missed those a console should
	// have received and did not within Settle.
	Deliveries int
	Missed     int
	// P50, P99 and Max are, over the commands, the time from the append of the command's
	// event (its recorded_at, the appending transaction's start) to its reaching the LAST
	// console that should see it.
	P50, P99, Max time.Duration
	// SentP50 and SentP99 are the same from the sending of the command: they include the
	// command's own time.
	SentP50, SentP99 time.Duration
	// RSSBefore and RSSAfter are the server's resident memory before the streams were opened
	// and with all of them open, in bytes (0 without ServerPID).
	RSSBefore, RSSAfter int64
}

// BytesPerConnection is the server's resident memory per open stream.
func (r LiveReport) BytesPerConnection() float64 {
	if r.Connections == 0 {
		return 0
	}
	return float64(r.RSSAfter-r.RSSBefore) / float64(r.Connections)
}

// Pass reports whether the p99 is under 250 ms with no missed delivery.
func (r LiveReport) Pass() bool {
	return r.P99 < 250*time.Millisecond && r.Missed == 0 && r.Commands > 0
}

// RunLive opens the consoles' event streams, runs commands at the configured rate through the
// API, and measures when each command's event reached every console.
func RunLive(ctx context.Context, cfg LiveConfig, progress io.Writer) (LiveReport, error) {
	cfg.setDefaults()
	api := &liveAPI{root: cfg.Root, client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	fmt.Fprintf(progress, "setting up a company, a portal and %d technicians…\n", cfg.Technicians)
	portal, sessions, err := api.setup(ctx, cfg.AdminToken, cfg.Technicians)
	if err != nil {
		return LiveReport{}, err
	}
	var rep LiveReport
	if cfg.ServerPID > 0 {
		if rep.RSSBefore, err = residentMemory(cfg.ServerPID); err != nil {
			return LiveReport{}, err
		}
	}
	fmt.Fprintf(progress, "opening %d console event streams…\n", cfg.Connections)
	streamCtx, closeStreams := context.WithCancel(ctx)
	defer closeStreams()
	consoles := make([]*console, cfg.Connections)
	var opened sync.WaitGroup
	openErrs := make(chan error, cfg.Connections)
	for i := range consoles {
		consoles[i] = &console{}
		opened.Add(1)
		go consoles[i].follow(streamCtx, cfg.Root, sessions[i%len(sessions)], &opened, openErrs)
	}
	opened.Wait()
	select {
	case err := <-openErrs:
		return LiveReport{}, err
	default:
	}
	rep.Connections = cfg.Connections
	time.Sleep(time.Second) // let the server settle after the connections' bursts
	if cfg.ServerPID > 0 {
		if rep.RSSAfter, err = residentMemory(cfg.ServerPID); err != nil {
			return LiveReport{}, err
		}
	}

	fmt.Fprintf(progress, "running %.0f commands/s for %s after 2 s of warm-up…\n", cfg.Rate, cfg.Duration)
	during := make(chan error, 1)
	if cfg.DuringLoad != nil {
		go func() {
			time.Sleep(2 * time.Second) // the warm-up
			during <- cfg.DuringLoad(ctx)
		}()
	} else {
		during <- nil
	}
	sent, err := api.load(ctx, portal, sessions, cfg.Rate, 2*time.Second, cfg.Duration)
	if err != nil {
		return LiveReport{}, err
	}
	if err := <-during; err != nil {
		return LiveReport{}, err
	}
	time.Sleep(cfg.Settle)
	closeStreams()
	for _, c := range consoles {
		<-c.done
		if c.err != nil {
			return LiveReport{}, c.err
		}
	}

	// For each command: when its position reached each console.
	arrivals := make(map[eventlog.Position][]int64, len(sent))
	for _, s := range sent {
		arrivals[s.position] = nil
	}
	for _, c := range consoles {
		for _, got := range c.got {
			if list, ok := arrivals[got.position]; ok {
				arrivals[got.position] = append(list, got.at)
			}
			rep.Deliveries++
		}
	}
	appended, err := appendTimes(ctx, cfg.Pool, sent)
	if err != nil {
		return LiveReport{}, err
	}
	var fromAppend, fromSend []time.Duration
	for _, s := range sent {
		list := arrivals[s.position]
		rep.Missed += cfg.Connections - len(list)
		if len(list) == 0 {
			continue
		}
		last := slices.Max(list)
		fromSend = append(fromSend, time.Duration(last-s.at.UnixNano()))
		if at, ok := appended[s.position]; ok {
			fromAppend = append(fromAppend, time.Duration(last-at.UnixNano()))
		}
	}
	if cfg.Pool == nil {
		fromAppend = fromSend
	}
	rep.Commands = len(sent)
	rep.Rate = float64(len(sent)) / cfg.Duration.Seconds()
	rep.P50, rep.P99, rep.Max = percentiles(fromAppend)
	rep.SentP50, rep.SentP99, _ = percentiles(fromSend)
	return rep, nil
}

// percentiles returns the median, the 99th percentile and the largest of ds.
func percentiles(ds []time.Duration) (p50, p99, largest time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*99/100)], ds[len(ds)-1]
}

// appendTimes reads when each command's event was appended.
func appendTimes(ctx context.Context, pool *pgxpool.Pool, sent []sentCommand) (map[eventlog.Position]time.Time, error) {
	if pool == nil {
		return nil, nil
	}
	positions := make([]int64, len(sent))
	for i, s := range sent {
		_, lo := s.position.Parts()
		positions[i] = int64(lo)
	}
	rows, err := pool.Query(ctx, `SELECT transaction_id::text::bigint, global_position, recorded_at FROM events WHERE global_position = ANY($1)`, positions)
	if err != nil {
		return nil, fmt.Errorf("read the commands' append times: %w", err)
	}
	defer rows.Close()
	out := make(map[eventlog.Position]time.Time, len(sent))
	for rows.Next() {
		var tx, pos int64
		var at time.Time
		if err := rows.Scan(&tx, &pos, &at); err != nil {
			return nil, fmt.Errorf("read the commands' append times: %w", err)
		}
		out[eventlog.NewPosition(uint64(tx), uint64(pos))] = at
	}
	return out, rows.Err()
}

// residentMemory reads a process's VmRSS from /proc.
func residentMemory(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the server's memory: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read the server's memory: %q: %w", line, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("read the server's memory: no VmRSS line")
}

// console is one open event stream, as a technician's console holds it.
type console struct {
	got  []arrival
	err  error
	done chan struct{}
}

// arrival holds no pointer: millions of them cost the client's garbage collector nothing to
// scan, so its pauses do not show up as delivery latency.
type arrival struct {
	position eventlog.Position
	at       int64 // unix nanoseconds
}

// follow opens the stream, says so on opened, and records every change until ctx ends.
func (c *console) follow(ctx context.Context, root string, session liveSession, opened *sync.WaitGroup, openErrs chan<- error) {
	c.done = make(chan struct{})
	defer close(c.done)
	once := sync.OnceFunc(opened.Done)
	defer once()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", strings.TrimPrefix(root, "http://"))
	if err != nil {
		openErrs <- fmt.Errorf("open a console stream: %w", err)
		return
	}
	defer conn.Close()
	context.AfterFunc(ctx, func() { _ = conn.Close() })
	fmt.Fprintf(conn, "GET /console/events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\nCookie: helpstream_session=%s\r\n\r\n", session.token)
	reader := bufio.NewReaderSize(conn, 8<<10)
	resp, err := http.ReadResponse(reader, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		openErrs <- fmt.Errorf("open a console stream: %v %v", resp, err)
		return
	}
	body := bufio.NewReaderSize(resp.Body, 8<<10)
	once()
	var id []byte
	for {
		line, err := body.ReadSlice('\n')
		if err != nil {
			if ctx.Err() == nil {
				c.err = fmt.Errorf("a console stream ended: %w", err)
			}
			return
		}
		switch {
		case bytes.HasPrefix(line, []byte("id: ")):
			id = append(id[:0], bytes.TrimSpace(line[4:])...)
		case bytes.Equal(line, []byte("event: change\n")):
			if pos, err := eventlog.ParsePosition(string(id)); err == nil {
				c.got = append(c.got, arrival{position: pos, at: time.Now().UnixNano()})
			}
		}
	}
}

// liveSession is a logged-in technician.
type liveSession struct {
	token string
}

// liveAPI drives the server's JSON API.
type liveAPI struct {
	root   string
	client *http.Client
}

func (a *liveAPI) call(ctx context.Context, method, path, token string, body, out any) error {
	var payload io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		payload = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.root+path, payload)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	return decodeAnswer(method, path, resp, out)
}

// setup creates a company, its portal and technicians with access, logged in and Available.
func (a *liveAPI) setup(ctx context.Context, adminToken string, technicians int) (portal string, sessions []liveSession, err error) {
	var company, created struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, "POST", "/api/v1/admin/companies", adminToken, map[string]string{"name": "Live Co"}, &company); err != nil {
		return "", nil, err
	}
	var p struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, "POST", "/api/v1/admin/companies/"+company.ID+"/portals", adminToken, map[string]string{"name": "Live portal"}, &p); err != nil {
		return "", nil, err
	}
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range technicians {
		email := fmt.Sprintf("live-%s-%d@example.com", tag, i)
		if err := a.call(ctx, "POST", "/api/v1/admin/technicians", adminToken, map[string]string{"name": fmt.Sprintf("Live %d", i), "email": email, "password": benchPassword}, &created); err != nil {
			return "", nil, err
		}
		if err := a.call(ctx, "POST", "/api/v1/admin/technicians/"+created.ID+"/access", adminToken, map[string]string{"company_id": company.ID}, nil); err != nil {
			return "", nil, err
		}
		var login struct {
			Token string `json:"token"`
		}
		if err := a.call(ctx, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": benchPassword}, &login); err != nil {
			return "", nil, err
		}
		if err := a.call(ctx, "PUT", "/api/v1/me/availability", login.Token, map[string]string{"availability": "available"}, nil); err != nil {
			return "", nil, err
		}
		sessions = append(sessions, liveSession{token: login.Token})
	}
	return p.ID, sessions, nil
}

// sentCommand is a command of the measured part: when it was sent and where its event is.
type sentCommand struct {
	at       time.Time
	position eventlog.Position
}

// load sends commands at rate for warmup+d through request lifecycles (submit, assign, join,
// messages both ways, close) run by a few workers, and returns those of the measured part.
func (a *liveAPI) load(ctx context.Context, portal string, sessions []liveSession, rate float64, warmup, d time.Duration) ([]sentCommand, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tokens := make(chan struct{}, int(rate))
	go func() {
		// Tokens by the clock, not one a tick: a loaded machine delays and drops ticks.
		start, issued := time.Now(), 0
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for due := int(time.Since(start).Seconds() * rate); issued < due; issued++ {
				select {
				case tokens <- struct{}{}:
				default: // the workers are behind: the rate is not reached, and says so
				}
			}
		}
	}()
	measureFrom := time.Now().Add(warmup)
	until := measureFrom.Add(d)
	var mu sync.Mutex
	var sent []sentCommand
	var firstErr error
	// fail keeps the first error of any worker and stops them all.
	fail := func(err error) {
		mu.Lock()
		firstErr = cmpErr(firstErr, err)
		mu.Unlock()
		cancel()
	}
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			tech := sessions[w%len(sessions)].token
			command := func(path, token string, body any) (string, error) {
				select {
				case <-tokens:
				case <-ctx.Done():
					return "", ctx.Err()
				}
				at := time.Now()
				var answer struct {
					Position  eventlog.Position `json:"position"`
					RequestID string            `json:"request_id"`
					Token     string            `json:"customer_token"`
				}
				if err := a.call(ctx, "POST", path, token, body, &answer); err != nil {
					return "", err
				}
				if at.After(measureFrom) && at.Before(until) {
					mu.Lock()
					sent = append(sent, sentCommand{at: at, position: answer.Position})
					mu.Unlock()
				}
				if answer.RequestID != "" {
					return answer.RequestID + " " + answer.Token, nil
				}
				return "", nil
			}
			for time.Now().Before(until) && ctx.Err() == nil {
				submitted, err := command("/api/v1/portals/"+portal+"/requests", "", map[string]string{
					"customer_name": "Ada", "customer_email": "ada@example.com", "description": "Live updates, please"})
				if err != nil {
					fail(err)
					return
				}
				id, customer, _ := strings.Cut(submitted, " ")
				steps := []liveStep{{"/api/v1/requests/" + id + "/assign", tech, nil}, {"/api/v1/requests/" + id + "/join", tech, nil}}
				for i := range 6 {
					if i%2 == 0 {
						steps = append(steps, liveStep{"/api/v1/customer/requests/" + id + "/messages", customer, map[string]string{"body": "Still on fire"}})
					} else {
						steps = append(steps, liveStep{"/api/v1/requests/" + id + "/messages", tech, map[string]string{"body": "Have you tried water?"}})
					}
				}
				steps = append(steps, liveStep{"/api/v1/requests/" + id + "/close", tech, nil})
				for _, s := range steps {
					if _, err := command(s.path, s.token, s.body); err != nil {
						if ctx.Err() == nil {
							fail(err)
						}
						return
					}
				}
			}
		})
	}
	wg.Wait()
	return sent, firstErr
}

// liveStep is one command of a request's life: where, with whose token, with what body.
type liveStep struct {
	path, token string
	body        any
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
