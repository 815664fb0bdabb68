package anchor_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/anchor"
)

// log is a test's event log on PostgreSQL, with what it appended.
type log struct {
	t     *testing.T
	store *pgstore.Store
	last  eventlog.Position
}

func newLog(t *testing.T) *log {
	store, _ := pgtest.NewEventStore(t, pgstore.Config{})
	return &log{t: t, store: store}
}

// add appends n sealed events to stream and returns the stream's last event; it waits until
// the log shows them.
func (l *log) add(stream string, n int) eventlog.RecordedEvent {
	l.t.Helper()
	ctx := context.Background()
	existing, err := l.store.ReadStream(ctx, stream, 0, eventlog.ReadOptions{})
	if err != nil {
		l.t.Fatal(err)
	}
	version, hash := int64(-1), ""
	if k := len(existing); k > 0 {
		version, hash = existing[k-1].Version, existing[k-1].Metadata.Hash
	}
	events := make([]eventlog.EventData, n)
	for i := range events {
		events[i] = eventlog.EventData{ID: uuid.New(), Type: "test.noted.v1", Data: json.RawMessage(`{"n":1}`),
			Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()}}
	}
	eventlog.Seal(stream, version, hash, events)
	res, err := l.store.Append(ctx, stream, eventlog.Exactly(version), events...)
	if err != nil {
		l.t.Fatal(err)
	}
	l.last = res.Position
	l.waitReadable()
	all, err := l.store.ReadStream(ctx, stream, 0, eventlog.ReadOptions{})
	if err != nil {
		l.t.Fatal(err)
	}
	return all[len(all)-1]
}

