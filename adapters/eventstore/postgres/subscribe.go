package pgstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// DefaultMaxBatch is a subscription's batch when SubscribeOptions.MaxBatch is 0.
const DefaultMaxBatch = 500

// Subscribe implements eventlog.Store. It reads the backlog in batches of up to MaxBatch, then
// waits to be woken: directly by this Store's appends, by NOTIFY on Config.NotifyChannel (it
// LISTENs on a dedicated connection, re-established when it drops), or by polling every
// Config.PollInterval. It returns ctx.Err() when ctx ends, and the handler's error, wrapped,
// when the handler fails. Failed reads are logged and retried every Config.ReconnectDelay.
func (s *Store) Subscribe(ctx context.Context, from eventlog.Position, opts eventlog.SubscribeOptions, handle eventlog.Handler) error {
	if handle == nil {
		return errors.New("subscribe: nil handler")
	}
	if opts.MaxBatch < 0 {
		return fmt.Errorf("subscribe: negative MaxBatch %d", opts.MaxBatch)
	}
	limit := cmp.Or(opts.MaxBatch, DefaultMaxBatch)
	patterns := likePatterns(opts.StreamPrefixes)

	ctx, cancel := context.WithCancel(ctx)
	wake := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[wake] = struct{}{}
	s.mu.Unlock()
	var listener sync.WaitGroup
	listener.Go(func() { s.listen(ctx, wake) })
	defer func() {
		cancel()
		listener.Wait()
		s.mu.Lock()
		delete(s.subs, wake)
		s.mu.Unlock()
	}()

	cursor := from
	heldDelay := s.cfg.HeldBackPollInterval
	for {
		p, err := s.readPage(ctx, cursor, patterns, limit)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.readOutage.Failed(ctx, err, "subscription from "+cursor.String())
			if err := sleep(ctx, s.cfg.ReconnectDelay); err != nil {
				return err
			}
			continue
		}
		s.readOutage.Succeeded(ctx)
		progress := false
		if len(p.events) > 0 {
			if err := handle(ctx, p.events); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("event subscription: handler failed on the batch after %s: %w", cursor, err)
			}
			cursor = p.events[len(p.events)-1].Position
			progress = true
		}
		if len(p.events) == limit {
			heldDelay = s.cfg.HeldBackPollInterval
			continue // the batch is full: read on from its last event
		}
		// Every examined event that the filter dropped need not be examined again.
		if p.scannedTo.Compare(cursor) > 0 {
			cursor = p.scannedTo
			progress = true
		}
		if progress {
			heldDelay = s.cfg.HeldBackPollInterval
		}
		if !p.exhausted {
			continue // more backlog beyond the examined window
		}
		wait := s.cfg.PollInterval
		if p.held {
			wait = heldDelay
			heldDelay = min(2*heldDelay, s.cfg.PollInterval)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// listen keeps a LISTEN connection open until ctx ends and pokes wake for every notification,
// and after every (re)connection, since notifications may have been missed meanwhile.
func (s *Store) listen(ctx context.Context, wake chan<- struct{}) {
	for {
		err := s.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		s.listenOutage.Failed(ctx, err, "LISTEN "+s.cfg.NotifyChannel)
		poke(wake) // read once in case the connection died while a notification was due
		if sleep(ctx, s.cfg.ReconnectDelay) != nil {
			return
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, wake chan<- struct{}) error {
	cfg := s.pool.Config().ConnConfig
	// Ending the subscription interrupts the wait at once; the connection is closed anyway, so
	// there is no need for the default cancel request (which costs a connection and 100ms).
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx) // the connection is dropped either way
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.cfg.NotifyChannel}.Sanitize()); err != nil {
		return fmt.Errorf("LISTEN %s: %w", s.cfg.NotifyChannel, err)
	}
	s.listenOutage.Succeeded(ctx)
	poke(wake)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		poke(wake)
	}
}

// sleep waits for d or until ctx ends, returning ctx.Err() then.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
