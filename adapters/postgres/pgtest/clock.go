package pgtest

import (
	"math/rand/v2"
	"sync"
	"time"
)

// JitterClock is a test clock for what PostgreSQL stores: each call moves it on by 0, 1 or 2
// steps, drawn from a seeded source, so that times tie now and then (sort keys tie) and runs
// repeat. Make the step whole microseconds: timestamptz keeps no finer time.
type JitterClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
	rng  *rand.Rand
}

// NewJitterClock returns a clock that starts at start and moves by up to two steps a call.
func NewJitterClock(start time.Time, step time.Duration, seed uint64) *JitterClock {
	return &JitterClock{now: start, step: step, rng: rand.New(rand.NewPCG(seed, seed))}
}

// Now moves the clock on and returns the time it shows.
func (c *JitterClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Duration(c.rng.IntN(3)) * c.step)
	return c.now
}
