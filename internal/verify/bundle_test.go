package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/anchor"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/verify"
)

func export(t *testing.T, store eventlog.Store, ids []uuid.UUID, pub []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := verify.Export(context.Background(), store, ids, &buf, pub); err != nil {
		t.Fatalf("Export: %v", err)
	}
	return buf.Bytes()
}

func verifyBundle(t *testing.T, file []byte, pub []byte) verify.Report {
	t.Helper()
	rep, err := verify.VerifyBundle(bytes.NewReader(file), pub)
	if err != nil {
		t.Fatalf("VerifyBundle: %v", err)
	}
	return rep
}

// A bundle exported from PostgreSQL verifies offline; one byte flipped inside an event's data
// is named by stream and version; a bundle cut short, or checked with another key, too.
func TestExportVerifyOffline(t *testing.T) {
	pub, priv := newKey(t)
	w := newPostgresWorld(t, 6)
	a := w.anchorer(priv)
	w.anchor(a)
	active, closed := w.requests[lifeActive], w.requests[lifeClosed]
	tech := w.techs[0]
	for _, tt := range []string{"a note after the first anchor", "and another"} {
		w.do(w.app.AddNote(context.Background(), app.Meta{Actor: app.Actor{Kind: "technician", ID: tech}}, active, uuid.New(), tt))
	}
	w.waitReadable()
	w.anchor(a)
	w.request(lifeNew) // a third anchor, which names neither request: the latest
	w.waitReadable()
	w.anchor(a)

	file := export(t, w.store, []uuid.UUID{active, closed, active}, pub)
	rep := verifyBundle(t, file, pub)
	if !rep.OK() || rep.Streams != 2 || rep.Events != 10+8 || rep.Anchors != 3 {
		t.Fatalf("the bundle as exported: %+v", rep)
	}

	t.Run("one byte flipped inside an event's data", func(t *testing.T) {
		i := bytes.Index(file, []byte("Restarting fixed it"))
		if i < 0 {
			t.Fatal("the message is not in the bundle")
		}
		flipped := bytes.Clone(file)
		flipped[i] ^= 0x01 // 'R' → 'S'
		rep := verifyBundle(t, flipped, pub)
		expectFindings(t, rep, []want{{verify.KindChain, request.Stream(closed), 4, "version 4 was changed after it was written"}}, request.Stream(closed))
	})
	t.Run("a stream's tail cut off", func(t *testing.T) {
		var b map[string]any
		if err := json.Unmarshal(file, &b); err != nil {
			t.Fatal(err)
		}
		for _, s := range b["streams"].([]any) {
			s := s.(map[string]any)
			if s["stream"] == request.Stream(active) {
				events := s["events"].([]any)
				s["events"] = events[:len(events)-2]
			}
		}
		cut, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rep := verifyBundle(t, cut, pub)
		expectFindings(t, rep, []want{{verify.KindAnchor, request.Stream(active), 7, "the stream ends at version 7 but anchor #1 signed version 9: its tail was deleted"}}, request.Stream(active))
	})
	t.Run("another key", func(t *testing.T) {
		other, _ := newKey(t)
		rep := verifyBundle(t, file, other)
		expectFindings(t, rep, []want{
			{verify.KindAnchor, anchor.Stream, -1, "the bundle names the key"},
			{verify.KindAnchor, anchor.Stream, 0, "anchor #0 was signed by another key"},
			{verify.KindAnchor, anchor.Stream, -1, "no anchor in the log verifies"},
		}, anchor.Stream)
	})
	t.Run("no such request", func(t *testing.T) {
		err := verify.Export(context.Background(), w.store, []uuid.UUID{uuid.New()}, &bytes.Buffer{}, pub)
		if !errors.Is(err, verify.ErrNoSuchRequest) {
			t.Fatalf("Export of an unknown request = %v", err)
		}
	})
	t.Run("not a bundle", func(t *testing.T) {
		for _, text := range []string{"", "{", `{"format":"something else"}`, `[]`} {
			if _, err := verify.VerifyBundle(strings.NewReader(text), pub); !errors.Is(err, verify.ErrBadBundle) {
				t.Errorf("VerifyBundle(%q) = %v, want ErrBadBundle", text, err)
			}
		}
	})
}

