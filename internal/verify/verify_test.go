package verify_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/anchor"
	"github.com/helpstream/helpstream/internal/verify"
)

// A log written by the application's commands verifies with no finding; the report counts
// what was checked, and the progress reaches every event.
func TestCleanLogVerifies(t *testing.T) {
	w := newPostgresWorld(t, 12)
	var mu sync.Mutex
	var calls []int64
	rep := w.verifyLog(verify.Config{PageSize: 7, Progress: func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, done)
		if total != 0 && total < done {
			t.Errorf("progress %d of %d", done, total)
		}
	}})
	if !rep.OK() {
		t.Fatalf("findings in a clean log: %+v", rep.Findings)
	}
	events := w.events()
	// 12 requests, one company, two technicians.
	if rep.Streams != 15 || rep.Events != events || len(rep.Unfolded) != 0 || rep.Anchors != 0 || rep.Duration <= 0 {
		t.Fatalf("report: %+v (the log holds %d events)", rep, events)
	}
	if len(calls) < 2 || calls[len(calls)-1] != events || !slices.IsSorted(calls) {
		t.Fatalf("progress calls: %v", calls)
	}
}

// Each way of tampering with the events table behind the store's back is named: the stream
// and the version at fault, in words.
func TestTamperedLog(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(w *world) []want
	}{
		{"a payload changed", func(w *world) []want {
			s := w.stream(lifeActive)
			w.tamper(`UPDATE events SET data = replace(data::text, 'printer', 'scanner')::json WHERE stream_id = $1 AND stream_version = 0`, s)
			return []want{{verify.KindChain, s, 0, "version 0 was changed after it was written"}}
		}},
		{"an actor changed", func(w *world) []want {
			s := w.stream(lifeClosed)
			w.tamper(`UPDATE events SET metadata = jsonb_set(metadata::jsonb, '{actor}', '"admin"')::json WHERE stream_id = $1 AND stream_version = 4`, s)
			return []want{{verify.KindChain, s, 4, "version 4 was changed"}}
		}},
		{"two events swapped", func(w *world) []want {
			s := w.stream(lifeActive)
			w.tamper(`UPDATE events SET stream_version = 1000 WHERE stream_id = $1 AND stream_version = 2`, s)
			w.tamper(`UPDATE events SET stream_version = 2 WHERE stream_id = $1 AND stream_version = 3`, s)
			w.tamper(`UPDATE events SET stream_version = 3 WHERE stream_id = $1 AND stream_version = 1000`, s)
			return []want{
				{verify.KindVersion, s, 2, "version 2 comes after version 3 in the log: the stream's events were reordered"},
				{verify.KindChain, s, 2, "was changed"}, {verify.KindChain, s, 3, "was changed"},
			}
		}},
		{"two events swapped in the log's order", func(w *world) []want {
			s := w.stream(lifeClosed)
			w.tamper(`WITH a AS (SELECT transaction_id, global_position FROM events WHERE stream_id = $1 AND stream_version = 2),
				b AS (SELECT transaction_id, global_position FROM events WHERE stream_id = $1 AND stream_version = 3)
				UPDATE events e SET transaction_id = CASE WHEN e.stream_version = 2 THEN b.transaction_id ELSE a.transaction_id END,
					global_position = -e.global_position
				FROM a, b WHERE e.stream_id = $1 AND e.stream_version IN (2, 3)`, s)
			w.tamper(`WITH a AS (SELECT global_position FROM events WHERE stream_id = $1 AND stream_version = 2),
				b AS (SELECT global_position FROM events WHERE stream_id = $1 AND stream_version = 3)
				UPDATE events e SET global_position = CASE WHEN e.stream_version = 2 THEN -b.global_position ELSE -a.global_position END
				FROM a, b WHERE e.stream_id = $1 AND e.stream_version IN (2, 3)`, s)
			return []want{{verify.KindVersion, s, 2, "version 2 comes after version 3 in the log: the stream's events were reordered"}}
		}},
		{"a middle event deleted", func(w *world) []want {
			s := w.stream(lifeClosed)
			w.tamper(`DELETE FROM events WHERE stream_id = $1 AND stream_version = 3`, s)
			return []want{{verify.KindVersion, s, 3, "the event at version 3 is missing"}}
		}},
		{"the first events deleted", func(w *world) []want {
			s := w.stream(lifeNew)
			w.tamper(`DELETE FROM events WHERE stream_id = $1 AND stream_version < 2`, s)
			return []want{{verify.KindVersion, s, 0, "the events at versions 0 to 1 are missing"}}
		}},
		{"an event replaced by one sealed again", func(w *world) []want {
			s := w.stream(lifeActive)
			// The forger copies version 4's hash fields onto other content, then seals it: only
			// the link from version 5 can tell.
			w.resealInPlace(s, 4, `{"message_id":"`+uuid.NewString()+`","from":"customer","body":"I never had a problem."}`)
			return []want{{verify.KindChain, s, 4, "version 5 does not follow version 4"}}
		}},
		{"an impossible transition appended and sealed", func(w *world) []want {
			s := w.stream(lifeClosed)
			w.appendSealed(s, &request.Assigned{TechnicianID: w.techs[0]})
			return []want{{verify.KindFold, s, 8, "request.assigned.v1 cannot follow: the request is closed and cannot change"}}
		}},
		{"an event that does not decode, sealed", func(w *world) []want {
			s := w.stream(lifeNew)
			w.appendSealedRaw(s, "request.assigned.v1", `{"technician_id": 42}`)
			return []want{{verify.KindFold, s, 4, "version 4 (request.assigned.v1) does not decode"}}
		}},
		{"an event of another kind of stream, sealed", func(w *world) []want {
			s := w.stream(lifeNew)
			w.appendSealedRaw(s, "company.created.v1", `{"company_id":"`+uuid.NewString()+`","name":"Evil"}`)
			return []want{{verify.KindFold, s, 4, "version 4 is a company.created.v1 event, which a request stream cannot hold"}}
		}},
		{"a technician's access granted twice, sealed", func(w *world) []want {
			s := "technician-" + w.techs[1].String()
			w.appendSealedRaw(s, "technician.access_granted.v1", `{"technician_id":"`+w.techs[1].String()+`","company_id":"`+w.company.String()+`"}`)
			return []want{{verify.KindFold, s, 3, "the technician has that access already"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newPostgresWorld(t, 6)
			wants := tt.tamper(w)
			rep := w.verifyLog(verify.Config{})
			expectFindings(t, rep, wants, wants[0].stream)
		})
	}
}

// What a chain alone cannot see: a deleted tail or a deleted stream leave valid, shorter
// chains. Anchors see them (TestAnchoredLog).
func TestWithoutAnchorsADeletedTailIsUnseen(t *testing.T) {
	w := newPostgresWorld(t, 6)
	w.tamper(`DELETE FROM events WHERE stream_id = $1 AND stream_version >= 5`, w.stream(lifeActive))
	w.tamper(`DELETE FROM events WHERE stream_id = $1`, w.stream(lifeClosed))
	if rep := w.verifyLog(verify.Config{}); !rep.OK() {
		t.Fatalf("findings: %+v", rep.Findings)
	}
}

// Anchored, a deleted tail, a deleted stream, a stream rewritten and sealed again, a forged or
// changed anchor and anchors that stopped are all named.
func TestAnchoredLog(t *testing.T) {
	pub, priv := newKey(t)
	tests := []struct {
		name   string
		tamper func(w *world, anchors []anchor.Anchor) []want
	}{
		{"a stream's tail deleted", func(w *world, anchors []anchor.Anchor) []want {
			s := w.stream(lifeActive)
			w.tamper(`DELETE FROM events WHERE stream_id = $1 AND stream_version >= 5`, s)
			return []want{
				{verify.KindAnchor, s, 4, "the stream ends at version 4 but anchor #0 signed version 7: its tail was deleted"},
				{verify.KindAnchor, anchor.Stream, 0, "3 events were deleted"},
			}
		}},
		{"a whole stream deleted", func(w *world, anchors []anchor.Anchor) []want {
			s := w.stream(lifeClosed)
			w.tamper(`DELETE FROM events WHERE stream_id = $1`, s)
			return []want{
				{verify.KindAnchor, s, -1, "the stream is missing: anchor #0 signed it at version 7"},
				{verify.KindAnchor, anchor.Stream, 0, "8 events were deleted"},
			}
		}},
		{"a stream rewritten and sealed again", func(w *world, anchors []anchor.Anchor) []want {
			s := w.stream(lifeNew)
			w.resealFrom(s, 1, func(data string) string {
				return `{"message_id":"` + uuid.NewString() + `","from":"customer","body":"All fine."}`
			})
			return []want{{verify.KindAnchor, s, 3, "version 3 is not the event anchor #0 signed (its hash differs): the stream was rewritten after the anchor"}}
		}},
		{"an event put into the log before an anchor", func(w *world, anchors []anchor.Anchor) []want {
			s := w.stream(lifeNew)
			w.tamper(`INSERT INTO events (transaction_id, stream_id, stream_version, event_id, event_type, data, metadata)
				SELECT transaction_id, stream_id || '-copy', stream_version, gen_random_uuid(), event_type, data, metadata
				FROM events WHERE stream_id = $1 AND stream_version = 0`, s)
			return []want{
				{verify.KindAnchor, anchor.Stream, 0, "1 events were put into the log before it after it was signed"},
				{verify.KindChain, s + "-copy", 0, "was changed"},
			}
		}},
		{"an anchor forged with another key", func(w *world, anchors []anchor.Anchor) []want {
			_, otherKey := newKey(t)
			w.request(lifeNew)
			w.waitReadable()
			w.anchor(w.anchorer(otherKey))
			return []want{{verify.KindAnchor, anchor.Stream, 1, "anchor #1 was signed by another key"}}
		}},
		{"an anchor changed", func(w *world, anchors []anchor.Anchor) []want {
			w.tamper(`UPDATE events SET data = replace(data::text, '"events":`+itoa(anchors[0].Events)+`', '"events":1')::json WHERE stream_id = $1 AND stream_version = 0`, anchor.Stream)
			return []want{
				{verify.KindAnchor, anchor.Stream, 0, "the signature does not verify with the key given: it was forged or changed"},
				{verify.KindChain, anchor.Stream, 0, "was changed after it was written"},
				{verify.KindAnchor, anchor.Stream, -1, "no anchor in the log verifies"},
			}
		}},
		{"anchoring stopped", func(w *world, anchors []anchor.Anchor) []want {
			w.tamper(`UPDATE events SET recorded_at = recorded_at + interval '1 hour' WHERE stream_id = $1`, w.stream(lifeNew))
			return []want{{verify.KindAnchor, anchor.Stream, 0, "more than twice the anchors' interval (1m0s) after the last anchor #0"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newPostgresWorld(t, 6)
			anchors := []anchor.Anchor{w.anchor(w.anchorer(priv))}
			if rep := w.verifyLog(verify.Config{Anchors: pub}); !rep.OK() || rep.Anchors != 1 {
				t.Fatalf("before tampering: %d anchors, findings %+v", rep.Anchors, rep.Findings)
			}
			wants := tt.tamper(w, anchors)
			rep := w.verifyLog(verify.Config{Anchors: pub})
			allowed := []string{anchor.Stream}
			for _, x := range wants {
				allowed = append(allowed, x.stream)
			}
			expectFindings(t, rep, wants, allowed...)
		})
	}
}

// The anchors' own tail deleted: the log goes on long after the last anchor left.
func TestAnchorsTailDeleted(t *testing.T) {
	pub, priv := newKey(t)
	w := newPostgresWorld(t, 3)
	clock := &anchorClock{}
	a := w.anchorer(priv, func(c *anchor.Config) { c.Clock = clock.now })
	clock.ago = 3 * 60 // the first anchor was signed three minutes ago
	w.anchor(a)
	w.request(lifeClosed)
	w.waitReadable()
	clock.ago = 0
	w.anchor(a)
	if rep := w.verifyLog(verify.Config{Anchors: pub}); !rep.OK() || rep.Anchors != 2 {
		t.Fatalf("before tampering: %+v", rep)
	}
	w.tamper(`DELETE FROM events WHERE stream_id = $1 AND stream_version = 1`, anchor.Stream)
	rep := w.verifyLog(verify.Config{Anchors: pub})
	expectFindings(t, rep, []want{{verify.KindAnchor, anchor.Stream, 0, "anchoring stopped, or the anchors after #0 were deleted"}}, anchor.Stream)
}

// A key given and no anchor at all: the anchors never ran, or were all deleted.
func TestNoAnchors(t *testing.T) {
	pub, _ := newKey(t)
	w := newPostgresWorld(t, 2)
	rep := w.verifyLog(verify.Config{Anchors: pub})
	expectFindings(t, rep, []want{{verify.KindAnchor, anchor.Stream, -1, "no anchor in the log verifies with the key given"}}, anchor.Stream)
}

// One stream alone: its own findings, none about the others; the anchors that signed it hold it
// to its tail.
func TestVerifyOneStream(t *testing.T) {
	pub, priv := newKey(t)
	w := newPostgresWorld(t, 6)
	w.anchor(w.anchorer(priv))
	changed, cut, clean := w.stream(lifeActive), w.stream(lifeClosed), w.stream(lifeNew)
	w.tamper(`UPDATE events SET data = replace(data::text, 'help', 'hurt')::json WHERE stream_id = $1 AND stream_version = 3`, changed)
	w.tamper(`DELETE FROM events WHERE stream_id = $1 AND stream_version = 7`, cut)

	rep := w.verifyLog(verify.Config{Stream: changed})
	expectFindings(t, rep, []want{{verify.KindChain, changed, 3, "version 3 was changed"}}, changed)
	if rep.Streams != 1 || rep.Events != 8 {
		t.Fatalf("one stream: %+v", rep)
	}
	rep = w.verifyLog(verify.Config{Stream: cut, Anchors: pub})
	expectFindings(t, rep, []want{{verify.KindAnchor, cut, 6, "ends at version 6 but anchor #0 signed version 7"}}, cut)
	if rep := w.verifyLog(verify.Config{Stream: clean, Anchors: pub}); !rep.OK() || rep.Anchors != 1 {
		t.Fatalf("an untouched stream: %+v", rep)
	}

	// A stream the log does not hold is an error, unless an anchor signed it: then it was
	// deleted.
	if _, err := verify.Log(context.Background(), verify.Config{Store: w.store, Stream: request.Stream(uuid.New())}); !errors.Is(err, verify.ErrNoSuchStream) {
		t.Fatalf("an unknown stream: %v", err)
	}
	w.tamper(`DELETE FROM events WHERE stream_id = $1`, clean)
	rep = w.verifyLog(verify.Config{Stream: clean, Anchors: pub})
	expectFindings(t, rep, []want{{verify.KindAnchor, clean, -1, "the stream is missing: anchor #0 signed it at version 3"}}, clean)
}

// However many workers share the streams, the report is the same.
func TestWorkersAgree(t *testing.T) {
	pub, priv := newKey(t)
	w := newPostgresWorld(t, 30)
	w.anchor(w.anchorer(priv))
	for i, s := range []string{w.stream(lifeNew), w.stream(lifeActive), request.Stream(w.requests[10]), request.Stream(w.requests[20])} {
		w.tamper(`DELETE FROM events WHERE stream_id = $1 AND stream_version = $2`, s, 1+i)
	}
	var reports []verify.Report
	for _, n := range []int{1, 2, 3, 8} {
		rep := w.verifyLog(verify.Config{Workers: n, PageSize: 13, Anchors: pub})
		rep.Duration = 0
		reports = append(reports, rep)
	}
	if len(reports[0].Findings) < 4 {
		t.Fatalf("findings: %+v", reports[0].Findings)
	}
	for _, r := range reports[1:] {
		if !reflect.DeepEqual(r, reports[0]) {
			t.Fatalf("reports differ:\n%+v\n%+v", reports[0], r)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	pub, _ := newKey(t)
	for _, cfg := range []verify.Config{{}, {Store: nopStore{}, Anchors: pub[:5]}, {Store: nopStore{}, Workers: -1}} {
		if _, err := verify.Log(context.Background(), cfg); err == nil {
			t.Errorf("verify.Log(%+v) = nil error", cfg)
		}
	}
}
