package projections

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Bounds of one scrape of the collector.
const (
	collectTimeout = 5 * time.Second
	collectLagCap  = 100_000
)

var (
	lagEventsDesc = projectionDesc("helpstream_projection_position_events_lag",
		"Events of the log the projection has yet to apply (counting stops at 100000).")
	lagSecondsDesc = projectionDesc("helpstream_projection_lag_seconds",
		"Age of the oldest event the projection has yet to apply; 0 when it is up to date.")
	appliedDesc = projectionDesc("helpstream_projection_events_applied_total",
		"Events folded into the projection's current tables; a rebuild sets it to the events it folded.")
	leaderDesc = projectionDesc("helpstream_projection_leader",
		"1 when a runner holds the projection's leader lock, else 0.")
	parkedDesc = projectionDesc("helpstream_projection_parked_events",
		"Events the projection could not apply and parked; helpstream projections retry applies them after a fix.")
)

// projectionDesc describes a metric of one projection, labelled "projection".
func projectionDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, []string{"projection"}, nil)
}

// collector computes the projections' status at every scrape.
type collector struct {
	pool  *pgxpool.Pool
	store eventlog.Store
	ps    []Projection
}

// NewCollector returns a Prometheus collector of the projections' status, computed at each
// scrape (within 5s; the lag in events is counted up to 100000): per projection (label
// "projection"), helpstream_projection_position_events_lag, helpstream_projection_lag_seconds,
// helpstream_projection_events_applied_total, helpstream_projection_leader (1 or 0) and
// helpstream_projection_parked_events. It reports the same from every process, whichever
// leads: scrape one, or aggregate with max.
func NewCollector(pool *pgxpool.Pool, store eventlog.Store, ps []Projection) prometheus.Collector {
	return &collector{pool: pool, store: store, ps: append([]Projection(nil), ps...)}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagEventsDesc
	ch <- lagSecondsDesc
	ch <- appliedDesc
	ch <- leaderDesc
	ch <- parkedDesc
}

// Collect implements prometheus.Collector. When the status cannot be read, it reports the error
// as an invalid metric, which fails the scrape visibly.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	statuses, err := StatusWithLagCap(ctx, c.pool, c.store, c.ps, collectLagCap)
	if err != nil {
		slog.Warn("projection metrics: cannot read the projections' status", "error", err)
		ch <- prometheus.NewInvalidMetric(lagEventsDesc, err)
		return
	}
	for _, s := range statuses {
		leader := 0.0
		if s.Leader {
			leader = 1
		}
		ch <- prometheus.MustNewConstMetric(lagEventsDesc, prometheus.GaugeValue, float64(s.LagEvents), s.Name)
		ch <- prometheus.MustNewConstMetric(lagSecondsDesc, prometheus.GaugeValue, s.LagSeconds, s.Name)
		ch <- prometheus.MustNewConstMetric(appliedDesc, prometheus.CounterValue, float64(s.EventsApplied), s.Name)
		ch <- prometheus.MustNewConstMetric(leaderDesc, prometheus.GaugeValue, leader, s.Name)
		ch <- prometheus.MustNewConstMetric(parkedDesc, prometheus.GaugeValue, float64(s.Parked), s.Name)
	}
}
