package analytics

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Bounds of one scrape of the collector.
const (
	collectTimeout = 5 * time.Second
	// collectBehindCap bounds the events counted behind: counting reads the log.
	collectBehindCap = 100_000
)

var (
	appliedDesc = prometheus.NewDesc("helpstream_analytics_events_applied_total",
		"Events folded into the live analytics tables (a rebuild sets it to the events it folded).", nil, nil)
	behindDesc = prometheus.NewDesc("helpstream_analytics_events_behind",
		"Events of the log after the last one the job applied (counting stops at 100000).", nil, nil)
	lagDesc = prometheus.NewDesc("helpstream_analytics_lag_seconds",
		"Now minus the occurred_at of the last event applied; 0 when no event of the log is behind.", nil, nil)
	lastDesc = prometheus.NewDesc("helpstream_analytics_last_applied_timestamp_seconds",
		"occurred_at of the last event applied, Unix seconds.", nil, nil)
	positionDesc = prometheus.NewDesc("helpstream_analytics_last_applied_position",
		"1, labelled with the log position of the last event applied.", []string{"position"}, nil)
)

type collector struct {
	db    *pgxpool.Pool
	store eventlog.Store
	now   func() time.Time
}

// NewCollector returns a Prometheus collector of the job's lag, computed at each scrape from
// analytics_state (and the log, through store, for the events behind; nil store: that metric is
// left out): helpstream_analytics_events_applied_total, helpstream_analytics_events_behind,
// helpstream_analytics_lag_seconds, helpstream_analytics_last_applied_timestamp_seconds and
// helpstream_analytics_last_applied_position{position}.
func NewCollector(db *pgxpool.Pool, store eventlog.Store) prometheus.Collector {
	return &collector{db: db, store: store, now: time.Now}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- appliedDesc
	ch <- behindDesc
	ch <- lagDesc
	ch <- lastDesc
	ch <- positionDesc
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	var (
		applied  int64
		position string
		last     *time.Time
	)
	if err := c.db.QueryRow(ctx, `SELECT applied, last_position, last_occurred_at FROM analytics_state`).Scan(&applied, &position, &last); err != nil {
		ch <- prometheus.NewInvalidMetric(appliedDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(appliedDesc, prometheus.CounterValue, float64(applied))
	ch <- prometheus.MustNewConstMetric(positionDesc, prometheus.GaugeValue, 1, position)
	behind := -1
	if c.store != nil {
		n, err := c.behind(ctx, position)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(behindDesc, err)
		} else {
			behind = n
			ch <- prometheus.MustNewConstMetric(behindDesc, prometheus.GaugeValue, float64(n))
		}
	}
	if last != nil {
		ch <- prometheus.MustNewConstMetric(lastDesc, prometheus.GaugeValue, float64(last.UnixNano())/1e9)
		lag := c.now().Sub(*last).Seconds()
		if behind == 0 {
			lag = 0
		}
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, max(lag, 0))
	}
}

// behind counts the events of the log after position, up to collectBehindCap.
func (c *collector) behind(ctx context.Context, position string) (int, error) {
	from := eventlog.Start()
	if position != "" {
		p, err := eventlog.ParsePosition(position)
		if err != nil {
			return 0, errors.Join(errors.New("analytics state holds a position the log does not know"), err)
		}
		from = p
	}
	n := 0
	for n < collectBehindCap {
		events, err := c.store.ReadAll(ctx, from, eventlog.ReadOptions{Limit: 5000})
		if err != nil {
			return 0, err
		}
		if len(events) == 0 {
			break
		}
		n += len(events)
		from = events[len(events)-1].Position
	}
	return min(n, collectBehindCap), nil
}
