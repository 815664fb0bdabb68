package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/internal/analytics"
)

// The lag metrics say how far behind the log the tables are: events behind, seconds behind
// (0 once nothing is), the last position and the events applied.
func TestLagMetrics(t *testing.T) {
	store, db := pgtest.NewEventStore(t, pgstore.Config{})
	ctx := context.Background()
	w := randomWorld(3, 4, 60)
	w.append(t, ctx, store, 0, len(w.log))
	recorded := readBack(t, ctx, store, len(w.log))
	var err error
	registry := prometheus.NewRegistry()
	registry.MustRegister(analytics.NewCollector(db, store))

	// all but the last 5 folded, with the positions the log gave them
	events := make([]analytics.Event, len(recorded))
	for i, r := range recorded {
		if events[i], err = analytics.FromRecorded(r); err != nil {
			t.Fatal(err)
		}
	}
	fold(t, ctx, db, events[:len(events)-5])
	got := gather(t, registry)
	last := events[len(events)-6]
	if got["helpstream_analytics_events_behind"] != 5 || got["helpstream_analytics_events_applied_total"] != float64(len(events)-5) {
		t.Errorf("metrics %v, want 5 behind and %d applied", got, len(events)-5)
	}
	if lag := got["helpstream_analytics_lag_seconds"]; lag < time.Since(last.OccurredAt).Seconds()-60 {
		t.Errorf("lag %v s, the last applied event occurred %v ago", lag, time.Since(last.OccurredAt))
	}
	if got["position:"+last.Position] != 1 {
		t.Errorf("last applied position not %s: %v", last.Position, got)
	}

	fold(t, ctx, db, events[len(events)-5:])
	got = gather(t, registry)
	if got["helpstream_analytics_events_behind"] != 0 || got["helpstream_analytics_lag_seconds"] != 0 || got["helpstream_analytics_events_applied_total"] != float64(len(events)) {
		t.Errorf("caught up: %v", got)
	}
}

// gather returns each metric's value by name, and "position:<p>" for the position's label.
func gather(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			v := value(m)
			if f.GetName() == "helpstream_analytics_last_applied_position" {
				out["position:"+m.GetLabel()[0].GetValue()] = v
				continue
			}
			out[f.GetName()] = v
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}
