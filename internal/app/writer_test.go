package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// otherProcess is a second App on the world's database, with a store, a cache and writers of its
// own: what another `serve` behind the same load balancer is to the first.
func (w *world) otherProcess(t *testing.T, cfg app.Config) *app.App {
	t.Helper()
	store, err := pgstore.New(w.pool, pgstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if cfg.Store == nil {
		cfg.Store = store
	}
	cfg.Files = w.files
	a, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// assignAndJoin makes the world's first technician the request's assignee, in the chat.
func (w *world) assignAndJoin(t *testing.T, a *app.App, requestID uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	must(t, func() (app.Result, error) { return a.AssignToMe(ctx, tech(w.techs[0]), requestID) })
	must(t, func() (app.Result, error) { return a.JoinChat(ctx, tech(w.techs[0]), requestID) })
}

// messageIDs returns the IDs of the request's chat messages in stream order.
func messageIDs(t *testing.T, a *app.App, requestID uuid.UUID) []uuid.UUID {
	t.Helper()
	history, err := a.Queries().History(context.Background(), requestID)
	if err != nil {
		t.Fatalf("history (hash chain checked): %v", err)
	}
	var ids []uuid.UUID
	for _, r := range history {
		e, err := request.Codec().Decode(r.Type, r.Data)
		if err != nil {
			t.Fatalf("decode %s: %v", r.Type, err)
		}
		if m, ok := e.(*request.MessageSent); ok {
			ids = append(ids, m.MessageID)
		}
	}
	return ids
}

// 50 chat messages at once, half by the customer and half by the assignee, on one process:
// every one lands (none refused because another arrived in the same millisecond), each once,
// and the answers' versions are the stream's own.
func TestConcurrentChatOfBothSidesAllLands(t *testing.T) {
	w := newWorld(t, 1)
	requestID := w.submit(t, request.Windows)
	w.assignAndJoin(t, w.app, requestID)
	const messages = 50
	sent := make([]uuid.UUID, messages)
	for i := range sent {
		sent[i] = uuid.New()
	}
	results := make([]app.Result, messages)
	concurrently(t, messages, func(i int) error {
		var err error
		if i%2 == 0 {
			results[i], err = w.app.SendCustomerMessage(context.Background(), customer(requestID), requestID, sent[i], fmt.Sprintf("customer %d", i))
		} else {
			results[i], err = w.app.SendTechnicianMessage(context.Background(), tech(w.techs[0]), requestID, sent[i], fmt.Sprintf("technician %d", i))
		}
		if err != nil {
			return fmt.Errorf("message %d refused: %w", i, err)
		}
		return nil
	})
	versions := map[int64]bool{}
	for i, res := range results {
		if !res.Written || versions[res.Version] {
			t.Fatalf("message %d answered %+v: not written, or a version answered twice", i, res)
		}
		versions[res.Version] = true
	}
	stored := messageIDs(t, w.app, requestID)
	if len(stored) != messages {
		t.Fatalf("%d messages stored, want %d", len(stored), messages)
	}
	slices.SortFunc(stored, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	slices.SortFunc(sent, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	if !slices.Equal(stored, sent) {
		t.Fatal("the stored messages are not the ones sent")
	}
}

// Two processes on one database send 200 messages at once to one request: every one lands,
// and each process's answers agree with the one order of the log.
func TestTwoProcessesOneRequestEveryMessageLands(t *testing.T) {
	w := newWorld(t, 1)
	other := w.otherProcess(t, app.Config{})
	requestID := w.submit(t, request.Windows)
	w.assignAndJoin(t, w.app, requestID)
	const messages = 200
	processes := []*app.App{w.app, other}
	byVersion := make(map[int64]uuid.UUID, messages)
	var mu sync.Mutex
	inFlight := make(chan struct{}, 50)
	concurrently(t, messages, func(i int) error {
		inFlight <- struct{}{}
		defer func() { <-inFlight }()
		a, id := processes[i%2], uuid.New()
		var res app.Result
		var err error
		if i%4 < 2 {
			res, err = a.SendCustomerMessage(context.Background(), customer(requestID), requestID, id, fmt.Sprintf("customer %d", i))
		} else {
			res, err = a.SendTechnicianMessage(context.Background(), tech(w.techs[0]), requestID, id, fmt.Sprintf("technician %d", i))
		}
		if err != nil {
			return fmt.Errorf("message %d through process %d: %w", i, i%2, err)
		}
		mu.Lock()
		defer mu.Unlock()
		earlier, taken := byVersion[res.Version]
		byVersion[res.Version] = id
		if taken {
			return fmt.Errorf("version %d answered for messages %s and %s", res.Version, earlier, id)
		}
		return nil
	})
	stored := messageIDs(t, other, requestID)
	if len(stored) != messages {
		t.Fatalf("%d messages stored, want %d", len(stored), messages)
	}
	versions := slices.Sorted(func(yield func(int64) bool) {
		for v := range byVersion {
			if !yield(v) {
				return
			}
		}
	})
	for i, v := range versions {
		if byVersion[v] != stored[i] {
			t.Fatalf("the answers' order differs from the log's at message %d", i)
		}
	}
}

// A process decides on cached state, but never on state it has not seen the end of: access
// granted by another process is honoured at once (a refusal is checked against the store), and
// access revoked by another process is refused at once (the append checks the technician's
// version in the same statement).
func TestCachedStateFollowsAnotherProcess(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	other := w.otherProcess(t, app.Config{})
	admin := app.Meta{Actor: app.Admin}
	newTech := uuid.New()
	must(t, func() (app.Result, error) {
		return w.app.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: newTech, Name: "Late Tech", Email: "late@example.com"})
	})
	must(t, func() (app.Result, error) {
		return w.app.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: newTech, Availability: "available"})
	})
	requestID := w.submit(t, request.Windows)
	// This process caches the technician without access: it refuses.
	if _, err := w.app.AssignToMe(ctx, tech(newTech), requestID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("assign without access: %v, want ErrNotFound", err)
	}
	must(t, func() (app.Result, error) {
		return other.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: newTech, CompanyID: w.companyID})
	})
	must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, tech(newTech), requestID) })
	must(t, func() (app.Result, error) { return w.app.JoinChat(ctx, tech(newTech), requestID) })
	must(t, func() (app.Result, error) {
		return w.app.SendTechnicianMessage(ctx, tech(newTech), requestID, uuid.New(), "cached, with access")
	})
	must(t, func() (app.Result, error) {
		return other.RevokeAccess(ctx, admin, app.RevokeAccess{TechnicianID: newTech, CompanyID: w.companyID})
	})
	if _, err := w.app.SendTechnicianMessage(ctx, tech(newTech), requestID, uuid.New(), "access revoked elsewhere"); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("message after access was revoked by another process: %v, want ErrNotFound", err)
	}
	// The request itself, changed by the other process, is read from its tail.
	must(t, func() (app.Result, error) {
		return other.SendCustomerMessage(ctx, customer(requestID), requestID, uuid.New(), "through the other process")
	})
	must(t, func() (app.Result, error) {
		return w.app.SendCustomerMessage(ctx, customer(requestID), requestID, uuid.New(), "and back")
	})
	if n := len(messageIDs(t, w.app, requestID)); n != 3 {
		t.Fatalf("%d messages stored, want 3", n)
	}
}

