package timeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/memstore"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/timeline"
)

var (
	companyID = uuid.MustParse("00000000-0000-4000-8000-00000000c001")
	portalID  = uuid.MustParse("00000000-0000-4000-8000-00000000b001")
	ada       = uuid.MustParse("00000000-0000-4000-8000-00000000a001")
	grace     = uuid.MustParse("00000000-0000-4000-8000-00000000a002")
)

func techActor(id uuid.UUID) string { return "technician:" + id.String() }

// world is a store holding a company, two technicians and one request's whole life.
type world struct {
	store     *memstore.Store
	requestID uuid.UUID
	request   *stream
	// results are where each of the request's events landed, by version.
	results []eventlog.AppendResult
}

func newWorld(t *testing.T) *world {
	w := &world{store: &memstore.Store{}, requestID: uuid.New()}
	company := newStream(t, w.store, directory.CompanyStream(companyID), directory.Codec())
	company.add("admin", &directory.CompanyCreated{CompanyID: companyID, Name: "Initech"})
	company.add("admin", &directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: "Help"})
	for id, name := range map[uuid.UUID]string{ada: "Ada Lovelace", grace: "Grace Hopper"} {
		tech := newStream(t, w.store, directory.TechnicianStream(id), directory.Codec())
		tech.add("admin", &directory.TechnicianRegistered{TechnicianID: id, Name: name, Email: strings.ToLower(name[:3]) + "@example.com"})
	}
	w.request = newStream(t, w.store, request.Stream(w.requestID), request.Codec())
	return w
}

func (w *world) add(actor string, e eventlog.Event) {
	w.results = append(w.results, w.request.add(actor, e))
}

func (w *world) customer() string { return "customer:" + w.requestID.String() }

func (w *world) submit() {
	w.add(w.customer(), &request.Submitted{RequestID: w.requestID, CompanyID: companyID, PortalID: portalID,
		Customer: request.Customer{Name: "Ann Smith", Email: "ann@example.com"}, Description: "printer on fire",
		Source: request.Source{IP: "192.0.2.1", Platform: request.Windows}})
}

// life is a request from submission to close: chat, note, file, screen sharing, a transfer.
func life(t *testing.T) *world {
	w := newWorld(t)
	w.submit()
	w.add(techActor(ada), &request.Assigned{TechnicianID: ada})
	w.add(techActor(ada), &request.ChatJoined{TechnicianID: ada})
	w.add(w.customer(), &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: strings.Repeat("é", 42)})
	w.add(techActor(ada), &request.MessageSent{MessageID: uuid.New(), From: request.TechnicianSide, TechnicianID: ada, Body: "On my way"})
	w.add(techActor(ada), &request.NoteAdded{NoteID: uuid.New(), TechnicianID: ada, Body: "Sounds upset."})
	w.add(w.customer(), &request.FileShared{FileID: uuid.New(), From: request.CustomerSide, Name: "shot.png", Size: 2048,
		ContentType: "image/png", SHA256: strings.Repeat("ab", 32)})
	w.add(techActor(ada), &request.ScreenSharingRequested{TechnicianID: ada})
	w.add(w.customer(), &request.ScreenSharingAccepted{})
	w.add(techActor(ada), &request.Transferred{From: ada, To: grace})
	w.add(techActor(grace), &request.ChatJoined{TechnicianID: grace})
	w.add(techActor(grace), &request.ChatEnded{TechnicianID: grace})
	w.add(techActor(grace), &request.Closed{TechnicianID: grace})
	return w
}

func build(t *testing.T, w *world, stop timeline.Stop) timeline.Timeline {
	t.Helper()
	tl, err := timeline.Build(context.Background(), w.store, w.requestID, stop)
	if err != nil {
		t.Fatalf("Build(%s): %v", stop, err)
	}
	return tl
}

