package verify

import (
	"context"
	"fmt"
	"sync"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// verifyAll reads the whole log once, in its order, and checks it in three stages that overlap:
// one goroutine reads the next page while this one deals the current page's events out to the
// workers, each of which checks the streams whose ID hashes to it (so every stream is checked
// in order by one worker, and no state is shared).
func verifyAll(ctx context.Context, cfg Config, anchors *anchorSet) (Report, error) {
	var rep Report
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := cfg.Workers
	bounds := anchors.positions()
	workers := make([]*checker, n)
	inbox := make([]chan []*eventlog.RecordedEvent, n)
	var wg sync.WaitGroup
	for i := range workers {
		var parts *intervals
		if anchors != nil {
			parts = newIntervals(bounds)
		}
		workers[i], inbox[i] = newChecker(anchors, parts), make(chan []*eventlog.RecordedEvent, 4)
		wg.Go(func() {
			c := workers[i]
			for part := range inbox[i] {
				for _, e := range part {
					c.check(e)
				}
			}
			c.finish(func(stream string) bool { return shard(stream, n) == i })
		})
	}
	stopWorkers := func() {
		for _, in := range inbox {
			close(in)
		}
		wg.Wait()
	}

	counter := newLogCounter(bounds)
	var total int64
	if n := len(bounds); n > 0 {
		total = anchors.anchors[anchors.bounds[n-1]].Events + int64(len(anchors.events))
	}
	pages, stopReading := subscriber.ReadAhead(ctx, cfg.Store, eventlog.Start(), cfg.PageSize)
	defer stopReading()
	for page := range pages {
		if page.Err != nil {
			cancel()
			stopWorkers()
			return rep, fmt.Errorf("verify: read the log after %d events: %w", rep.Events, page.Err)
		}
		parts := make([][]*eventlog.RecordedEvent, n)
		for w := range parts {
			parts[w] = make([]*eventlog.RecordedEvent, 0, len(page.Events)/n+len(page.Events)/(4*n)+1)
		}
		for i := range page.Events {
			e := &page.Events[i]
			w := shard(e.StreamID, n)
			parts[w] = append(parts[w], e)
			counter.see(e)
		}
		for w, part := range parts {
			if len(part) > 0 {
				inbox[w] <- part
			}
		}
		rep.Events += int64(len(page.Events))
		if cfg.Progress != nil {
			total = max(total, rep.Events)
			cfg.Progress(rep.Events, total)
		}
	}
	if err := ctx.Err(); err != nil {
		stopWorkers()
		return rep, fmt.Errorf("verify: %w", err)
	}
	stopWorkers()
	if anchors != nil {
		counter.end()
		parts := make([]*intervals, n)
		for i, c := range workers {
			parts[i] = c.parts
		}
		anchors.judgeLog(logHeads{
			entries: mergeIntervals(parts), counted: counter.counted, events: counter.count, last: counter.last,
			lastVersion: func(stream string) (int64, bool) {
				st, ok := workers[shard(stream, n)].streams[stream]
				if !ok {
					return -1, false
				}
				return st.next - 1, true
			},
		})
		rep.Anchors = trustedCount(anchors)
		rep.add(anchors.findings, 0)
	}
	for _, c := range workers {
		c.report(&rep)
	}
	return rep, nil
}

// trustedCount is how many anchors were checked and trusted.
func trustedCount(s *anchorSet) int {
	n := 0
	for _, t := range s.trusted {
		if t {
			n++
		}
	}
	return n
}

// shard is the worker of n that checks stream: FNV-1a of its ID.
func shard(stream string, n int) int {
	if n == 1 {
		return 0
	}
	h := uint32(2166136261)
	for i := 0; i < len(stream); i++ {
		h ^= uint32(stream[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}