// FuzzVerifyBundle feeds VerifyBundle any bytes, starting from a real bundle: it answers a
// report or an error, never panics.
func FuzzVerifyBundle(f *testing.F) {
	file, pub := seedBundle(f)
	f.Add(file)
	f.Add(bytes.Replace(file, []byte(`"version": 1`), []byte(`"version": -9223372036854775808`), 1))
	f.Add(bytes.Replace(file, []byte(`"version": 2`), []byte(`"version": 9223372036854775807`), 1))
	f.Add(bytes.Replace(file, []byte(`"data": "{`), []byte(`"data_base64": "!!", "data": "{`), 1))
	f.Add([]byte(`{"format":"helpstream-audit-bundle/1","streams":[{"stream":"request-x","events":[{"version":3},{"version":3}]}],"anchors":[{"stream":"audit-anchors","type":"audit.anchor.v1","data":"{\"signed\":{},\"signature\":\"\"}"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := verify.VerifyBundle(bytes.NewReader(data), pub)
		if err != nil {
			if !errors.Is(err, verify.ErrBadBundle) {
				t.Fatalf("an error that is not ErrBadBundle: %v", err)
			}
			return
		}
		if rep.Events < 0 || rep.Streams < 0 || len(rep.Findings) > verify.MaxFindings {
			t.Fatalf("report: %+v", rep)
		}
	})
}

// The fuzz seed verifies as it is.
func TestSeedBundleVerifies(t *testing.T) {
	file, pub := seedBundle(t)
	if rep := verifyBundle(t, file, pub); !rep.OK() || rep.Anchors != 1 || rep.Streams != 3 {
		t.Fatalf("seed bundle: %+v", rep)
	}
}

// seedBundle writes a small world into an in-memory store, anchors it and exports three
// requests: the fuzz target's seed, made without a database.
func seedBundle(tb testing.TB) ([]byte, []byte) {
	store := &memStore{}
	w := newWorld(tb, store, 3)
	pub, priv := newKey(tb)
	a, err := anchor.New(anchor.Config{Store: store, PrivateKey: priv})
	if err != nil {
		tb.Fatal(err)
	}
	if _, wrote, err := a.AnchorNow(context.Background()); err != nil || !wrote {
		tb.Fatalf("anchor: %v, %v", wrote, err)
	}
	var buf bytes.Buffer
	if err := verify.Export(context.Background(), store, w.requests, &buf, pub); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), pub
}

// memStore is an event store in memory, for the fuzz seed only: appends with expected
// versions, reads of streams and of the log.
type memStore struct {
	eventlog.Store
	mu     sync.Mutex
	events []eventlog.RecordedEvent
}

func (s *memStore) Append(_ context.Context, stream string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (eventlog.AppendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := int64(-1)
	for _, e := range s.events {
		if e.StreamID == stream {
			last = e.Version
		}
	}
	if v, exact := expected.Exact(); exact && v != last {
		return eventlog.AppendResult{}, &eventlog.ConcurrencyError{StreamID: stream, Expected: expected, Actual: last}
	}
	for _, e := range events {
		last++
		s.events = append(s.events, eventlog.RecordedEvent{ID: e.ID, StreamID: stream, Version: last, Type: e.Type,
			Data: bytes.Clone(e.Data), Metadata: e.Metadata, Position: eventlog.NewPosition(uint64(len(s.events)+1), 0),
			RecordedAt: e.Metadata.OccurredAt})
	}
	return eventlog.AppendResult{NextExpected: last, Position: s.events[len(s.events)-1].Position}, nil
}

func (s *memStore) ReadStream(_ context.Context, stream string, from int64, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []eventlog.RecordedEvent
	for _, e := range s.events {
		if e.StreamID == stream && e.Version >= from && (opts.Limit == 0 || len(out) < opts.Limit) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *memStore) ReadAll(_ context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []eventlog.RecordedEvent
	for _, e := range s.events {
		if e.Position.Compare(from) > 0 && (opts.Limit == 0 || len(out) < opts.Limit) {
			out = append(out, e)
		}
	}
	return out, nil
}