// Every event of a request's life is a step, in order, with its actor named, a summary and the
// state after it; the verdict is clean.
func TestTimelineOfALife(t *testing.T) {
	w := life(t)
	tl := build(t, w, timeline.End())
	if !tl.Verdict.OK || tl.Verdict.Chain != nil || tl.Verdict.Fold != nil {
		t.Fatalf("verdict %+v", tl.Verdict)
	}
	if tl.Events != 13 || len(tl.Steps) != 13 {
		t.Fatalf("%d events, %d steps", tl.Events, len(tl.Steps))
	}
	adaP, graceP := &app.Person{ID: ada, Name: "Ada Lovelace"}, &app.Person{ID: grace, Name: "Grace Hopper"}
	steps := []struct {
		actorName, summary string
		status             request.Status
		assignee           *app.Person
		chat               request.ChatState
		screen             request.ScreenSharing
		messages, notes    int
		files              int
	}{
		{"Ann Smith", `customer "Ann Smith" <ann@example.com> submitted the request from windows (a description of 15 characters)`, request.StatusNew, nil, request.ChatNotJoined, request.ScreenSharingNone, 0, 0, 0},
		{"Ada Lovelace", "Ada Lovelace took the request", request.StatusActive, adaP, request.ChatNotJoined, request.ScreenSharingNone, 0, 0, 0},
		{"Ada Lovelace", "Ada Lovelace joined the chat", request.StatusActive, adaP, request.ChatJoinedIn, request.ScreenSharingNone, 0, 0, 0},
		{"Ann Smith", "customer sent a message (42 characters)", request.StatusActive, adaP, request.ChatJoinedIn, request.ScreenSharingNone, 1, 0, 0},
		{"Ada Lovelace", "Ada Lovelace sent a message (9 characters)", request.StatusActive, adaP, request.ChatJoinedIn, request.ScreenSharingNone, 2, 0, 0},
		{"Ada Lovelace", "Ada Lovelace added a private note (13 characters)", request.StatusActive, adaP, request.ChatJoinedIn, request.ScreenSharingNone, 2, 1, 0},
		{"Ann Smith", `customer shared the file "shot.png" (2048 bytes, image/png)`, request.StatusActive, adaP, request.ChatJoinedIn, request.ScreenSharingNone, 2, 1, 1},
		{"Ada Lovelace", "Ada Lovelace asked to see the customer's screen", request.StatusActive, adaP, request.ChatJoinedIn, request.ScreenSharingPending, 2, 1, 1},
		{"Ann Smith", "customer accepted screen sharing", request.StatusActive, adaP, request.ChatJoinedIn, request.ScreenSharingOn, 2, 1, 1},
		{"Ada Lovelace", "Ada Lovelace transferred the request to Grace Hopper", request.StatusActive, graceP, request.ChatNotJoined, request.ScreenSharingNone, 2, 1, 1},
		{"Grace Hopper", "Grace Hopper joined the chat", request.StatusActive, graceP, request.ChatJoinedIn, request.ScreenSharingNone, 2, 1, 1},
		{"Grace Hopper", "Grace Hopper ended the chat", request.StatusActive, graceP, request.ChatEndedOut, request.ScreenSharingNone, 2, 1, 1},
		{"Grace Hopper", "Grace Hopper closed the request", request.StatusCompleted, graceP, request.ChatEndedOut, request.ScreenSharingNone, 2, 1, 1},
	}
	recorded, _ := w.store.ReadStream(context.Background(), request.Stream(w.requestID), 0, eventlog.ReadOptions{})
	for i, want := range steps {
		got := tl.Steps[i]
		rec := recorded[i]
		if got.Version != int64(i) || got.EventID != rec.ID || got.Type != rec.Type || got.Position != rec.Position ||
			!got.OccurredAt.Equal(rec.Metadata.OccurredAt) || !got.RecordedAt.Equal(rec.RecordedAt) || got.Actor != rec.Metadata.Actor {
			t.Errorf("step %d: %+v does not describe the event %+v", i, got, rec)
		}
		if got.ActorName != want.actorName || got.Summary != want.summary {
			t.Errorf("step %d: actor %q, summary %q; want %q, %q", i, got.ActorName, got.Summary, want.actorName, want.summary)
		}
		s := got.State
		if s.Status != want.status || !samePerson(s.Assignee, want.assignee) || s.Chat != want.chat || s.ScreenSharing != want.screen ||
			s.Messages != want.messages || s.Notes != want.notes || s.Files != want.files || s.Version != int64(i) ||
			!s.LastActivity.Equal(rec.Metadata.OccurredAt) || s.Closed != (want.status == request.StatusCompleted) {
			t.Errorf("step %d: state %+v", i, s)
		}
		if s.CompanyID != companyID || s.CompanyName != "Initech" || s.CustomerName != "Ann Smith" || s.CustomerEmail != "ann@example.com" || s.Platform != request.Windows {
			t.Errorf("step %d: request fields %+v", i, s)
		}
	}
	if tl.State == nil || *tl.State != tl.Steps[12].State {
		t.Errorf("state at the stop %+v, want the last step's", tl.State)
	}
	b, err := json.Marshal(tl)
	if err != nil || !strings.Contains(string(b), `"stop":{"kind":"end"}`) || !strings.Contains(string(b), `"assignee":{"id":"`+grace.String()+`","name":"Grace Hopper"}`) {
		t.Errorf("JSON %s (%v)", b, err)
	}
}

