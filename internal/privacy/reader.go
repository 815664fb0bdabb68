package privacy

import (
	"context"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Reader returns store as every reader but the audit sees it: each read event's personal
// fields opened with its customer's key, or Erased where the key is destroyed (the stored
// payload stays in StoredData, so chain checks still hold). Appends pass through untouched:
// the application seals before it hashes. The result keeps the optional capabilities of
// store that the event stores have: all of HeadReader, DeliveredReader, StreamsReader,
// AppendFinder and CheckedAppender (the PostgreSQL store), HeadReader alone (KurrentDB), or
// none.
func Reader(store eventlog.Store, keys *Keys) eventlog.Store {
	r := reader{inner: store, keys: keys}
	type full interface {
		eventlog.HeadReader
		eventlog.DeliveredReader
		eventlog.StreamsReader
		eventlog.AppendFinder
		eventlog.CheckedAppender
	}
	if _, ok := store.(full); ok {
		return &fullReader{headReader{r}}
	}
	if _, ok := store.(eventlog.HeadReader); ok {
		return &headReader{r}
	}
	return &r
}

// Unwrap returns the store under a Reader (the raw, sealed log), or store itself.
func Unwrap(store eventlog.Store) eventlog.Store {
	if u, ok := store.(interface{ unwrap() eventlog.Store }); ok {
		return u.unwrap()
	}
	return store
}

type reader struct {
	inner eventlog.Store
	keys  *Keys
}

func (r *reader) unwrap() eventlog.Store { return r.inner }

func (r *reader) open(ctx context.Context, events []eventlog.RecordedEvent) ([]eventlog.RecordedEvent, error) {
	for i := range events {
		e, err := r.keys.Open(ctx, events[i])
		if err != nil {
			return nil, err
		}
		events[i] = e
	}
	return events, nil
}

func (r *reader) Append(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (eventlog.AppendResult, error) {
	return r.inner.Append(ctx, streamID, expected, events...)
}

func (r *reader) ReadStream(ctx context.Context, streamID string, from int64, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	events, err := r.inner.ReadStream(ctx, streamID, from, opts)
	if err != nil {
		return nil, err
	}
	return r.open(ctx, events)
}

func (r *reader) ReadAll(ctx context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	events, err := r.inner.ReadAll(ctx, from, opts)
	if err != nil {
		return nil, err
	}
	return r.open(ctx, events)
}

func (r *reader) Subscribe(ctx context.Context, from eventlog.Position, opts eventlog.SubscribeOptions, handle eventlog.Handler) error {
	return r.inner.Subscribe(ctx, from, opts, func(ctx context.Context, batch []eventlog.RecordedEvent) error {
		opened, err := r.open(ctx, batch)
		if err != nil {
			return err
		}
		return handle(ctx, opened)
	})
}

type headReader struct{ reader }

func (r *headReader) Head(ctx context.Context) (eventlog.Position, error) {
	return r.inner.(eventlog.HeadReader).Head(ctx)
}

type fullReader struct{ headReader }

func (r *fullReader) ReadDelivered(ctx context.Context, from, until eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	events, err := r.inner.(eventlog.DeliveredReader).ReadDelivered(ctx, from, until, opts)
	if err != nil {
		return nil, err
	}
	return r.open(ctx, events)
}

func (r *fullReader) ReadStreams(ctx context.Context, streamIDs []string) (map[string][]eventlog.RecordedEvent, error) {
	streams, err := r.inner.(eventlog.StreamsReader).ReadStreams(ctx, streamIDs)
	if err != nil {
		return nil, err
	}
	for id, events := range streams {
		if streams[id], err = r.open(ctx, events); err != nil {
			return nil, err
		}
	}
	return streams, nil
}

func (r *fullReader) FindAppend(ctx context.Context, streamID string, eventID uuid.UUID) (eventlog.AppendResult, bool, error) {
	return r.inner.(eventlog.AppendFinder).FindAppend(ctx, streamID, eventID)
}

func (r *fullReader) AppendChecked(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, reads []eventlog.StreamVersion, events ...eventlog.EventData) ([]eventlog.AppendResult, error) {
	return r.inner.(eventlog.CheckedAppender).AppendChecked(ctx, streamID, expected, reads, events...)
}
