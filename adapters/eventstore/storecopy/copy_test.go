package storecopy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/eventstore/kurrent"
	"github.com/helpstream/helpstream/adapters/eventstore/kurrent/kurrenttest"
	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/eventstore/storecopy"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newStore returns a PostgreSQL store on a fresh database, and the database's pool.
func newStore(t *testing.T) (*pgstore.Store, *pgxpool.Pool) {
	t.Helper()
	return pgtest.NewEventStore(t, pgstore.Config{DisableNotify: true})
}

// seededSource returns a store on a fresh database that seed filled with rounds rounds of
// events, and their number: the source of a copy.
func seededSource(t *testing.T, ctx context.Context, rounds int) (*pgstore.Store, int) {
	t.Helper()
	from, _ := newStore(t)
	return from, seed(t, ctx, from, rounds)
}

// mustCopy copies from to to and fails the test if the copy fails.
func mustCopy(t *testing.T, ctx context.Context, from, to eventlog.Store, checkpoints storecopy.CheckpointStore, opts storecopy.Options) storecopy.Stats {
	t.Helper()
	st, err := storecopy.Copy(ctx, from, to, checkpoints, opts)
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	return st
}

// newCheckpoints returns the checkpoints of the copy from source to destination, kept in pool's
// database.
func newCheckpoints(t *testing.T, ctx context.Context, pool *pgxpool.Pool, source, destination string) *storecopy.PostgresCheckpoints {
	t.Helper()
	checkpoints, err := storecopy.NewPostgresCheckpoints(ctx, pool, source, destination)
	if err != nil {
		t.Fatalf("checkpoints of %s to %s: %v", source, destination, err)
	}
	return checkpoints
}

// seed fills a store with streams of every kind, appended interleaved, some in multi-event
// batches, each sealed with the hash chain, with payloads whose bytes must survive as written.
// It returns the number of events.
func seed(t *testing.T, ctx context.Context, s eventlog.Store, rounds int) int {
	t.Helper()
	payloads := []string{
		`{"b":1,"a":2}`,
		`{ "spaced" : [ 1 , 2.50 ] , "dup":1, "dup":2 }`,
		`"é and \u00e9"`,
		"{\n\t\"indented\": true\n}",
		`null`,
	}
	streams := []string{
		"request-" + uuid.NewString(),
		"request-" + uuid.NewString(),
		"technician-" + uuid.NewString(),
		"company-" + uuid.NewString(),
	}
	before := len(readLog(t, ctx, s)) // earlier seeds waited until they were readable
	last := map[string]int64{}
	hash := map[string]string{}
	for _, st := range streams {
		last[st] = -1
	}
	total := 0
	for r := 0; r < rounds; r++ {
		for i, st := range streams {
			n := 1 + (r+i)%3
			batch := make([]eventlog.EventData, n)
			for k := range batch {
				batch[k] = eventlog.EventData{
					ID:   uuid.New(),
					Type: fmt.Sprintf("%s.event_%d.v1", strings.SplitN(st, "-", 2)[0], k),
					Data: json.RawMessage(payloads[(r+i+k)%len(payloads)]),
					Metadata: eventlog.Metadata{
						Actor:         "technician:" + uuid.NewString(),
						OccurredAt:    time.Date(2025, 6, 1, 12, r, i, k*1000+7, time.FixedZone("CEST", 2*3600)),
						CorrelationID: uuid.NewString(),
						CausationID:   "command-" + uuid.NewString(),
					},
				}
			}
			eventlog.Seal(st, last[st], hash[st], batch)
			res, err := s.Append(ctx, st, eventlog.Exactly(last[st]), batch...)
			if err != nil {
				t.Fatalf("seed %s: %v", st, err)
			}
			last[st] = res.NextExpected
			hash[st] = batch[len(batch)-1].Metadata.Hash
			total += n
		}
	}
	waitReadable(t, ctx, s, before+total)
	return total
}

