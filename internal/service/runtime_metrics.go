package service

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// runtimeMetrics counts what the subscriber runtime does in this process, for every consumer of
// every kind (the read models' projections, the event stream's forwarder): what it applied,
// how long its batches' transactions took, its failures, and whether it leads.
type runtimeMetrics struct {
	applied  *prometheus.CounterVec
	batches  *prometheus.HistogramVec
	failures *prometheus.CounterVec
	leading  *prometheus.GaugeVec
}

func newRuntimeMetrics() *runtimeMetrics {
	labels := []string{"kind", "consumer"}
	return &runtimeMetrics{
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "helpstream_subscriber_events_applied_total",
			Help: "Events a consumer of the log applied in this process, committed with its checkpoint."}, labels),
		batches: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "helpstream_subscriber_batch_seconds",
			Help:    "Wall time of the transactions that applied a batch and moved the checkpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9)}, labels),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "helpstream_subscriber_failures_total",
			Help: "Failed attempts to apply the log; the leader resumes from the stored checkpoint."}, labels),
		leading: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "helpstream_subscriber_leading",
			Help: "1 while this process leads the consumer (applies the log for it), else 0."}, labels),
	}
}

// Describe and Collect make the metrics one prometheus.Collector.
func (m *runtimeMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.applied.Describe(ch)
	m.batches.Describe(ch)
	m.failures.Describe(ch)
	m.leading.Describe(ch)
}

func (m *runtimeMetrics) Collect(ch chan<- prometheus.Metric) {
	m.applied.Collect(ch)
	m.batches.Collect(ch)
	m.failures.Collect(ch)
	m.leading.Collect(ch)
}

// observer is what a runtime of one kind reports to.
func (m *runtimeMetrics) observer(kind string) subscriber.Observer {
	return kindObserver{m: m, kind: kind}
}

type kindObserver struct {
	m    *runtimeMetrics
	kind string
}

func (o kindObserver) Leading(consumer string, leading bool) {
	v := 0.0
	if leading {
		v = 1
	}
	o.m.leading.WithLabelValues(o.kind, consumer).Set(v)
}

func (o kindObserver) Committed(consumer string, applied int, _ eventlog.Position, took time.Duration) {
	o.m.applied.WithLabelValues(o.kind, consumer).Add(float64(applied))
	o.m.batches.WithLabelValues(o.kind, consumer).Observe(took.Seconds())
}

func (o kindObserver) Failed(consumer string, _ error) {
	o.m.failures.WithLabelValues(o.kind, consumer).Inc()
}
