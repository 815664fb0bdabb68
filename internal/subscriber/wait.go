package subscriber

import (
	"context"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// waitPoll is how often WaitFor reads the checkpoints when another process may lead one of the
// consumers; leaderPoll how often it reads them when this process's runtime leads them all and
// wakes it at each commit (the reading then only catches a checkpoint that something else
// moved, such as a rebuild).
const (
	waitPoll   = 5 * time.Millisecond
	leaderPoll = 100 * time.Millisecond
)

// WaitFor waits until the checkpoint in cps of every named consumer has reached pos (read-your-
// writes: pos is the position a command wrote). It polls the checkpoints every 5ms and returns
// true once they have, false with no error when timeout passes first, and false with ctx's
// error when ctx ends first; a timeout of 0 or less looks once. A consumer without a checkpoint
// has reached nothing but the start, which every consumer has reached.
func WaitFor(ctx context.Context, q Querier, cps *Checkpoints, names []string, pos eventlog.Position, timeout time.Duration) (bool, error) {
	return waitFor(ctx, q, cps, names, pos, timeout, nil)
}

// WaitFor is the package's WaitFor for a process that runs this Runtime: it returns as soon as
// a checkpoint this runtime commits reaches pos, besides polling the database for the
// consumers other runtimes lead (and for checkpoints moved by anything else).
func (r *Runtime) WaitFor(ctx context.Context, names []string, pos eventlog.Position, timeout time.Duration) (bool, error) {
	return waitFor(ctx, r.cfg.Pool, r.cfg.Checkpoints, names, pos, timeout, r.reached)
}

// reached reports whether this runtime has committed pos for every named consumer and whether
// it leads them all, and returns a channel closed at its next commit.
func (r *Runtime) reached(names []string, pos eventlog.Position) (done, leadsAll bool, wake <-chan struct{}) {
	r.mu.Lock()
	wake = r.advanced
	r.mu.Unlock()
	done, leadsAll = true, true
	for _, name := range names {
		s, ok := r.byName[name]
		if !ok {
			return false, false, wake
		}
		s.mu.Lock()
		leadsAll = leadsAll && s.leading
		done = done && s.leading && s.pos.Compare(pos) >= 0
		s.mu.Unlock()
	}
	return done, leadsAll, wake
}

// localState tells waitFor what a runtime of this process knows: whether it has committed pos
// for every named consumer, whether it leads them all, and a channel closed at its next commit.
type localState func(names []string, pos eventlog.Position) (done, leadsAll bool, wake <-chan struct{})

// waitFor is WaitFor that first asks local (when set) whether a runtime of this process has
// committed pos already, and also wakes up when local's channel closes. The checkpoints are
// read under ctx, not under the timeout: a read cancelled half-way costs the server a new
// backend.
func waitFor(ctx context.Context, q Querier, cps *Checkpoints, names []string, pos eventlog.Position, timeout time.Duration, local localState) (bool, error) {
	if pos.IsStart() || len(names) == 0 {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if timeout <= 0 { // look once
		if local != nil {
			if done, _, _ := local(names, pos); done {
				return true, nil
			}
		}
		return reached(ctx, q, cps, names, pos)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		var wake <-chan struct{}
		leadsAll := false
		if local != nil {
			var done bool
			if done, leadsAll, wake = local(names, pos); done {
				return true, nil
			}
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return false, nil
		case <-wake:
			continue
		case <-poll.C:
		}
		done, err := reached(ctx, q, cps, names, pos)
		switch {
		case ctx.Err() != nil:
			return false, ctx.Err()
		case err != nil:
			return false, err
		case done:
			return true, nil
		}
		if leadsAll {
			poll.Reset(leaderPoll)
		} else {
			poll.Reset(waitPoll)
		}
	}
}

// reached reports whether the stored checkpoint of every named consumer has reached pos.
func reached(ctx context.Context, q Querier, cps *Checkpoints, names []string, pos eventlog.Position) (bool, error) {
	stored, err := cps.Read(ctx, q, names)
	if err != nil {
		return false, err
	}
	for _, name := range names {
		p, ok := stored[name]
		if !ok || p.Compare(pos) < 0 {
			return false, nil
		}
	}
	return true, nil
}
