package httpservertest

import (
	"sync"
	"time"
)

// Clock is a clock that a test moves by hand, for the login throttles of the front ends: a
// window of 15 minutes passes in no time. Its Now is safe to call from the servers' goroutines
// while the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that stands at start until it is moved.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the time the clock stands at.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
