package kurrent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// DefaultMaxBatch is the batch size Subscribe uses when SubscribeOptions.MaxBatch is 0.
const DefaultMaxBatch = 500

// Subscribe delivers every event of $all after from (exclusive), first the backlog and then
// live, in batches of what has arrived, at most opts.MaxBatch events each. The stream-prefix
// filter runs on the server. When the subscription drops (a node restarts, the leader changes,
// the network blinks) Subscribe resubscribes after the last event the handler accepted, waiting
// with a capped, jittered exponential backoff between attempts; the backoff starts over once
// events flow again. It returns ctx.Err() when ctx ends, the handler's error when the handler
// fails, and errors that retrying cannot cure (access denied, an unreadable event).
func (s *Store) Subscribe(ctx context.Context, from eventlog.Position, opts eventlog.SubscribeOptions, handle eventlog.Handler) error {
	if handle == nil {
		return errors.New("subscribe: nil handler")
	}
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	last := from
	attempt := 0
	for {
		progressed, err := s.subscribeOnce(ctx, &last, opts.StreamPrefixes, maxBatch, handle)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		var stop *stopError
		if errors.As(err, &stop) {
			return stop.err
		}
		if IsPermanent(err) {
			return fmt.Errorf("subscribe to $all: %w", err)
		}
		if progressed {
			attempt = 0
		}
		delay := s.cfg.ReconnectDelay(attempt, rand.Float64())
		attempt++
		s.log.WarnContext(ctx, "subscription to $all dropped; resubscribing",
			"after", last.String(), "attempt", attempt, "delay", delay, "error", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// stopError carries an error that ends Subscribe instead of a resubscription.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// errDropped is reported when the server ends a subscription without saying why.
var errDropped = errors.New("subscription dropped")

// subscribeOnce runs one server subscription until it drops, ctx ends or the handler fails. It
// moves *last after every batch the handler accepts and reports whether it delivered anything
// or caught up (either resets the backoff).
func (s *Store) subscribeOnce(ctx context.Context, last *eventlog.Position, prefixes []string, maxBatch int, handle eventlog.Handler) (progressed bool, err error) {
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := s.subscribe(subCtx, SubscribeOptions(s.cfg, *last, prefixes))
	if err != nil {
		return false, err
	}

	// A pump moves the server's messages to a buffered channel, so that the loop below can take
	// whatever has arrived without blocking and hand it over as one batch.
	messages := make(chan *esdb.SubscriptionEvent, s.cfg.SubscriptionBuffer)
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		defer close(messages)
		for {
			m := sub.Recv()
			if m == nil {
				return
			}
			select {
			case messages <- m:
			case <-subCtx.Done():
				return
			}
			if m.SubscriptionDropped != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		_ = sub.Close()
		<-pumped
	}()

	batch := make([]eventlog.RecordedEvent, 0, maxBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := handle(ctx, batch); err != nil {
			return &stopError{err: err}
		}
		*last = batch[len(batch)-1].Position
		progressed = true
		batch = make([]eventlog.RecordedEvent, 0, maxBatch) // the handler may keep the old one
		return nil
	}
	// take adds one message to the batch; it returns an error when the subscription is over.
	take := func(m *esdb.SubscriptionEvent, open bool) error {
		switch {
		case !open:
			return errDropped
		case m.SubscriptionDropped != nil:
			if m.SubscriptionDropped.Error != nil {
				return m.SubscriptionDropped.Error
			}
			return errDropped
		case m.CaughtUp != nil:
			progressed = true
		case m.EventAppeared != nil:
			e := m.EventAppeared.Event
			if IsSystemEvent(e) {
				return nil
			}
			rec, err := FromRecordedEvent(e, s.cfg.Namespace)
			if err != nil {
				return &stopError{err: fmt.Errorf("subscribe to $all: %w", err)}
			}
			// The start is exclusive on the server; this guards resubscriptions all the same.
			if !last.IsStart() && rec.Position.Compare(*last) <= 0 {
				return nil
			}
			if n := len(batch); n > 0 && rec.Position.Compare(batch[n-1].Position) <= 0 {
				return nil
			}
			batch = append(batch, rec)
			if len(batch) >= maxBatch {
				return flush()
			}
		}
		return nil
	}

	for {
		var m *esdb.SubscriptionEvent
		var open bool
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case m, open = <-messages:
		}
		err := take(m, open)
	drain:
		for err == nil {
			select {
			case m, open = <-messages:
				err = take(m, open)
			default:
				break drain
			}
		}
		var stop *stopError
		if err != nil && errors.As(err, &stop) {
			return progressed, err
		}
		// Deliver what arrived, also when the subscription dropped right after it.
		if ferr := flush(); ferr != nil {
			return progressed, ferr
		}
		if err != nil {
			return progressed, err
		}
	}
}