func samePerson(a, b *app.Person) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// A timeline stops at a moment, a version or a position, and says the state there; the
// verdict and the count still cover the whole stream.
func TestTimelineStops(t *testing.T) {
	w := life(t)
	recorded, _ := w.store.ReadStream(context.Background(), request.Stream(w.requestID), 0, eventlog.ReadOptions{})
	cases := []struct {
		name  string
		stop  timeline.Stop
		steps int
		json  string
	}{
		{"at the end", timeline.End(), 13, `{"kind":"end"}`},
		{"as of the fifth event's recording", timeline.AsOf(recorded[4].RecordedAt), 5, `{"kind":"as_of","as_of":"2026-03-01T09:05:00Z"}`},
		{"as of a second later", timeline.AsOf(recorded[4].RecordedAt.Add(time.Second)), 5, ""},
		{"as of a second earlier", timeline.AsOf(recorded[4].RecordedAt.Add(-time.Second)), 4, ""},
		{"as of before the submission", timeline.AsOf(recorded[0].RecordedAt.Add(-time.Hour)), 0, ""},
		{"as of long after", timeline.AsOf(recorded[12].RecordedAt.Add(time.Hour)), 13, ""},
		{"at version 0", timeline.AtVersion(0), 1, `{"kind":"version","version":0}`},
		{"at version 9", timeline.AtVersion(9), 10, ""},
		{"at the last version", timeline.AtVersion(12), 13, ""},
		{"through a position", timeline.Through(w.results[2].Position), 3, `{"kind":"position","position":"` + w.results[2].Position.String() + `"}`},
		{"through the start", timeline.Through(eventlog.Start()), 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tl := build(t, w, c.stop)
			if len(tl.Steps) != c.steps || tl.Events != 13 || !tl.Verdict.OK {
				t.Fatalf("%d steps of %d events, verdict %+v; want %d steps", len(tl.Steps), tl.Events, tl.Verdict, c.steps)
			}
			if c.steps == 0 {
				if tl.State != nil {
					t.Fatalf("state %+v before the first event", tl.State)
				}
				return
			}
			if tl.State == nil || tl.State.Version != int64(c.steps-1) || *tl.State != tl.Steps[c.steps-1].State {
				t.Fatalf("state at the stop %+v", tl.State)
			}
			if c.json != "" {
				b, _ := json.Marshal(tl.Stop)
				if string(b) != c.json {
					t.Fatalf("stop %s, want %s", b, c.json)
				}
			}
		})
	}
	for _, v := range []int64{-1, 13, 1000} {
		if _, err := timeline.Build(context.Background(), w.store, w.requestID, timeline.AtVersion(v)); !errors.Is(err, timeline.ErrNoSuchVersion) {
			t.Errorf("version %d: %v, want ErrNoSuchVersion", v, err)
		}
	}
}

// A request the store holds no event of is not found, as the application says it.
func TestTimelineOfAnUnknownRequest(t *testing.T) {
	w := life(t)
	_, err := timeline.Build(context.Background(), w.store, uuid.New(), timeline.End())
	if !errors.Is(err, timeline.ErrNotFound) || !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("%v, want ErrNotFound", err)
	}
}