// Commands queued behind one another are decided in order, each on the state the previous
// left: messages racing a Close land before it or are refused by the domain, never as a race.
func TestGroupedCommandsDecideInOrder(t *testing.T) {
	w := newWorld(t, 1)
	requestID := w.submit(t, request.Windows)
	w.assignAndJoin(t, w.app, requestID)
	const messages = 40
	var landed, refused atomic.Int64
	var closedAt atomic.Int64
	concurrently(t, messages+1, func(i int) error {
		if i == messages/2 {
			res, err := w.app.Close(context.Background(), tech(w.techs[0]), requestID)
			if err != nil {
				return fmt.Errorf("close: %w", err)
			}
			closedAt.Store(res.Version)
			return nil
		}
		_, err := w.app.SendCustomerMessage(context.Background(), customer(requestID), requestID, uuid.New(), "racing the close")
		switch {
		case err == nil:
			landed.Add(1)
		case errors.Is(err, request.ErrClosed) || errors.Is(err, request.ErrChatEnded):
			refused.Add(1)
		default:
			return fmt.Errorf("message: %w", err)
		}
		return nil
	})
	if landed.Load()+refused.Load() != messages {
		t.Fatalf("%d landed + %d refused, want %d", landed.Load(), refused.Load(), messages)
	}
	history, err := w.app.Queries().History(context.Background(), requestID)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(messageIDs(t, w.app, requestID)); int64(got) != landed.Load() {
		t.Fatalf("%d messages stored, %d answered as landed", got, landed.Load())
	}
	if last := history[len(history)-1]; last.Type != "request.closed.v1" {
		t.Fatalf("the last event is %s: something landed after the Close (at version %d)", last.Type, closedAt.Load())
	}
}

// conflictingStore is the PostgreSQL store with another writer that wins the race for the
// stream, for the first `wins` appends: what a busy second process looks like from the first.
type conflictingStore struct {
	*pgstore.Store
	wins     atomic.Int64
	attempts atomic.Int64
}

func (s *conflictingStore) AppendChecked(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, reads []eventlog.StreamVersion, events ...eventlog.EventData) ([]eventlog.AppendResult, error) {
	s.attempts.Add(1)
	if s.wins.Add(-1) >= 0 {
		note := &request.NoteAdded{NoteID: uuid.New(), TechnicianID: uuid.New(), Body: "the other process was first"}
		typ, data, err := request.Codec().Encode(note)
		if err != nil {
			return nil, err
		}
		if _, err := s.Store.Append(ctx, streamID, eventlog.Any(), eventlog.EventData{ID: uuid.New(), Type: typ, Data: data,
			Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()}}); err != nil {
			return nil, err
		}
	}
	return s.Store.AppendChecked(ctx, streamID, expected, reads, events...)
}

