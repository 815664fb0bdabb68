package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"

	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// The runtime's metrics are the service's: once a command's events are applied, /metrics
// counts them for every read model this process leads, says it leads them, and times the
// batches.
func TestRuntimeMetrics(t *testing.T) {
	svc := servicetest.New(t)
	ctx := context.Background()
	res, err := svc.App.CreateCompany(ctx, app.Meta{Actor: app.Admin}, app.CreateCompany{CompanyID: uuid.New(), Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.WaitFor(ctx, res.Position, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	families, err := svc.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	value := func(name, consumer string) (float64, bool) {
		for _, f := range families {
			if f.GetName() != name {
				continue
			}
			for _, m := range f.GetMetric() {
				if label(m, "kind") == "projection" && label(m, "consumer") == consumer {
					switch {
					case m.Counter != nil:
						return m.Counter.GetValue(), true
					case m.Gauge != nil:
						return m.Gauge.GetValue(), true
					case m.Histogram != nil:
						return float64(m.Histogram.GetSampleCount()), true
					}
				}
			}
		}
		return 0, false
	}
	for _, p := range svc.ReadModels {
		if n, ok := value("helpstream_subscriber_events_applied_total", p.Name()); !ok || n < 1 {
			t.Errorf("%s: %v events applied (reported: %v), want the company's", p.Name(), n, ok)
		}
		if v, ok := value("helpstream_subscriber_leading", p.Name()); !ok || v != 1 {
			t.Errorf("%s: leading %v (reported: %v), want 1", p.Name(), v, ok)
		}
		if n, ok := value("helpstream_subscriber_batch_seconds", p.Name()); !ok || n < 1 {
			t.Errorf("%s: %v batches timed (reported: %v)", p.Name(), n, ok)
		}
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