// waitReadable waits until want events of the log of s can be read. PostgreSQL holds events back
// from readers while any older transaction of the server is open (in any database, and the
// server is shared with other test packages); a copy copies what it can read, so tests wait.
func waitReadable(t *testing.T, ctx context.Context, s eventlog.Store, want int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(readLog(t, ctx, s)) < want {
		if time.Now().After(deadline) {
			t.Fatalf("the log stays held back: fewer than %d events readable", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readLog(t *testing.T, ctx context.Context, s eventlog.Store) []eventlog.RecordedEvent {
	t.Helper()
	var all []eventlog.RecordedEvent
	cursor := eventlog.Start()
	for {
		page, err := s.ReadAll(ctx, cursor, eventlog.ReadOptions{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		cursor = page[len(page)-1].Position
	}
}

// requireSameLog compares both global logs event by event: IDs, streams, versions, types, data
// bytes and metadata, in the same order. Positions and record times are the destination's own.
func requireSameLog(t *testing.T, ctx context.Context, from, to eventlog.Store) {
	t.Helper()
	src := readLog(t, ctx, from)
	waitReadable(t, ctx, to, len(src))
	dst := readLog(t, ctx, to)
	if len(src) != len(dst) {
		t.Fatalf("source holds %d events, destination %d", len(src), len(dst))
	}
	seen := map[uuid.UUID]bool{}
	for i := range src {
		s, d := src[i], dst[i]
		if seen[d.ID] {
			t.Fatalf("event %s appears twice in the destination", d.ID)
		}
		seen[d.ID] = true
		if s.ID != d.ID || s.StreamID != d.StreamID || s.Version != d.Version || s.Type != d.Type {
			t.Fatalf("event %d: source %s %s@%d %s, destination %s %s@%d %s",
				i, s.ID, s.StreamID, s.Version, s.Type, d.ID, d.StreamID, d.Version, d.Type)
		}
		if !bytes.Equal(s.Data, d.Data) {
			t.Errorf("event %d (%s): data %q, source %q", i, s.ID, d.Data, s.Data)
		}
		if !s.Metadata.OccurredAt.Equal(d.Metadata.OccurredAt) {
			t.Errorf("event %d (%s): occurred at %s, source %s", i, s.ID, d.Metadata.OccurredAt, s.Metadata.OccurredAt)
		}
		sm, dm := s.Metadata, d.Metadata
		sm.OccurredAt, dm.OccurredAt = time.Time{}, time.Time{}
		if sm != dm {
			t.Errorf("event %d (%s): metadata %+v, source %+v", i, s.ID, dm, sm)
		}
	}
	// The copied streams still verify.
	streams := map[string]bool{}
	for _, e := range dst {
		streams[e.StreamID] = true
	}
	for st := range streams {
		events, err := to.ReadStream(ctx, st, 0, eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := eventlog.VerifyChain(events); err != nil {
			t.Errorf("hash chain of the copied %s: %v", st, err)
		}
	}
}

// countingStore counts the appends that reach the destination, and can fail or cancel after a
// number of them.
type countingStore struct {
	eventlog.Store
	appends   atomic.Int64
	failAfter int64              // fail appends after this many succeeded; 0: never
	cancel    context.CancelFunc // with failAfter: cancel the copy's context instead of failing
}

var errInjected = errors.New("destination failed on purpose")

func (c *countingStore) Append(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (eventlog.AppendResult, error) {
	n := c.appends.Add(1)
	if c.failAfter > 0 && n > c.failAfter {
		if c.cancel != nil {
			c.cancel()
			return eventlog.AppendResult{}, context.Canceled
		}
		return eventlog.AppendResult{}, errInjected
	}
	return c.Store.Append(ctx, streamID, expected, events...)
}

func TestCopyPostgresToPostgres(t *testing.T) {
	ctx := testContext(t)
	from, total := seededSource(t, ctx, 6)
	to, toPool := newStore(t)

	checkpoints := newCheckpoints(t, ctx, toPool, "source-db", "destination-db")
	var progress []storecopy.Stats
	st := mustCopy(t, ctx, from, to, checkpoints, storecopy.Options{BatchSize: 7, Progress: func(s storecopy.Stats) { progress = append(progress, s) }})
	if st.Events != int64(total) || st.Resumed || !st.From.IsStart() {
		t.Errorf("stats %+v, want %d events from the start", st, total)
	}
	if want := int64((total + 6) / 7); st.Pages != want || int64(len(progress)) != want {
		t.Errorf("%d pages, %d progress calls, want %d", st.Pages, len(progress), want)
	}
	srcLog := readLog(t, ctx, from)
	if st.Last != srcLog[len(srcLog)-1].Position {
		t.Errorf("last copied position %s, the source's last event is at %s", st.Last, srcLog[len(srcLog)-1].Position)
	}
	if pos, ok, err := checkpoints.Load(ctx); err != nil || !ok || pos != st.Last {
		t.Errorf("checkpoint = %s, %v, %v; want %s", pos, ok, err, st.Last)
	}
	requireSameLog(t, ctx, from, to)
}

func TestCopyRerunWritesNothing(t *testing.T) {
	ctx := testContext(t)
	from, total := seededSource(t, ctx, 3)
	to, _ := newStore(t)
	checkpoints := storecopy.FileCheckpoints{Path: filepath.Join(t.TempDir(), "copy.checkpoint"), Source: "a", Destination: "b"}
	mustCopy(t, ctx, from, to, checkpoints, storecopy.Options{})
	waitReadable(t, ctx, to, total)
	before := readLog(t, ctx, to)

	counting := &countingStore{Store: to}
	st := mustCopy(t, ctx, from, counting, checkpoints, storecopy.Options{})
	if n := counting.appends.Load(); n != 0 || st.Events != 0 || st.Appends != 0 || !st.Resumed {
		t.Errorf("re-run of a finished copy: %d appends reached the destination, stats %+v; want none, resumed", n, st)
	}
	if after := readLog(t, ctx, to); len(after) != len(before) {
		t.Errorf("destination went from %d to %d events", len(before), len(after))
	}

	// New source events are copied by the next run, and only they.
	more := seed(t, ctx, from, 1)
	st = mustCopy(t, ctx, from, counting, checkpoints, storecopy.Options{})
	if st.Events != int64(more) {
		t.Errorf("copied %d events after %d new ones were appended", st.Events, more)
	}
	requireSameLog(t, ctx, from, to)
}

func TestCopyResumesAfterFailingDestination(t *testing.T) {
	ctx := testContext(t)
	from, total := seededSource(t, ctx, 8)
	to, toPool := newStore(t)
	checkpoints := newCheckpoints(t, ctx, toPool, "src", "dst")

	// Fails in the middle of a page: some appends of the page land, the checkpoint does not move.
	failing := &countingStore{Store: to, failAfter: 11}
	first, err := storecopy.Copy(ctx, from, failing, checkpoints, storecopy.Options{BatchSize: 5})
	if !errors.Is(err, errInjected) {
		t.Fatalf("interrupted copy returned %v, want the destination's error", err)
	}
	if first.Events == 0 || first.Events >= int64(total) {
		t.Fatalf("interrupted copy copied %d of %d events", first.Events, total)
	}
	waitReadable(t, ctx, to, int(first.Events))
	partial := readLog(t, ctx, to)
	if int64(len(partial)) != first.Events || len(partial) >= total {
		t.Fatalf("destination holds %d events after the interrupted copy (%d reported)", len(partial), first.Events)
	}
	saved, ok, err := checkpoints.Load(ctx)
	if err != nil || !ok || saved != first.Last {
		t.Fatalf("checkpoint after the interruption = %s, %v, %v; want %s", saved, ok, err, first.Last)
	}

	second := mustCopy(t, ctx, from, to, checkpoints, storecopy.Options{BatchSize: 5})
	if !second.Resumed || second.From != first.Last {
		t.Errorf("second run started after %s (resumed %v), want after %s", second.From, second.Resumed, first.Last)
	}
	requireSameLog(t, ctx, from, to)
	// The second run re-read at most the page that was cut short.
	if sum := first.Events + second.Events; sum < int64(total) || sum > int64(total)+5 {
		t.Errorf("the two runs handed over %d events for %d", sum, total)
	}
}

func TestCopyResumesAfterCancel(t *testing.T) {
	ctx := testContext(t)
	from, _ := seededSource(t, ctx, 8)
	to, _ := newStore(t)
	checkpoints := &storecopy.MemoryCheckpoints{}

	copyCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cancelling := &countingStore{Store: to, failAfter: 9, cancel: cancel}
	_, err := storecopy.Copy(copyCtx, from, cancelling, checkpoints, storecopy.Options{BatchSize: 4})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled copy returned %v, want context.Canceled", err)
	}
	mustCopy(t, ctx, from, to, checkpoints, storecopy.Options{BatchSize: 4})
	requireSameLog(t, ctx, from, to)
}

func TestCopyWithoutCheckpointWritesNothingTwice(t *testing.T) {
	ctx := testContext(t)
	from, _ := seededSource(t, ctx, 4)
	to, _ := newStore(t)
	mustCopy(t, ctx, from, to, &storecopy.MemoryCheckpoints{}, storecopy.Options{BatchSize: 9})
	// The checkpoint is lost: the copy starts over, and the destination's dedupe by event ID
	// turns every append into a no-op.
	st, err := storecopy.Copy(ctx, from, to, &storecopy.MemoryCheckpoints{}, storecopy.Options{BatchSize: 9})
	if err != nil {
		t.Fatalf("copy over a complete destination: %v", err)
	}
	if st.Resumed {
		t.Error("a run without checkpoint reports it resumed")
	}
	requireSameLog(t, ctx, from, to)
}

func TestCopyRefusesDivergentDestination(t *testing.T) {
	ctx := testContext(t)
	from, _ := newStore(t)
	to, _ := newStore(t)
	stream := "request-" + uuid.NewString()
	event := func() eventlog.EventData {
		return eventlog.EventData{ID: uuid.New(), Type: "request.submitted.v1", Data: json.RawMessage(`{}`), Metadata: eventlog.Metadata{Actor: "system"}}
	}
	if _, err := from.Append(ctx, stream, eventlog.NoStream(), event()); err != nil {
		t.Fatal(err)
	}
	if _, err := to.Append(ctx, stream, eventlog.NoStream(), event()); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, ctx, from, 1)
	checkpoints := &storecopy.MemoryCheckpoints{}
	_, err := storecopy.Copy(ctx, from, to, checkpoints, storecopy.Options{})
	if !errors.Is(err, storecopy.ErrDiverged) || !errors.Is(err, eventlog.ErrConcurrency) {
		t.Fatalf("copy onto another history returned %v, want ErrDiverged wrapping the conflict", err)
	}
	if !strings.Contains(err.Error(), stream) {
		t.Errorf("error %q should name the stream", err)
	}
	if _, ok, _ := checkpoints.Load(ctx); ok {
		t.Error("a failed page was checkpointed")
	}
}

func TestCopyEmptySource(t *testing.T) {
	ctx := testContext(t)
	from, _ := newStore(t)
	to, _ := newStore(t)
	st, err := storecopy.Copy(ctx, from, to, &storecopy.MemoryCheckpoints{}, storecopy.Options{})
	if err != nil || st.Events != 0 || st.Pages != 0 || !st.Last.IsStart() {
		t.Fatalf("copy of an empty log = %+v, %v", st, err)
	}
	if _, err := storecopy.Copy(ctx, from, nil, &storecopy.MemoryCheckpoints{}, storecopy.Options{}); err == nil {
		t.Error("copy without a destination succeeded")
	}
}

func TestRuns(t *testing.T) {
	ev := func(stream string, version int64) eventlog.RecordedEvent {
		return eventlog.RecordedEvent{StreamID: stream, Version: version}
	}
	page := []eventlog.RecordedEvent{
		ev("a", 0), ev("a", 1), ev("a", 2), // one run
		ev("b", 0),             // another stream
		ev("a", 3),             // back to a: a new run
		ev("a", 5), ev("a", 6), // a gap in versions splits a run
		ev("c", 4),
	}
	var got []string
	for _, r := range storecopy.Runs(page) {
		got = append(got, fmt.Sprintf("%s%d-%d", r[0].StreamID, r[0].Version, r[len(r)-1].Version))
	}
	want := "a0-2 b0-0 a3-3 a5-6 c4-4"
	if strings.Join(got, " ") != want {
		t.Errorf("Runs = %v, want %s", got, want)
	}
	if runs := storecopy.Runs(nil); len(runs) != 0 {
		t.Errorf("Runs(nil) = %v", runs)
	}
}

func TestPostgresCheckpoints(t *testing.T) {
	ctx := testContext(t)
	pool, _ := pgtest.NewDatabase(t)
	ab := newCheckpoints(t, ctx, pool, "a", "b")
	ac := newCheckpoints(t, ctx, pool, "a", "c") // the table exists already
	if pos, ok, err := ab.Load(ctx); err != nil || ok || !pos.IsStart() {
		t.Fatalf("Load before any Save = %s, %v, %v", pos, ok, err)
	}
	p1, p2 := eventlog.NewPosition(10, 3), eventlog.NewPosition(1<<63, 1<<40)
	for _, p := range []eventlog.Position{p1, p2} {
		if err := ab.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := ab.Load(ctx); err != nil || !ok || got != p {
			t.Fatalf("Load after Save(%s) = %s, %v, %v", p, got, ok, err)
		}
	}
	if _, ok, _ := ac.Load(ctx); ok {
		t.Error("pairs share a checkpoint")
	}
	if err := ab.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ab.Load(ctx); ok {
		t.Error("Reset kept the checkpoint")
	}
	var position string
	if err := ac.Save(ctx, p1); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT position FROM event_copy_checkpoints WHERE source = 'a' AND destination = 'c'`).Scan(&position); err != nil || position != p1.String() {
		t.Errorf("stored position %q, %v; want %q", position, err, p1.String())
	}
	if _, err := storecopy.NewPostgresCheckpoints(ctx, pool, "", "b"); err == nil {
		t.Error("a pair without a source name was accepted")
	}
}

func TestFileCheckpoints(t *testing.T) {
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "copy.checkpoint")
	c := storecopy.FileCheckpoints{Path: path, Source: "pg://a", Destination: "esdb://b"}
	if pos, ok, err := c.Load(ctx); err != nil || ok || !pos.IsStart() {
		t.Fatalf("Load of a missing file = %s, %v, %v", pos, ok, err)
	}
	p := eventlog.NewPosition(123, 45)
	if err := c.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := c.Load(ctx); err != nil || !ok || got != p {
		t.Fatalf("Load = %s, %v, %v; want %s", got, ok, err, p)
	}
	other := storecopy.FileCheckpoints{Path: path, Source: "pg://a", Destination: "esdb://elsewhere"}
	if _, _, err := other.Load(ctx); err == nil {
		t.Error("a checkpoint of another pair was accepted")
	}
	matches, _ := filepath.Glob(path + ".*")
	if len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

// TestCopyThroughKurrentDB copies PostgreSQL → KurrentDB → PostgreSQL through the same code path,
// with kurrenttest's in-memory stand-in for the server (a real one is not available everywhere),
// and compares the ends and the middle.
func TestCopyThroughKurrentDB(t *testing.T) {
	ctx := testContext(t)
	from, _ := seededSource(t, ctx, 5)
	back, _ := newStore(t)
	_, url := kurrenttest.Start(t)
	esdb, err := kurrent.OpenConfig(ctx, url, kurrent.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = esdb.Close() })

	if _, err := storecopy.Copy(ctx, from, esdb, &storecopy.MemoryCheckpoints{}, storecopy.Options{BatchSize: 6}); err != nil {
		t.Fatalf("copy to KurrentDB: %v", err)
	}
	requireSameLog(t, ctx, from, esdb)
	// Interrupted on the way back, then resumed.
	checkpoints := &storecopy.MemoryCheckpoints{}
	failing := &countingStore{Store: back, failAfter: 7}
	if _, err := storecopy.Copy(ctx, esdb, failing, checkpoints, storecopy.Options{BatchSize: 4}); !errors.Is(err, errInjected) {
		t.Fatalf("interrupted copy returned %v", err)
	}
	if _, err := storecopy.Copy(ctx, esdb, back, checkpoints, storecopy.Options{BatchSize: 4}); err != nil {
		t.Fatalf("copy back to PostgreSQL: %v", err)
	}
	requireSameLog(t, ctx, from, back)
	// A re-run over KurrentDB without the checkpoint writes nothing twice there either.
	if _, err := storecopy.Copy(ctx, from, esdb, &storecopy.MemoryCheckpoints{}, storecopy.Options{BatchSize: 6}); err != nil {
		t.Fatalf("second copy to KurrentDB: %v", err)
	}
	requireSameLog(t, ctx, from, esdb)
}
