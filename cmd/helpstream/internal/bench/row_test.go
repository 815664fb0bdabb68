package bench_test

import (
	"testing"

	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
)

// A row reports the median of its rounds' ratios, so one round disturbed by the machine's load
// neither fails nor passes it alone.
func TestRowRatioIsTheMedianOfItsRounds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		row       bench.Row
		ratio     float64
		low, high float64
		pass      bool
	}{
		{"measured once", bench.Row{Rate: 60, Baseline: 100, Bar: 0.6}, 0.6, 0.6, 0.6, true},
		{"one slow round", bench.Row{Ratios: []float64{0.7, 0.3, 0.65}, Bar: 0.6}, 0.65, 0.3, 0.7, true},
		{"one lucky round", bench.Row{Ratios: []float64{0.5, 0.9, 0.55}, Bar: 0.6}, 0.55, 0.5, 0.9, false},
		{"even count", bench.Row{Ratios: []float64{0.4, 0.8}, Bar: 0.6}, 0.6, 0.4, 0.8, true},
		{"refused", bench.Row{Ratios: []float64{0.9}, Bar: 0.3, Refusals: 1}, 0.9, 0.9, 0.9, false},
		{"no baseline", bench.Row{Rate: 5, Bar: 0.1}, 0, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			low, high := tc.row.Spread()
			if got := tc.row.Ratio(); got < tc.ratio-1e-9 || got > tc.ratio+1e-9 || low != tc.low || high != tc.high || tc.row.Pass() != tc.pass {
				t.Fatalf("ratio %.3f spread %.2f–%.2f pass %v, want %.3f %.2f–%.2f %v", got, low, high, tc.row.Pass(), tc.ratio, tc.low, tc.high, tc.pass)
			}
		})
	}
}
