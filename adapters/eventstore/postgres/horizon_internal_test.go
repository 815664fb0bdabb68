package pgstore

import (
	"testing"
	"time"
)

// The precise horizon is asked for only when events have waited PreciseHorizonAfter behind a
// horizon that has not passed them: not while a steady load keeps events in flight that the
// horizon passes one after the other, and still when the cluster's oldest transaction changes
// but stays below them.
func TestHorizonWatch(t *testing.T) {
	type read struct {
		at              time.Duration
		horizon, newest uint64
		waiting         bool
	}
	for _, tc := range []struct {
		name  string
		after time.Duration
		reads []read
		at    time.Duration
		want  bool
	}{
		{"nothing waits", 100 * time.Millisecond, []read{{0, 10, 9, false}, {200 * time.Millisecond, 10, 9, false}}, 300 * time.Millisecond, false},
		{"waiting, not long yet", 100 * time.Millisecond, []read{{0, 10, 12, true}}, 50 * time.Millisecond, false},
		{"waiting long behind a stuck horizon", 100 * time.Millisecond, []read{{0, 10, 12, true}, {60 * time.Millisecond, 10, 14, true}}, 120 * time.Millisecond, true},
		{"the horizon moves but stays below", 100 * time.Millisecond, []read{{0, 10, 12, true}, {60 * time.Millisecond, 11, 14, true}}, 120 * time.Millisecond, true},
		{"a steady load: the horizon passes each mark", 100 * time.Millisecond, []read{
			{0, 10, 12, true}, {50 * time.Millisecond, 13, 15, true}, {100 * time.Millisecond, 16, 18, true}}, 140 * time.Millisecond, false},
		{"caught up", 100 * time.Millisecond, []read{{0, 10, 12, true}, {150 * time.Millisecond, 13, 12, false}}, 200 * time.Millisecond, false},
		{"never", -1, []read{{0, 10, 12, true}}, time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			w := &horizonWatch{after: tc.after}
			for _, r := range tc.reads {
				w.observe(r.horizon, r.newest, r.waiting, start.Add(r.at))
			}
			if got := w.precise(start.Add(tc.at)); got != tc.want {
				t.Fatalf("precise = %v, want %v", got, tc.want)
			}
		})
	}
}
