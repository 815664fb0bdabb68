package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// BenchmarkAppend appends one event at a time at the exact expected version, each writer to its
// own stream, and reports events/s. Compare with pgbench's one-row INSERT transactions.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, _ := pgtest.NewEventStore(b, pgstore.Config{})
			ctx := context.Background()
			data := json.RawMessage(`{"title":"printer on floor 3 is jammed","priority":"normal"}`)
			meta := eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC(), CorrelationID: uuid.NewString()}

			var next atomic.Int64 // appends handed out so far
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			b.ResetTimer()
			start := time.Now()
			for w := range writers {
				wg.Go(func() {
					stream := fmt.Sprintf("bench-%d-%s", w, uuid.NewString())
					version := int64(-1)
					for next.Add(1) <= int64(b.N) {
						e := eventlog.EventData{ID: uuid.New(), Type: "request.submitted.v1", Data: data, Metadata: meta}
						res, err := s.Append(ctx, stream, eventlog.Exactly(version), e)
						if err != nil {
							errs <- err
							return
						}
						version = res.NextExpected
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatalf("append: %v", err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}