// Across processes a command decides again as long as its deadline allows, not a fixed small
// number of times, and is refused as changing too fast only when the deadline passes.
func TestConflictsRetriedUntilTheDeadline(t *testing.T) {
	w := newWorld(t, 1)
	requestID := w.submit(t, request.Windows)
	w.assignAndJoin(t, w.app, requestID)
	store, err := pgstore.New(w.pool, pgstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)

	losing := &conflictingStore{Store: store}
	losing.wins.Store(30)
	a := w.otherProcess(t, app.Config{Store: losing})
	must(t, func() (app.Result, error) {
		return a.SendCustomerMessage(context.Background(), customer(requestID), requestID, uuid.New(), "after 30 lost races")
	})
	if n := losing.attempts.Load(); n != 31 {
		t.Fatalf("%d attempts, want 31", n)
	}

	always := &conflictingStore{Store: store}
	always.wins.Store(1 << 40)
	b := w.otherProcess(t, app.Config{Store: always, ConflictWait: 300 * time.Millisecond})
	started := time.Now()
	_, err = b.SendCustomerMessage(context.Background(), customer(requestID), requestID, uuid.New(), "never first")
	if !errors.Is(err, app.ErrTooManyConflicts) {
		t.Fatalf("always losing: %v, want ErrTooManyConflicts", err)
	}
	if took := time.Since(started); took < 250*time.Millisecond || took > 3*time.Second {
		t.Fatalf("gave up after %s, want about the 300 ms deadline", took)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := b.SendCustomerMessage(ctx, customer(requestID), requestID, uuid.New(), "never first"); !errors.Is(err, app.ErrTooManyConflicts) {
		t.Fatalf("always losing within a context deadline: %v, want ErrTooManyConflicts", err)
	}
}

// plainStore hides the PostgreSQL store's CheckedAppender: a store such as KurrentDB's, where
// the command path checks what it read with a tail read before a plain append.
type plainStore struct{ eventlog.Store }

func TestStoreWithoutCheckedAppend(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	store, err := pgstore.New(w.pool, pgstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	a := w.otherProcess(t, app.Config{Store: plainStore{store}})
	requestID := w.submit(t, request.Windows)
	must(t, func() (app.Result, error) { return a.AssignToMe(ctx, tech(w.techs[0]), requestID) })
	must(t, func() (app.Result, error) { return a.JoinChat(ctx, tech(w.techs[0]), requestID) })
	sendCustomerMessages(t, a, requestID, 20)
	must(t, func() (app.Result, error) {
		return w.app.RevokeAccess(ctx, app.Meta{Actor: app.Admin}, app.RevokeAccess{TechnicianID: w.techs[0], CompanyID: w.companyID})
	})
	if _, err := a.SendTechnicianMessage(ctx, tech(w.techs[0]), requestID, uuid.New(), "revoked elsewhere"); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("message after access was revoked by another process: %v, want ErrNotFound", err)
	}
	if n := len(messageIDs(t, a, requestID)); n != 20 {
		t.Fatalf("%d messages stored, want 20", n)
	}
}

// The cache keeps within its bounds, and commands on evicted streams read them again.
func TestAggregateCacheBounds(t *testing.T) {
	for _, tt := range []struct {
		name         string
		streams      int
		bytes        int64
		wantStreams  int
		wantMaxBytes int64
	}{
		{name: "by count", streams: 5, bytes: 1 << 20, wantStreams: 5, wantMaxBytes: 1 << 20},
		{name: "by bytes", streams: 1000, bytes: 3000, wantStreams: 1000, wantMaxBytes: 3000},
		{name: "off", streams: -1, bytes: -1, wantStreams: 0, wantMaxBytes: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, 1)
			a := w.otherProcess(t, app.Config{CachedStreams: tt.streams, CachedBytes: tt.bytes})
			ctx := context.Background()
			var requests []uuid.UUID
			for range 12 {
				id := uuid.New()
				requests = append(requests, id)
				must(t, func() (app.Result, error) {
					return a.SubmitRequest(ctx, customer(id), app.SubmitRequest{RequestID: id, PortalID: w.portalID, CompanyID: w.companyID,
						Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}, Description: "The printer is on fire", Source: request.Source{Platform: request.Windows}})
				})
			}
			for _, id := range requests {
				must(t, func() (app.Result, error) { return a.AssignToMe(ctx, tech(w.techs[0]), id) })
			}
			stats := a.CommandStats()
			if stats.CachedStreams > tt.wantStreams || stats.CachedBytes > tt.wantMaxBytes {
				t.Fatalf("cache holds %d streams, %d bytes; bounds %d streams, %d bytes", stats.CachedStreams, stats.CachedBytes, tt.wantStreams, tt.wantMaxBytes)
			}
			if tt.streams > 0 && stats.CachedStreams == 0 {
				t.Fatal("the cache holds nothing")
			}
			for _, id := range requests {
				if n := countType(t, w.store, id, "request.assigned.v1"); n != 1 {
					t.Fatalf("request %s: %d assignments, want 1", id, n)
				}
			}
		})
	}
}
