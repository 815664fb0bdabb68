// Package fault turns a storm of failures with one cause into one story in the log: an
// outage of the database makes every request fail the same way, and a line per failed request
// buries the cause and what the server does about it.
package fault

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Database is the process's story of its database's outages, told by every front end that
// meets one, so that one outage is one episode in the log however many routes met it.
var Database = NewEpisodes("database unavailable; answering 503 with Retry-After and retrying until it is back", nil)

// Episodes logs the failures of one kind as episodes: the first failure of an episode logs one
// ERROR line with its cause and what the server does next; the failures that follow are counted
// and summed up at most every Remind; the first success after them logs how long the episode
// lasted and how many failures it held. Safe for concurrent use.
type Episodes struct {
	what   string
	logger *slog.Logger
	// Remind is how often a long episode says that it goes on; 30 s by default.
	Remind time.Duration
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Settle is how long after the last failure a success must come to end the episode: while
	// a server shuts down or starts, successes and failures interleave, and that is one outage,
	// not several. 1 s by default.
	Settle time.Duration

	mu          sync.Mutex
	active      bool
	started     time.Time
	lastSaid    time.Time
	lastFailure time.Time
	failures    int
	lastCause   string
}

// NewEpisodes returns Episodes that describe failures with what: the failure and what the
// server does next ("database unavailable; answering 503 until it is back"). A nil logger is
// slog.Default() at the time of each line.
func NewEpisodes(what string, logger *slog.Logger) *Episodes {
	return &Episodes{what: what, logger: logger, Remind: 30 * time.Second, Now: time.Now, Settle: time.Second}
}

func (e *Episodes) log() *slog.Logger {
	if e.logger != nil {
		return e.logger
	}
	return slog.Default()
}

// Failed records a failure caused by err, met by where (a route, a projection).
func (e *Episodes) Failed(ctx context.Context, err error, where string) {
	now := e.Now()
	e.mu.Lock()
	e.failures++
	e.lastCause = err.Error()
	e.lastFailure = now
	if !e.active {
		e.active, e.started, e.lastSaid, e.failures = true, now, now, 1
		e.mu.Unlock()
		e.log().ErrorContext(ctx, e.what, "cause", err.Error(), "first_at", where)
		return
	}
	if now.Sub(e.lastSaid) < e.Remind {
		e.mu.Unlock()
		return
	}
	e.lastSaid = now
	failures, started, cause := e.failures, e.started, e.lastCause
	e.mu.Unlock()
	e.log().ErrorContext(ctx, e.what+" (still)", "for", now.Sub(started).Round(time.Millisecond), "failures", failures, "cause", cause)
}

// Succeeded ends the episode in progress, if any, once Settle has passed since its last
// failure. It costs one uncontended lock when there is none, so it can be called on every
// success.
func (e *Episodes) Succeeded(ctx context.Context) {
	e.mu.Lock()
	if !e.active || e.Now().Sub(e.lastFailure) < e.Settle {
		e.mu.Unlock()
		return
	}
	e.active = false
	failures, started, cause := e.failures, e.started, e.lastCause
	e.mu.Unlock()
	e.log().InfoContext(ctx, "recovered: "+e.what+" is over", "lasted", e.Now().Sub(started).Round(time.Millisecond), "failures", failures, "last_cause", cause)
}

// Active reports whether an episode is in progress, and since when.
func (e *Episodes) Active() (bool, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.active, e.started
}