// waitReadable waits until ReadAll shows the last append: the log shows a commit only once
// every transaction begun before it has ended, anywhere on the server.
func (l *log) waitReadable() {
	l.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		head, err := l.store.Head(context.Background())
		if err != nil {
			l.t.Fatal(err)
		}
		if head.Compare(l.last) >= 0 {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("the log does not show %s after 10 s", l.last)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// anchors reads every anchor of the log.
func (l *log) anchors() []anchor.Anchor {
	l.t.Helper()
	events, err := l.store.ReadStream(context.Background(), anchor.Stream, 0, eventlog.ReadOptions{})
	if err != nil {
		l.t.Fatal(err)
	}
	if err := eventlog.VerifyChain(events); err != nil {
		l.t.Fatalf("the anchor stream's own chain: %v", err)
	}
	out := make([]anchor.Anchor, len(events))
	for i, e := range events {
		if out[i], err = anchor.Decode(e); err != nil {
			l.t.Fatal(err)
		}
	}
	return out
}

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func newAnchorer(t *testing.T, store eventlog.Store, priv ed25519.PrivateKey, opts ...func(*anchor.Config)) *anchor.Anchorer {
	t.Helper()
	cfg := anchor.Config{Store: store, PrivateKey: priv, Interval: time.Minute}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := anchor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func anchorNow(t *testing.T, a *anchor.Anchorer) (anchor.Anchor, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, wrote, err := a.AnchorNow(ctx)
	if err != nil {
		t.Fatalf("AnchorNow: %v", err)
	}
	return got, wrote
}

func heads(a anchor.Anchor) map[string]anchor.StreamHead {
	m := map[string]anchor.StreamHead{}
	for _, h := range a.Streams {
		m[h.Stream] = h
	}
	return m
}

// Each anchor lists the streams that changed since the one before, with their last version and
// hash, counts the log's events, chains its head onto the previous one and is signed.
func TestAnchorerAnchorsWhatChanged(t *testing.T) {
	l := newLog(t)
	pub, priv := newKey(t)
	a := newAnchorer(t, l.store, priv)
	if _, wrote := anchorNow(t, a); wrote {
		t.Fatal("an empty log was anchored")
	}
	lastA := l.add("doc-a", 3)
	lastB := l.add("doc-b", 2)
	first, wrote := anchorNow(t, a)
	if !wrote {
		t.Fatal("nothing anchored")
	}
	if first.Number != 0 || first.Events != 5 || first.PreviousHead != "" || first.Position != lastB.Position || len(first.Streams) != 2 {
		t.Fatalf("first anchor: %+v", first)
	}
	if h := heads(first); h["doc-a"] != (anchor.StreamHead{Stream: "doc-a", Version: 2, Hash: lastA.Metadata.Hash}) ||
		h["doc-b"] != (anchor.StreamHead{Stream: "doc-b", Version: 1, Hash: lastB.Metadata.Hash}) {
		t.Fatalf("first anchor's streams: %+v", first.Streams)
	}
	if _, wrote := anchorNow(t, a); wrote {
		t.Fatal("anchored again with nothing new but the anchor itself")
	}
	lastB = l.add("doc-b", 1)
	second, wrote := anchorNow(t, a)
	if !wrote || second.Number != 1 || second.Events != 6 || second.PreviousHead != first.Head || len(second.Streams) != 1 ||
		second.Streams[0] != (anchor.StreamHead{Stream: "doc-b", Version: 2, Hash: lastB.Metadata.Hash}) {
		t.Fatalf("second anchor: %+v", second)
	}
	stored := l.anchors()
	if len(stored) != 2 {
		t.Fatalf("%d anchors stored, want 2", len(stored))
	}
	for _, s := range stored {
		if err := s.Verify(pub); err != nil {
			t.Fatalf("stored anchor: %v", err)
		}
		if s.Interval != time.Minute || s.Key != anchor.Fingerprint(pub) {
			t.Fatalf("stored anchor #%d: interval %s, key %s", s.Number, s.Interval, s.Key)
		}
	}
	if stored[1].Head != second.Head || stored[1].Head != stored[1].HeadOver(stored[1].Streams) || stored[1].PreviousHead != stored[0].Head {
		t.Fatal("the stored head is not the head of the anchor's streams chained onto the previous head")
	}
	// The head covers every field: changed, it is another head.
	for _, change := range []func(a *anchor.Anchor){
		func(a *anchor.Anchor) { a.Events++ },
		func(a *anchor.Anchor) { a.Number++ },
		func(a *anchor.Anchor) { a.PreviousHead = first.PreviousHead },
		func(a *anchor.Anchor) { a.SignedAt = a.SignedAt.Add(time.Nanosecond) },
		func(a *anchor.Anchor) { a.Interval++ },
		func(a *anchor.Anchor) { a.Key = "SHA256:x" },
		func(a *anchor.Anchor) { a.Position = first.Position },
		func(a *anchor.Anchor) {
			a.Streams = append([]anchor.StreamHead{{Stream: "doc-0", Version: 0, Hash: "00"}}, a.Streams...)
		},
	} {
		changed := stored[1]
		change(&changed)
		if changed.HeadOver(changed.Streams) == stored[1].Head {
			t.Fatalf("a changed anchor has the same head: %+v", changed)
		}
	}
	// Read without its streams, an anchor is the same but for them.
	events, err := l.store.ReadStream(context.Background(), anchor.Stream, 1, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	light, err := anchor.DecodeSigned(events[0])
	if err != nil {
		t.Fatal(err)
	}
	if light.Streams != nil || light.Head != stored[1].Head || light.Events != stored[1].Events || light.VerifySignature(pub) != nil {
		t.Fatalf("DecodeSigned: %+v", light)
	}
}

// countingStore counts the events ReadAll returns.
type countingStore struct {
	eventlog.Store
	read atomic.Int64
}

func (s *countingStore) ReadAll(ctx context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	events, err := s.Store.ReadAll(ctx, from, opts)
	s.read.Add(int64(len(events)))
	return events, err
}

// A new anchorer (a restarted server) goes on from the last anchor: it reads the log after it,
// not the whole log again.
func TestAnchorerResumesFromTheLastAnchor(t *testing.T) {
	l := newLog(t)
	pub, priv := newKey(t)
	first := newAnchorer(t, l.store, priv)
	for i := range 5 {
		l.add("doc-"+string(rune('a'+i)), 40)
		anchorNow(t, first)
	}
	l.add("doc-z", 3)
	counting := &countingStore{Store: l.store}
	restarted := newAnchorer(t, counting, priv)
	got, wrote := anchorNow(t, restarted)
	if !wrote || got.Number != 5 || got.Events != 203 || len(got.Streams) != 1 || got.Streams[0].Stream != "doc-z" {
		t.Fatalf("anchor after the restart: %+v", got)
	}
	if n := counting.read.Load(); n > 3+1 { // the new events, and at most the last anchor's own event
		t.Fatalf("the restarted anchorer read %d events of the log, want those after the last anchor", n)
	}
	stored := l.anchors()
	if err := stored[5].Verify(pub); err != nil || stored[5].PreviousHead != stored[4].Head {
		t.Fatalf("anchor #5: %v, previous head %q, anchor #4's head %q", err, stored[5].PreviousHead, stored[4].Head)
	}
}

// Two servers anchoring the same log: one writes each anchor, the other finds it written and
// goes on from it.
func TestAnchorersOfTwoServers(t *testing.T) {
	l := newLog(t)
	_, priv := newKey(t)
	one, two := newAnchorer(t, l.store, priv), newAnchorer(t, l.store, priv)
	l.add("doc-a", 1)
	if _, wrote := anchorNow(t, one); !wrote {
		t.Fatal("the first server anchored nothing")
	}
	l.add("doc-a", 1)
	if got, wrote := anchorNow(t, two); !wrote || got.Number != 1 { // it loads the last anchor first
		t.Fatalf("second server: %+v, %v", got, wrote)
	}
	l.add("doc-b", 1)
	if got, wrote := anchorNow(t, one); wrote {
		t.Fatalf("the first server wrote anchor #%d over the second server's", got.Number)
	}
	if got, wrote := anchorNow(t, one); !wrote || got.Number != 2 || got.Streams[0].Stream != "doc-b" {
		t.Fatalf("the first server after losing the race: %+v, %v", got, wrote)
	}

	// At once, many times: no anchor is written twice, none is lost.
	var wg sync.WaitGroup
	var written atomic.Int64
	for range 5 {
		l.add("doc-c", 1)
		for _, a := range []*anchor.Anchorer{one, two} {
			wg.Go(func() {
				if _, wrote, err := a.AnchorNow(context.Background()); err != nil {
					t.Error(err)
				} else if wrote {
					written.Add(1)
				}
			})
		}
		wg.Wait()
	}
	stored := l.anchors()
	if int64(len(stored)) != 3+written.Load() {
		t.Fatalf("%d anchors stored, %d reported written after the first 3", len(stored), written.Load())
	}
	for i := 1; i < len(stored); i++ {
		if stored[i].PreviousHead != stored[i-1].Head {
			t.Fatalf("anchor #%d does not chain onto #%d", i, i-1)
		}
	}
	if last := stored[len(stored)-1]; last.Events != 8 {
		t.Fatalf("the last anchor counts %d events, the log holds 8", last.Events)
	}
}

// An anchor lists at most MaxStreams streams; Run anchors the rest at once.
func TestAnchorerMaxStreams(t *testing.T) {
	l := newLog(t)
	_, priv := newKey(t)
	for _, s := range []string{"doc-a", "doc-b", "doc-c", "doc-a", "doc-d", "doc-e"} {
		l.add(s, 1)
	}
	counting := &countingStore{Store: l.store}
	a := newAnchorer(t, counting, priv, func(c *anchor.Config) { c.MaxStreams = 2; c.PageSize = 2 })
	got, _ := anchorNow(t, a)
	if len(got.Streams) != 2 || got.Events != 2 {
		t.Fatalf("capped anchor: %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		stored := l.anchors()
		if last := stored[len(stored)-1]; last.Events == 6 {
			// #0: a and b; #1: c and a again; #2: d and e.
			if len(stored) != 3 || len(heads(stored[1])) != 2 || heads(stored[1])["doc-a"].Version != 1 || len(heads(stored[2])) != 2 {
				t.Fatalf("anchors: %+v", stored)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not anchor the rest of the log at once")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v after its context ended", err)
	}
	// Each anchor goes on where the one before stopped, in the page it stopped in: the log's 6
	// events are read once (and the anchors among them, at most once each).
	if n := counting.read.Load(); n > 6+3 {
		t.Fatalf("the anchorer read %d events to anchor a log of 6", n)
	}
}

// Run anchors every Interval what was written meanwhile.
func TestRunAnchorsEveryInterval(t *testing.T) {
	l := newLog(t)
	_, priv := newKey(t)
	a := newAnchorer(t, l.store, priv, func(c *anchor.Config) { c.Interval = 20 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	for i := range 3 {
		l.add("doc-a", 1)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			stored := l.anchors()
			if len(stored) == i+1 && stored[i].Events == int64(i+1) {
				break
			}
			if len(stored) > i+1 || time.Now().After(deadline) {
				t.Fatalf("after %d appends: %d anchors", i+1, len(stored))
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v after its context ended", err)
	}
}

// failingStore fails every read.
type failingStore struct{ eventlog.Store }

func (failingStore) ReadStream(context.Context, string, int64, eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	return nil, errors.New("the store is down")
}

// A store that fails is an error of AnchorNow, which Run logs and outlives.
func TestRunOutlivesFailures(t *testing.T) {
	_, priv := newKey(t)
	logs := &lockedBuffer{}
	a, err := anchor.New(anchor.Config{Store: failingStore{}, PrivateKey: priv, Interval: 5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.AnchorNow(context.Background()); err == nil || !strings.Contains(err.Error(), "the store is down") {
		t.Fatalf("AnchorNow on a failing store = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); strings.Count(logs.String(), "cannot anchor the log now") < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("Run did not try again after failures:\n%s", logs.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v after its context ended", err)
	}
}

// lockedBuffer is a log's output, written by Run's goroutine and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestConfigValidate(t *testing.T) {
	_, priv := newKey(t)
	store := failingStore{}
	tests := []struct {
		name string
		cfg  anchor.Config
		want string
	}{
		{"no store", anchor.Config{PrivateKey: priv}, "Store is required"},
		{"no key", anchor.Config{Store: store}, "PrivateKey"},
		{"a short key", anchor.Config{Store: store, PrivateKey: priv[:10]}, "PrivateKey"},
		{"a negative interval", anchor.Config{Store: store, PrivateKey: priv, Interval: -time.Second}, "Interval"},
		{"a negative page", anchor.Config{Store: store, PrivateKey: priv, PageSize: -1}, "PageSize"},
		{"negative streams", anchor.Config{Store: store, PrivateKey: priv, MaxStreams: -1}, "MaxStreams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := anchor.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error about %s", err, tt.want)
			}
		})
	}
	if _, err := anchor.New(anchor.Config{Store: store, PrivateKey: priv}); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}

// Verify refuses an anchor signed by another key, one whose signed bytes changed, and one forged
// with another key that claims the right key's fingerprint.
func TestVerifyRefusesForgeries(t *testing.T) {
	l := newLog(t)
	pub, priv := newKey(t)
	otherPub, otherPriv := newKey(t)
	l.add("doc-a", 2)
	good, _ := anchorNow(t, newAnchorer(t, l.store, priv))
	if err := good.Verify(pub); err != nil {
		t.Fatal(err)
	}
	if err := good.Verify(otherPub); !errors.Is(err, anchor.ErrOtherKey) {
		t.Fatalf("with another key: %v", err)
	}
	events, err := l.store.ReadStream(context.Background(), anchor.Stream, 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	changed := events[0]
	changed.Data = bytes.Replace(changed.Data, []byte(`"events":2`), []byte(`"events":1`), 1)
	if bytes.Equal(changed.Data, events[0].Data) {
		t.Fatalf("the test did not change the anchor: %s", changed.Data)
	}
	if a, err := anchor.Decode(changed); err != nil {
		t.Fatal(err)
	} else if err := a.Verify(pub); !errors.Is(err, anchor.ErrBadSignature) {
		t.Fatalf("changed anchor: %v", err)
	}

	// A forger signs with their own key and writes the real key's fingerprint in.
	forger := newLog(t)
	forger.add("doc-a", 2)
	forged, _ := anchorNow(t, newAnchorer(t, forger.store, otherPriv))
	fe, err := forger.store.ReadStream(context.Background(), anchor.Stream, 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fe[0].Data = bytes.Replace(fe[0].Data, []byte(forged.Key), []byte(anchor.Fingerprint(pub)), 1)
	if a, err := anchor.Decode(fe[0]); err != nil {
		t.Fatal(err)
	} else if err := a.Verify(pub); !errors.Is(err, anchor.ErrBadSignature) {
		t.Fatalf("forged anchor: %v", err)
	}
}

func TestDecodeRefusesWhatIsNoAnchor(t *testing.T) {
	valid := func() eventlog.RecordedEvent {
		l := newLog(t)
		_, priv := newKey(t)
		l.add("doc-a", 1)
		anchorNow(t, newAnchorer(t, l.store, priv))
		events, err := l.store.ReadStream(context.Background(), anchor.Stream, 0, eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return events[0]
	}()
	if _, err := anchor.Decode(valid); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(e *eventlog.RecordedEvent)
		// listOnly: the signed part is right, and DecodeSigned, which does not read the list, reads it.
		listOnly bool
	}{
		{"another stream", func(e *eventlog.RecordedEvent) { e.StreamID = "doc-a" }, false},
		{"another type", func(e *eventlog.RecordedEvent) { e.Type = "audit.anchor.v0" }, false},
		{"another number", func(e *eventlog.RecordedEvent) { e.Version = 3 }, false},
		{"not JSON", func(e *eventlog.RecordedEvent) { e.Data = []byte("{") }, false},
		{"a signature that is not base64", func(e *eventlog.RecordedEvent) {
			e.Data = bytes.Replace(e.Data, []byte(`"signature":"`), []byte(`"signature":"*`), 1)
		}, false},
		{"another format", func(e *eventlog.RecordedEvent) {
			e.Data = bytes.Replace(e.Data, []byte("helpstream-anchor/1"), []byte("helpstream-anchor/9"), 1)
		}, false},
		{"no signature", func(e *eventlog.RecordedEvent) {
			e.Data = bytes.Replace(e.Data, []byte(`"signature":`), []byte(`"signatures":`), 1)
		}, false},
		{"a list of streams out of order", func(e *eventlog.RecordedEvent) {
			e.Data = bytes.Replace(e.Data, []byte(`"streams":[`), []byte(`"streams":[{"stream":"zzz","version":0,"hash":""},`), 1)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid
			e.Data = bytes.Clone(valid.Data)
			tt.change(&e)
			if _, err := anchor.Decode(e); !errors.Is(err, anchor.ErrMalformed) {
				t.Fatalf("Decode = %v, want ErrMalformed", err)
			}
			if _, err := anchor.DecodeSigned(e); tt.listOnly != (err == nil) || err != nil && !errors.Is(err, anchor.ErrMalformed) {
				t.Fatalf("DecodeSigned = %v, want ErrMalformed unless only the list is wrong (%v)", err, tt.listOnly)
			}
		})
	}
}

func TestKeyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	files, err := anchor.GenerateKeyFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{files.PrivateKey: 0o600, files.PublicKey: 0o644, dir: 0o700} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s has mode %04o, want %04o", path, got, want)
		}
	}
	priv, err := anchor.LoadPrivateKey(files.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := anchor.LoadPublicKey(files.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(files.Public) || !pub.Equal(priv.Public()) {
		t.Fatal("the key files do not hold one key pair")
	}
	line := anchor.FormatPublicKey(pub)
	for _, text := range []string{line, " " + line + "\n", strings.TrimPrefix(line, "ed25519:")} {
		if got, err := anchor.ParsePublicKey(text); err != nil || !got.Equal(pub) {
			t.Fatalf("ParsePublicKey(%q) = %v", text, err)
		}
	}
	if fp := anchor.Fingerprint(pub); !strings.HasPrefix(fp, "SHA256:") || len(fp) != 7+43 || fp == anchor.Fingerprint(pub[:31:31]) {
		t.Fatalf("fingerprint %q", fp)
	}

	if _, err := anchor.GenerateKeyFiles(dir); !errors.Is(err, os.ErrExist) {
		t.Fatalf("a second key in the same directory: %v", err)
	}
	if again, err := anchor.LoadPrivateKey(files.PrivateKey); err != nil || !again.Equal(priv) {
		t.Fatal("a refused second key changed the first")
	}
	if err := os.Chmod(files.PrivateKey, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := anchor.LoadPrivateKey(files.PrivateKey); !errors.Is(err, anchor.ErrKeyFileOpen) {
		t.Fatalf("a private key readable by all: %v", err)
	}
	for _, text := range []string{"", "ed25519:AAAA", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"} {
		if _, err := anchor.ParsePublicKey(text); !errors.Is(err, anchor.ErrNotEd25519Key) {
			t.Errorf("ParsePublicKey(%q) = %v, want ErrNotEd25519Key", text, err)
		}
	}
	if _, err := anchor.LoadPublicKey(files.PrivateKey); !errors.Is(err, anchor.ErrNotEd25519Key) {
		t.Fatalf("the private key file read as a public key: %v", err)
	}
}
