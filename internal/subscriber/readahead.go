package subscriber

import (
	"context"
	"sync"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Page is one page of the log read ahead, or the error that ended the reading.
type Page struct {
	Events []eventlog.RecordedEvent
	Err    error
}

// ReadAhead reads the log after from in pages of size, one page ahead of its reader, so that
// reading the next page overlaps using this one. The channel is closed after a page that comes
// back short (sent too, empty or not), after an error, or when ctx ends. stop ends the reading
// and waits for it; call it once done with the pages.
func ReadAhead(ctx context.Context, store eventlog.Store, from eventlog.Position, size int) (pages <-chan Page, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan Page, 1)
	var reader sync.WaitGroup
	reader.Go(func() {
		defer close(out)
		for {
			events, err := store.ReadAll(ctx, from, eventlog.ReadOptions{Limit: size})
			select {
			case out <- Page{Events: events, Err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(events) < size {
				return
			}
			from = events[len(events)-1].Position
		}
	})
	return out, func() {
		cancel()
		reader.Wait()
	}
}
