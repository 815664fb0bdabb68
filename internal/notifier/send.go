package notifier

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
)

// sender runs the lanes: a worker per lane with due deliveries, at most Config.MaxLanes at
// once. The handler wakes the lanes it wrote to; a poll every PollInterval finds the others
// (retries that came due, replays, rows another process wrote).
type sender struct {
	cfg    *Config
	mailer *mailer

	mu     sync.Mutex
	active map[lane]bool // a worker runs the lane
	again  map[lane]bool // woken while its worker ran: look once more before it stops
	woken  map[lane]bool // to start at the next turn of run
	kick   chan struct{}
	slots  chan struct{}
}

func newSender(cfg *Config, m *mailer) *sender {
	return &sender{cfg: cfg, mailer: m, active: map[lane]bool{}, again: map[lane]bool{}, woken: map[lane]bool{},
		kick: make(chan struct{}, 1), slots: make(chan struct{}, cfg.MaxLanes)}
}

// wake asks for the lanes to be sent now.
func (s *sender) wake(lanes []lane) {
	if len(lanes) == 0 {
		return
	}
	s.mu.Lock()
	for _, l := range lanes {
		s.woken[l] = true
	}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// run starts the lanes' workers until ctx ends, then waits for them: each finishes the attempt
// it is making (bounded by SendTimeout) and records it, so that stopping sends nothing twice.
func (s *sender) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	start := func(l lane) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.active[l] {
			s.again[l] = true
			return
		}
		s.active[l] = true
		wg.Add(1)
		go func() { defer wg.Done(); s.work(ctx, l) }()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			s.mu.Lock()
			woken := s.woken
			s.woken = map[lane]bool{}
			s.mu.Unlock()
			for l := range woken {
				start(l)
			}
		case <-tick.C:
			lanes, err := dueLanes(ctx, s.cfg.Pool, 1000)
			if err != nil {
				if ctx.Err() == nil {
					s.cfg.Logger.Warn("notifier: look for due notifications", "err", err)
				}
				continue
			}
			for _, l := range lanes {
				start(l)
			}
		}
	}
}

// work sends the lane's deliveries in order until it holds none that is due, or ctx ends.
func (s *sender) work(ctx context.Context, l lane) {
	defer func() {
		s.mu.Lock()
		delete(s.active, l)
		delete(s.again, l)
		s.mu.Unlock()
	}()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return
	}
	log := laneLogger(s.cfg.Logger, l)
	for ctx.Err() == nil {
		r, err := claim(ctx, s.cfg.Pool, l, s.cfg.SendTimeout)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				log.Warn("notifier: claim a delivery", "err", err)
				sleep(ctx, s.cfg.PollInterval)
			}
			continue
		case r.empty || r.wait > s.cfg.PollInterval:
			// Nothing due: stop, unless the handler woke the lane meanwhile. The poll starts
			// the lane again when its head comes due.
			s.mu.Lock()
			if s.again[l] {
				delete(s.again, l)
				s.mu.Unlock()
				continue
			}
			delete(s.active, l)
			s.mu.Unlock()
			return
		case len(r.ds) == 0:
			sleep(ctx, r.wait)
			continue
		}
		for i, d := range r.ds {
			// A failed attempt, or the notifier stopping, gives the rest back: nothing is sent
			// ahead of a delivery that waits for its retry.
			if ctx.Err() != nil || !s.attempt(context.WithoutCancel(ctx), l, d) {
				if rest := r.ds[i+1:]; len(rest) > 0 {
					ids := make([]uuid.UUID, len(rest))
					for j, d := range rest {
						ids[j] = d.id
					}
					releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
					if err := release(releaseCtx, s.cfg.Pool, ids); err != nil {
						log.Warn("notifier: give back claimed deliveries (they wait for their claim to lapse)", "err", err)
					}
					cancel()
				}
				break
			}
		}
	}
}

// errNoEndpoint is a delivery whose technician has no address or endpoint any more: it cannot
// succeed, so it is dead at once.
var errNoEndpoint = errors.New("the technician has no address for this channel any more")

// attempt sends d once, records the outcome and reports whether it was sent. It runs to its
// end when the notifier stops: an attempt made and not recorded would be made again.
func (s *sender) attempt(ctx context.Context, l lane, d *delivery) (sent bool) {
	sendCtx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	var err error
	switch {
	case l.channel == ChannelEmail && s.mailer == nil:
		err = errors.New("e-mail is off (no --smtp-url)")
	case l.channel == ChannelEmail && d.email == "":
		err = errNoEndpoint
	case l.channel == ChannelEmail:
		err = s.mailer.send(sendCtx, d.email, d.note)
	case d.url == "":
		err = errNoEndpoint
	default:
		err = postWebhook(sendCtx, s.cfg.HTTPClient, d.url, d.secret, d.note, time.Now())
	}
	cancel()
	log := laneLogger(s.cfg.Logger, l).With("delivery", d.id, "request", d.note.RequestID)
	recordCtx, cancelRecord := context.WithTimeout(ctx, 10*time.Second)
	defer cancelRecord()
	if err == nil {
		if err := markSent(recordCtx, s.cfg.Pool, d.id); err != nil {
			log.Error("notifier: sent, but not recorded: it will be sent again (the receiver deduplicates by its idempotency key)", "err", err)
		}
		return true
	}
	dead, markErr := markFailed(recordCtx, s.cfg.Pool, d.id, err, backoff(s.cfg.RetryBase, s.cfg.RetryMax, d.attempts+1), s.cfg.MaxAttempts, errors.Is(err, errNoEndpoint))
	switch {
	case markErr != nil:
		log.Error("notifier: record a failed attempt", "err", markErr, "attempt_err", err)
	case dead:
		log.Warn("notifier: delivery failed for good; it is a dead letter (helpstream admin webhook-dead-letters)", "attempts", d.attempts+1, "err", err)
	default:
		log.Info("notifier: delivery failed; it will be tried again", "attempts", d.attempts+1, "err", err)
	}
	return false
}

// backoff is the wait before attempt+1: base × 2^(attempt-1), at most max, ±50% jitter, so
// that endpoints that failed together do not come back in step.
func backoff(base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