// The verdict names the first event whose chain breaks or that the domain does not admit; the
// timeline still shows every step that folds, up to that event.
func TestTimelineVerdicts(t *testing.T) {
	cases := []struct {
		name       string
		make       func(t *testing.T) *world
		chainAt    int64 // -1: the chain holds
		foldAt     int64 // -1: every event folds
		foldErr    error
		steps      int
		summary    string // of the last step
		actorNamed string // of the last step
	}{
		{"a payload changed after it was written", func(t *testing.T) *world {
			w := life(t)
			w.store.Tamper(request.Stream(w.requestID), 3, func(e *eventlog.RecordedEvent) {
				e.Data = json.RawMessage(`{"message_id":"` + uuid.NewString() + `","from":"customer","body":"I take it back"}`)
			})
			return w
		}, 3, -1, nil, 13, "Grace Hopper closed the request", "Grace Hopper"},
		{"an actor changed after it was written", func(t *testing.T) *world {
			w := life(t)
			w.store.Tamper(request.Stream(w.requestID), 7, func(e *eventlog.RecordedEvent) { e.Metadata.Actor = "admin" })
			return w
		}, 7, -1, nil, 13, "Grace Hopper closed the request", "Grace Hopper"},
		{"a second assignment", func(t *testing.T) *world {
			w := newWorld(t)
			w.submit()
			w.add(techActor(ada), &request.Assigned{TechnicianID: ada})
			w.add(techActor(grace), &request.Assigned{TechnicianID: grace})
			w.add(techActor(ada), &request.ChatJoined{TechnicianID: ada})
			return w
		}, -1, 2, request.ErrImpossibleEvent, 2, "Ada Lovelace took the request", "Ada Lovelace"},
		{"a payload that does not decode", func(t *testing.T) *world {
			w := newWorld(t)
			w.submit()
			w.request.addRaw(techActor(ada), "request.assigned.v1", json.RawMessage(`{"technician_id":5}`))
			return w
		}, -1, 1, nil, 1, `customer "Ann Smith" <ann@example.com> submitted the request from windows (a description of 15 characters)`, "Ann Smith"},
		{"a type nobody knows", func(t *testing.T) *world {
			w := newWorld(t)
			w.submit()
			w.add("admin", &request.Assigned{TechnicianID: ada})
			w.request.addRaw("system", "request.teleported.v1", json.RawMessage(`{}`))
			return w
		}, -1, 2, eventlog.ErrUnknownEventType, 2, "admin assigned the request to Ada Lovelace", "admin"},
		{"a stream that does not start with a submission", func(t *testing.T) *world {
			w := newWorld(t)
			w.add(techActor(ada), &request.Assigned{TechnicianID: ada})
			return w
		}, -1, 0, request.ErrImpossibleEvent, 0, "", ""},
		{"a technician with no stream", func(t *testing.T) *world {
			w := newWorld(t)
			w.submit()
			stranger := uuid.MustParse("00000000-0000-4000-8000-0000000000ff")
			w.add(techActor(stranger), &request.Assigned{TechnicianID: stranger})
			return w
		}, -1, -1, nil, 2, "technician 00000000-0000-4000-8000-0000000000ff took the request", "technician:00000000-0000-4000-8000-0000000000ff"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := c.make(t)
			tl := build(t, w, timeline.End())
			if got := finding(tl.Verdict.Chain); got != c.chainAt {
				t.Errorf("chain breaks at %d (%+v), want %d", got, tl.Verdict.Chain, c.chainAt)
			}
			if got := finding(tl.Verdict.Fold); got != c.foldAt {
				t.Errorf("fold fails at %d (%+v), want %d", got, tl.Verdict.Fold, c.foldAt)
			}
			if c.foldErr != nil && !errors.Is(tl.Verdict.Fold.Err(), c.foldErr) {
				t.Errorf("fold finding %v, want %v", tl.Verdict.Fold.Err(), c.foldErr)
			}
			if tl.Verdict.Chain != nil && !errors.Is(tl.Verdict.Chain.Err(), eventlog.ErrChainBroken) {
				t.Errorf("chain finding %v", tl.Verdict.Chain.Err())
			}
			if tl.Verdict.OK != (c.chainAt < 0 && c.foldAt < 0) {
				t.Errorf("verdict OK = %v", tl.Verdict.OK)
			}
			for _, f := range []*timeline.Finding{tl.Verdict.Chain, tl.Verdict.Fold} {
				if f != nil && !strings.Contains(f.Problem, "version "+itoa(f.Version)) {
					t.Errorf("the problem %q does not name version %d", f.Problem, f.Version)
				}
			}
			if len(tl.Steps) != c.steps {
				t.Fatalf("%d steps, want %d", len(tl.Steps), c.steps)
			}
			if c.steps == 0 {
				if tl.State != nil {
					t.Fatalf("state %+v without a step", tl.State)
				}
				return
			}
			last := tl.Steps[len(tl.Steps)-1]
			if last.Summary != c.summary || last.ActorName != c.actorNamed {
				t.Errorf("last step %q by %q, want %q by %q", last.Summary, last.ActorName, c.summary, c.actorNamed)
			}
		})
	}
}

func finding(f *timeline.Finding) int64 {
	if f == nil {
		return -1
	}
	return f.Version
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }
