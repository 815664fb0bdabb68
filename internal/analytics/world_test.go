package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/analytics"
)

// logged is one event of a generated log, in log order.
type logged struct {
	id       uuid.UUID
	stream   string
	version  int64
	occurred time.Time
	event    eventlog.Event
}

// world writes valid histories through the domain: every event is one a command recorded.
type world struct {
	rng      *rand.Rand
	clock    time.Time
	log      []logged
	versions map[string]int64
	techs    []*directory.Technician
	company  uuid.UUID
	zone     string
}

// newWorld starts a log with a company (in zone, when not empty) and technicians with access
// to it, all Available. The clock starts at start.
func newWorld(seed uint64, start time.Time, technicians int, zone string) *world {
	w := &world{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), clock: start, versions: map[string]int64{}, company: uuid.New(), zone: zone}
	c, err := directory.CreateCompany(w.company, fmt.Sprintf("Company %d", seed))
	must(err)
	if zone != "" {
		must(c.SetTimeZone(zone))
	}
	w.record(directory.CompanyStream(w.company), c.Changes())
	for i := range technicians {
		t, err := directory.RegisterTechnician(uuid.New(), fmt.Sprintf("Tech %c", 'A'+i), fmt.Sprintf("tech%d-%d@example.com", i, seed))
		must(err)
		must(t.GrantAccess(w.company))
		must(t.SetAvailability(directory.Available))
		w.record(directory.TechnicianStream(t.ID()), t.Changes())
		w.techs = append(w.techs, t)
	}
	return w
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// record appends events of a stream to the log, each at the current clock.
func (w *world) record(stream string, events []eventlog.Event) {
	for _, e := range events {
		w.log = append(w.log, logged{id: uuid.New(), stream: stream, version: w.versions[stream], occurred: w.clock, event: e})
		w.versions[stream]++
	}
}

// tick moves the clock on by up to max, sometimes not at all (two events at the same time).
func (w *world) tick(max time.Duration) {
	if w.rng.IntN(8) == 0 {
		return
	}
	w.clock = w.clock.Add(time.Duration(w.rng.Int64N(int64(max))).Truncate(time.Microsecond))
}

// submit starts a request.
func (w *world) submit() *request.Request {
	r, err := request.Submit(request.Submission{RequestID: uuid.New(), CompanyID: w.company, PortalID: uuid.New(),
		Customer: request.Customer{Name: "Customer", Email: "customer@example.com"}, Description: "help",
		Source: request.Source{Platform: request.Platform("windows")}})
	must(err)
	w.flush(r)
	return r
}

// flush records what the request decided since the last flush.
func (w *world) flush(r *request.Request) {
	stream := request.Stream(r.ID())
	changes := r.Changes()
	w.record(stream, changes[w.versions[stream]:])
}

// randomActions walks a request through n random commands a technician or the customer could
// give; refused commands record nothing, as in the product.
func (w *world) randomActions(r *request.Request, n int) {
	for range n {
		w.tick(3 * time.Hour)
		w.act(r, w.rng.IntN(12))
	}
}

func (w *world) act(r *request.Request, action int) {
	t := w.techs[w.rng.IntN(len(w.techs))]
	if a := r.Assignee(); a != uuid.Nil && w.rng.IntN(4) != 0 {
		for _, tt := range w.techs {
			if tt.ID() == a {
				t = tt
			}
		}
	}
	other := w.techs[w.rng.IntN(len(w.techs))]
	switch action {
	case 0:
		_ = r.Assign(t)
	case 1:
		_ = r.Unassign(t)
	case 2:
		_ = r.Transfer(t, other)
	case 3:
		_ = r.JoinChat(t)
	case 4, 5:
		_ = r.SendTechnicianMessage(t, uuid.New(), "hello")
	case 6, 7:
		_ = r.SendCustomerMessage(uuid.New(), "hi")
	case 8:
		_ = r.AddNote(t, uuid.New(), "note")
	case 9:
		_ = r.ShareTechnicianFile(t, request.File{ID: uuid.New(), Name: "log.txt", Size: 10, ContentType: "text/plain", SHA256: strings.Repeat("a", 64)})
	case 10:
		_ = r.RequestScreenSharing(t)
	case 11:
		if w.rng.IntN(3) == 0 {
			_ = r.Close(t)
		} else {
			_ = r.EndChat(t)
		}
	}
	w.flush(r)
}

// events turns the log into the job's events, with positions in log order.
func (w *world) events() []analytics.Event {
	out := make([]analytics.Event, len(w.log))
	for i, l := range w.log {
		out[i] = analytics.Event{ID: l.id, StreamID: l.stream, Version: l.version, Position: eventlog.NewPosition(1, uint64(i+1)).String(),
			OccurredAt: l.occurred, Type: l.event.EventType(), Data: l.event}
	}
	return out
}

// append writes the log's events [from, to) into an event store, in order.
func (w *world) append(t testing.TB, ctx context.Context, store eventlog.Store, from, to int) {
	t.Helper()
	codec := append([]*eventlog.Codec{}, request.Codec(), directory.Codec())
	for _, l := range w.log[from:to] {
		var typ string
		var data json.RawMessage
		var err error
		for _, c := range codec {
			if c.Knows(l.event.EventType()) {
				typ, data, err = c.Encode(l.event)
			}
		}
		if err != nil || typ == "" {
			t.Errorf("encode %s: %v", l.event.EventType(), err)
			return
		}
		expected := eventlog.Exactly(l.version - 1)
		if l.version == 0 {
			expected = eventlog.NoStream()
		}
		if _, err := store.Append(ctx, l.stream, expected, eventlog.EventData{ID: l.id, Type: typ, Data: data,
			Metadata: eventlog.Metadata{Actor: "test", OccurredAt: l.occurred}}); err != nil {
			t.Errorf("append %s v%d: %v", l.stream, l.version, err)
			return
		}
	}
}

// row is a row of analytics_requests, as the oracle computes it and the tables hold it.
type row struct {
	Request, Company                                   uuid.UUID
	Submitted, Assigned, Replied, Ended, Closed, Last  *time.Time
	Assignee, LastTechnician                           *uuid.UUID
	Customer, Technician, Files, Transfers, Escalation int
	Notes, Events                                      int
}

// oracle computes the rows from the log read in order, one request at a time: the plain
// meaning of each column, written without the job's commutative facts.
func oracle(log []logged) map[uuid.UUID]row {
	rows := map[uuid.UUID]row{}
	for _, l := range log {
		id, ok := strings.CutPrefix(l.stream, request.StreamPrefix)
		if !ok {
			continue
		}
		rid := uuid.MustParse(id)
		r := rows[rid]
		r.Request = rid
		at := l.occurred
		first := func(p **time.Time) {
			if *p == nil {
				*p = &at
			}
		}
		setAssignee := func(t uuid.UUID) {
			if t == uuid.Nil {
				r.Assignee = nil
				return
			}
			r.Assignee, r.LastTechnician = &t, &t
		}
		switch e := l.event.(type) {
		case *request.Submitted:
			r.Company, r.Submitted = e.CompanyID, &at
		case *request.Assigned:
			first(&r.Assigned)
			setAssignee(e.TechnicianID)
		case *request.Unassigned:
			setAssignee(uuid.Nil)
		case *request.Transferred:
			r.Transfers++
			setAssignee(e.To)
		case *request.MessageSent:
			if e.From == request.TechnicianSide {
				r.Technician++
				first(&r.Replied)
			} else {
				r.Customer++
			}
		case *request.FileShared:
			r.Files++
		case *request.NoteAdded:
			r.Notes++
		case *request.ScreenSharingRequested:
			r.Escalation++
		case *request.ChatEnded:
			r.Ended = &at // the last end: the chat may be joined again
		case *request.Closed:
			first(&r.Closed)
			setAssignee(e.TechnicianID)
		}
		r.Events++
		r.Last = &at
		rows[rid] = r
	}
	return rows
}

// readRows reads analytics_requests.
func readRows(t testing.TB, ctx context.Context, db *pgxpool.Pool) map[uuid.UUID]row {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT request_id, coalesce(company_id, '00000000-0000-0000-0000-000000000000'), submitted_at, first_assigned_at,
		first_reply_at, chat_ended_at, closed_at, last_event_at, assignee_id, last_technician_id,
		customer_messages, technician_messages, files, transfers, escalations, notes, events FROM analytics_requests`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uuid.UUID]row{}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.Request, &r.Company, &r.Submitted, &r.Assigned, &r.Replied, &r.Ended, &r.Closed, &r.Last,
			&r.Assignee, &r.LastTechnician, &r.Customer, &r.Technician, &r.Files, &r.Transfers, &r.Escalation, &r.Notes, &r.Events); err != nil {
			t.Fatal(err)
		}
		out[r.Request] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// diffRows says how got differs from want; "" when equal.
func diffRows(got, want map[uuid.UUID]row) string {
	var b strings.Builder
	keys := make([]uuid.UUID, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	for _, k := range keys {
		g, ok := got[k]
		if !ok {
			fmt.Fprintf(&b, "request %s missing\n", k)
			continue
		}
		if gs, ws := g.String(), want[k].String(); gs != ws {
			fmt.Fprintf(&b, "request %s:\n got  %s\n want %s\n", k, gs, ws)
		}
	}
	if len(got) != len(want) {
		fmt.Fprintf(&b, "%d rows, want %d\n", len(got), len(want))
	}
	return b.String()
}

func (r row) String() string {
	ts := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	id := func(u *uuid.UUID) string {
		if u == nil {
			return "-"
		}
		return u.String()[:8]
	}
	return fmt.Sprintf("company=%s sub=%s asg=%s rep=%s end=%s clo=%s last=%s assignee=%s lasttech=%s msgs=%d/%d files=%d tr=%d esc=%d notes=%d events=%d",
		r.Company.String()[:8], ts(r.Submitted), ts(r.Assigned), ts(r.Replied), ts(r.Ended), ts(r.Closed), ts(r.Last), id(r.Assignee), id(r.LastTechnician),
		r.Customer, r.Technician, r.Files, r.Transfers, r.Escalation, r.Notes, r.Events)
}

// fold applies events to the live tables in one transaction.
func fold(t testing.TB, ctx context.Context, db *pgxpool.Pool, events []analytics.Event) int {
	t.Helper()
	var n int
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		n, err = analytics.Fold(ctx, tx, analytics.Live(), events)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func truncate(t testing.TB, ctx context.Context, db *pgxpool.Pool) {
	t.Helper()
	if _, err := db.Exec(ctx, `TRUNCATE analytics_requests, analytics_companies, analytics_technicians, analytics_applied;
		UPDATE analytics_state SET applied = 0, last_position = '', last_occurred_at = NULL, max_occurred_at = NULL`); err != nil {
		t.Fatal(err)
	}
}

// readBack reads the whole log once all n events are readable: the store delivers only below
// the oldest transaction open on the server, which may be another test's for a while.
func readBack(t testing.TB, ctx context.Context, store eventlog.Store, n int) []eventlog.RecordedEvent {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		recorded, err := store.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{Limit: n + 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(recorded) >= n || time.Now().After(deadline) {
			if len(recorded) != n {
				t.Fatalf("the log reads back %d events, %d were appended", len(recorded), n)
			}
			return recorded
		}
		time.Sleep(5 * time.Millisecond)
	}
}
