package asof_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/collation"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/asof"
)

func at(t *testing.T, store eventlog.Store, when time.Time) *asof.Snapshot {
	t.Helper()
	s, err := asof.At(context.Background(), store, when)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The log at T is a prefix: it ends before the first event recorded after T, even when an
// event recorded earlier follows that one (two commits that overlapped).
func TestPositionRule(t *testing.T) {
	w := newWriter(t)
	base := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	names := []string{"first", "third", "second", "fourth"}
	recorded := []time.Time{base, base.Add(3 * time.Second), base.Add(2 * time.Second), base.Add(4 * time.Second)}
	var positions []eventlog.Position
	for i, name := range names {
		id := uuid.New()
		res := w.addAt(recorded[i], directory.CompanyStream(id), "admin", &directory.CompanyCreated{CompanyID: id, Name: name})
		positions = append(positions, res.Position)
	}
	cases := []struct {
		name  string
		at    time.Time
		names []string
	}{
		{"before the first event", base.Add(-time.Nanosecond), nil},
		{"at the first event's time", base, []string{"first"}},
		{"after the second event in time, before the third", base.Add(2 * time.Second), []string{"first"}},
		{"a nanosecond before the third", base.Add(3*time.Second - time.Nanosecond), []string{"first"}},
		{"at the third", base.Add(3 * time.Second), []string{"first", "second", "third"}},
		{"long after", base.Add(time.Hour), []string{"first", "fourth", "second", "third"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := at(t, w.store, c.at)
			companies, err := s.Companies(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(maps.Values(companies))
			if !slices.Equal(got, c.names) || s.Events() != len(c.names) || !s.Time().Equal(c.at) {
				t.Fatalf("%d events, companies %v; want %v", s.Events(), got, c.names)
			}
			want := eventlog.Start()
			for i, p := range positions {
				if i < len(c.names) {
					want = p
				}
			}
			if s.Position() != want || s.Store().Position() != want {
				t.Fatalf("position %s, want %s", s.Position(), want)
			}
		})
	}
}

// The snapshot's Store reads the log up to the snapshot's position and no further, and
// refuses to write.
func TestSnapshotStore(t *testing.T) {
	ctx := context.Background()
	w := newWriter(t)
	company := uuid.New()
	stream := directory.CompanyStream(company)
	w.add(stream, "admin", &directory.CompanyCreated{CompanyID: company, Name: "Acme"})
	portal := uuid.New()
	w.add(stream, "admin", &directory.PortalCreated{CompanyID: company, PortalID: portal, Name: "Help"})
	tech := uuid.New()
	_, then := w.add(directory.TechnicianStream(tech), "admin", &directory.TechnicianRegistered{TechnicianID: tech, Name: "Al", Email: "al@example.com"})
	w.add(stream, "admin", &directory.PortalCreated{CompanyID: company, PortalID: uuid.New(), Name: "Later"})
	w.add(directory.TechnicianStream(tech), "admin", &directory.AvailabilityChanged{TechnicianID: tech, Availability: directory.Available})

	s := at(t, w.store, then)
	past := s.Store()
	if got, _ := past.ReadStream(ctx, stream, 0, eventlog.ReadOptions{}); len(got) != 2 {
		t.Errorf("the company's stream has %d events at T, want 2", len(got))
	}
	if got, _ := past.ReadStream(ctx, stream, 1, eventlog.ReadOptions{}); len(got) != 1 || got[0].Version != 1 {
		t.Errorf("from version 1: %+v", got)
	}
	all, _ := past.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{})
	if len(all) != 3 || all[2].Position != s.Position() {
		t.Errorf("the log at T has %d events", len(all))
	}
	if got, _ := past.ReadAll(ctx, s.Position(), eventlog.ReadOptions{}); len(got) != 0 {
		t.Errorf("%d events after the position", len(got))
	}
	if got, _ := past.ReadAll(ctx, all[0].Position, eventlog.ReadOptions{Limit: 1}); len(got) != 1 || got[0].Position != all[1].Position {
		t.Errorf("paging: %+v", got)
	}
	if _, err := past.Append(ctx, stream, eventlog.Any(), eventlog.EventData{ID: uuid.New(), Type: "x"}); !errors.Is(err, asof.ErrReadOnly) {
		t.Errorf("append: %v, want ErrReadOnly", err)
	}
	if all, _ := w.store.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{}); len(all) != 5 {
		t.Errorf("the store holds %d events after a refused append", len(all))
	}

	subCtx, cancel := context.WithCancel(ctx)
	var delivered []eventlog.RecordedEvent
	errs := make(chan error, 1)
	go func() {
		errs <- past.Subscribe(subCtx, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{"company-"}, MaxBatch: 1},
			func(_ context.Context, batch []eventlog.RecordedEvent) error {
				delivered = append(delivered, batch...)
				if len(delivered) == 2 {
					cancel() // caught up: nothing more will come
				}
				return nil
			})
	}()
	select {
	case err := <-errs:
		if !errors.Is(err, context.Canceled) || len(delivered) != 2 || delivered[1].Type != "company.portal_created.v1" {
			t.Errorf("subscription: %v, delivered %d", err, len(delivered))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription did not end with its context")
	}
	cancel()

	// The directory at T: the portal created later is unknown, the technician still offline.
	if _, _, err := s.PortalCompany(ctx, portal); err != nil {
		t.Errorf("portal at T: %v", err)
	}
	tt, err := s.Technician(ctx, tech)
	if err != nil || tt.Availability() != directory.Offline {
		t.Errorf("technician at T: %v %v", tt, err)
	}
}

// seedRequests writes n requests of one company, submitted a second apart, with names that
// tie in lower case, some assigned to one of two technicians, some closed.
func seedRequests(t *testing.T, w *writer, n int) (company, ada, bo uuid.UUID) {
	company, ada, bo = uuid.New(), uuid.New(), uuid.New()
	w.add(directory.CompanyStream(company), "admin", &directory.CompanyCreated{CompanyID: company, Name: "Acme"})
	for id, name := range map[uuid.UUID]string{ada: "Ada", bo: "bo"} {
		w.add(directory.TechnicianStream(id), "admin", &directory.TechnicianRegistered{TechnicianID: id, Name: name, Email: name + "@example.com"})
	}
	names := []string{"Ann", "ann", "Bob", "Émile", "zoë"}
	for i := range n {
		id := uuid.New()
		stream := request.Stream(id)
		customer := "customer:" + id.String()
		w.add(stream, customer, &request.Submitted{RequestID: id, CompanyID: company, PortalID: uuid.New(),
			Customer: request.Customer{Name: names[i%len(names)], Email: fmt.Sprintf("c%d@example.com", i%3)}, Description: fmt.Sprintf("printer %d", i),
			Source: request.Source{Platform: request.Platforms[i%4]}})
		if i%3 == 0 {
			continue
		}
		tech := ada
		if i%2 == 0 {
			tech = bo
		}
		w.add(stream, "technician:"+tech.String(), &request.Assigned{TechnicianID: tech})
		if i%5 == 0 {
			w.add(stream, "technician:"+tech.String(), &request.Closed{TechnicianID: tech})
		}
	}
	return company, ada, bo
}

// Paging by cursor gives, page after page, exactly the rows of one page holding them all, in
// every sort and direction, with the same total; the parameters the read model refuses are
// refused alike.
func TestListPages(t *testing.T) {
	ctx := context.Background()
	w := newWriter(t)
	company, ada, _ := seedRequests(t, w, 37)
	s := at(t, w.store, w.clock)
	for _, sort := range sorts {
		for _, desc := range []bool{false, true} {
			for _, q := range []app.RequestListQuery{
				{Companies: []uuid.UUID{company}, IncludeNew: true, View: app.ViewAll, Sort: sort, Descending: desc},
				{Companies: []uuid.UUID{company}, View: app.ViewActive, Sort: sort, Descending: desc},
				{Companies: []uuid.UUID{company}, Assignee: ada, View: app.ViewAll, Sort: sort, Descending: desc},
				{Companies: []uuid.UUID{company}, IncludeNew: true, Search: "ANN", View: app.ViewAll, Sort: sort, Descending: desc},
			} {
				q.Limit = 200
				whole, err := s.ListRequests(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if whole.Total != len(whole.Requests) || whole.Total == 0 || whole.NextCursor != "" {
					t.Fatalf("%+v: %d rows, total %d, cursor %q", q, len(whole.Requests), whole.Total, whole.NextCursor)
				}
				q.Limit = 4
				var paged []app.RequestSummary
				for {
					page, err := s.ListRequests(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if page.Total != whole.Total {
						t.Fatalf("%+v: total %d, then %d", q, whole.Total, page.Total)
					}
					paged = append(paged, page.Requests...)
					if page.NextCursor == "" {
						break
					}
					c, err := app.ParseListCursor(page.NextCursor)
					if err != nil {
						t.Fatal(err)
					}
					q.After = &c
				}
				if fmt.Sprint(ids(paged)) != fmt.Sprint(ids(whole.Requests)) {
					t.Fatalf("%+v: pages %v, one page %v", q, ids(paged), ids(whole.Requests))
				}
			}
		}
	}
	other := app.ListCursor{Sort: app.SortCustomer, ID: uuid.New()}
	for _, c := range []struct {
		q    app.RequestListQuery
		want error
	}{
		{app.RequestListQuery{Companies: []uuid.UUID{company}, IncludeNew: true, Sort: "price", Limit: 5}, app.ErrInvalidSort},
		{app.RequestListQuery{Companies: []uuid.UUID{company}, IncludeNew: true, Sort: app.SortID, Limit: 0}, app.ErrInvalidLimit},
		{app.RequestListQuery{Companies: []uuid.UUID{company}, IncludeNew: true, Sort: app.SortID, Limit: 201}, app.ErrInvalidLimit},
		{app.RequestListQuery{Companies: []uuid.UUID{company}, IncludeNew: true, Sort: app.SortID, Limit: 5, After: &other}, app.ErrInvalidCursor},
		{app.RequestListQuery{Companies: []uuid.UUID{company}, IncludeNew: true, Sort: app.SortSubmitted, Limit: 5,
			After: &app.ListCursor{Sort: app.SortSubmitted, Key: "yesterday", ID: uuid.New()}}, app.ErrInvalidCursor},
	} {
		if _, err := s.ListRequests(ctx, c.q); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.q, err, c.want)
		}
	}
	for _, q := range []app.RequestListQuery{
		{Sort: app.SortID, Limit: 5, IncludeNew: true},                                                    // no company
		{Companies: []uuid.UUID{company}, View: app.ViewNew, Sort: app.SortID, Limit: 5},                  // New without R2's Available
		{Companies: []uuid.UUID{uuid.New()}, IncludeNew: true, Sort: app.SortID, Limit: 5},                // nobody's company
		{Companies: []uuid.UUID{company}, IncludeNew: true, Search: "nobody", Sort: app.SortID, Limit: 5}, // no match
	} {
		page, err := s.ListRequests(ctx, q)
		if err != nil || page.Requests == nil || len(page.Requests) != 0 || page.Total != 0 || page.NextCursor != "" {
			t.Errorf("%+v: %+v %v, want an empty page", q, page, err)
		}
	}
}

func ids(rows []app.RequestSummary) []uuid.UUID {
	out := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// A cursor is a place in the order, not a row: one the snapshot never had (issued by the live
// list later) starts the page after where that row would sort.
func TestListCursorOfAnotherTime(t *testing.T) {
	ctx := context.Background()
	w := newWriter(t)
	company, _, _ := seedRequests(t, w, 12)
	s := at(t, w.store, w.clock)
	q := app.RequestListQuery{Companies: []uuid.UUID{company}, IncludeNew: true, View: app.ViewAll, Sort: app.SortCustomer, Limit: 200}
	whole, err := s.ListRequests(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// "b" sorts after every "ann" and before "bob".
	q.After = &app.ListCursor{Sort: app.SortCustomer, Key: collation.Key("b"), ID: uuid.New()}
	page, err := s.ListRequests(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var want []uuid.UUID
	for _, r := range whole.Requests {
		if app.SortKey(app.SortCustomer, r) > collation.Key("b") {
			want = append(want, r.ID)
		}
	}
	if len(want) == 0 || fmt.Sprint(ids(page.Requests)) != fmt.Sprint(want) || page.Total != whole.Total {
		t.Fatalf("after \"b\": %v, want %v", ids(page.Requests), want)
	}
}

// A search counts its matches up to app.MaxSearchTotal and says when it stopped counting, as
// the read model does; a plain list counts them all.
func TestSearchTotalIsCapped(t *testing.T) {
	ctx := context.Background()
	w := newWriter(t)
	company := uuid.New()
	w.add(directory.CompanyStream(company), "admin", &directory.CompanyCreated{CompanyID: company, Name: "Acme"})
	for i := range app.MaxSearchTotal + 5 {
		id := uuid.New()
		w.add(request.Stream(id), "customer:"+id.String(), &request.Submitted{RequestID: id, CompanyID: company, PortalID: uuid.New(),
			Customer: request.Customer{Name: "Ann", Email: "ann@example.com"}, Description: fmt.Sprintf("printer %d", i),
			Source: request.Source{Platform: request.Windows}})
	}
	s := at(t, w.store, w.clock)
	q := app.RequestListQuery{Companies: []uuid.UUID{company}, IncludeNew: true, View: app.ViewAll, Sort: app.SortSubmitted, Limit: 10}
	page, err := s.ListRequests(ctx, q)
	if err != nil || page.Total != app.MaxSearchTotal+5 || page.TotalCapped {
		t.Fatalf("plain list: total %d capped %v (%v)", page.Total, page.TotalCapped, err)
	}
	q.Search = "ANN@"
	page, err = s.ListRequests(ctx, q)
	if err != nil || page.Total != app.MaxSearchTotal || !page.TotalCapped || len(page.Requests) != 10 || page.NextCursor == "" {
		t.Fatalf("search: total %d capped %v, %d rows (%v)", page.Total, page.TotalCapped, len(page.Requests), err)
	}
}

// The details at T are the request as it was then: its chat up to T, its state, and the
// actions the domain allowed then, for a technician as they were then.
func TestDetailsAtT(t *testing.T) {
	ctx := context.Background()
	w := newWriter(t)
	company, ada := uuid.New(), uuid.New()
	w.add(directory.CompanyStream(company), "admin", &directory.CompanyCreated{CompanyID: company, Name: "Acme"})
	adaStream := directory.TechnicianStream(ada)
	w.add(adaStream, "admin", &directory.TechnicianRegistered{TechnicianID: ada, Name: "Ada", Email: "ada@example.com"})
	w.add(adaStream, "admin", &directory.AccessGranted{TechnicianID: ada, CompanyID: company})
	w.add(adaStream, "admin", &directory.AvailabilityChanged{TechnicianID: ada, Availability: directory.Available})
	id := uuid.New()
	stream, me, cust := request.Stream(id), "technician:"+ada.String(), "customer:"+id.String()
	w.add(stream, cust, &request.Submitted{RequestID: id, CompanyID: company, PortalID: uuid.New(),
		Customer: request.Customer{Name: "Ann", Email: "ann@example.com"}, Description: "printer", Source: request.Source{Platform: request.Windows}})
	w.add(stream, me, &request.Assigned{TechnicianID: ada})
	w.add(stream, me, &request.ChatJoined{TechnicianID: ada})
	w.add(stream, me, &request.NoteAdded{NoteID: uuid.New(), TechnicianID: ada, Body: "upset"})
	_, then := w.add(stream, cust, &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "help"})
	w.add(stream, me, &request.ChatEnded{TechnicianID: ada})
	w.add(stream, me, &request.Closed{TechnicianID: ada})
	w.add(adaStream, "admin", &directory.AccessRevoked{TechnicianID: ada, CompanyID: company})

	past, err := app.New(at(t, w.store, then).AppConfig())
	if err != nil {
		t.Fatal(err)
	}
	d, err := past.Queries().RequestDetails(ctx, app.Viewer{TechnicianID: ada}, id)
	if err != nil {
		t.Fatal(err)
	}
	kinds := func(d app.RequestDetails) []string {
		var out []string
		for _, e := range d.Entries {
			out = append(out, e.Kind)
		}
		return out
	}
	if d.Status != request.StatusActive || d.Chat != request.ChatJoinedIn || d.Version != 4 || d.CompanyName != "Acme" ||
		d.Assignee == nil || d.Assignee.Name != "Ada" || fmt.Sprint(kinds(d)) != "[event event event note message]" {
		t.Fatalf("details at T: %+v", d)
	}
	if !slices.Contains(d.Actions, request.ActionSendMessage) || !slices.Contains(d.Actions, request.ActionClose) || slices.Contains(d.Actions, request.ActionAssign) {
		t.Fatalf("Ada's actions at T: %v", d.Actions)
	}
	c, err := past.Queries().RequestDetails(ctx, app.Viewer{CustomerOf: id}, id)
	if err != nil || fmt.Sprint(kinds(c)) != "[event message]" || !slices.Contains(c.Actions, request.ActionSendMessage) {
		t.Fatalf("the customer's details at T: %+v %v", c, err)
	}

	now, err := app.New(at(t, w.store, w.clock).AppConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := now.Queries().RequestDetails(ctx, app.Viewer{TechnicianID: ada}, id); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("after her access was revoked Ada gets %v, want not found", err)
	}
	c, err = now.Queries().RequestDetails(ctx, app.Viewer{CustomerOf: id}, id)
	if err != nil || c.Status != request.StatusCompleted || len(c.Actions) != 0 {
		t.Fatalf("the customer's details at the end: %+v %v", c, err)
	}
	before, err := app.New(at(t, w.store, time.Date(2026, 6, 1, 12, 0, 4, 0, time.UTC)).AppConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := before.Queries().RequestDetails(ctx, app.Viewer{CustomerOf: id}, id); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("before the submission: %v, want not found", err)
	}
	if _, err := before.CreateCompany(ctx, app.Meta{Actor: app.Admin}, app.CreateCompany{CompanyID: uuid.New(), Name: "Initech"}); !errors.Is(err, asof.ErrReadOnly) {
		t.Fatalf("a command on the past: %v, want ErrReadOnly", err)
	}
}

// An auditor reads a request's details at T as a technician does, staff-only entries (the
// submission, the assignment moves, notes) included, and may take no action; the requests of
// a company they may not read do not exist for them (R2), nor does a request not yet
// submitted at T.
func TestAuditorDetailsAtT(t *testing.T) {
	ctx := context.Background()
	w := newWriter(t)
	acme, globex, ada, ida := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	w.add(directory.CompanyStream(acme), "admin", &directory.CompanyCreated{CompanyID: acme, Name: "Acme"})
	w.add(directory.CompanyStream(globex), "admin", &directory.CompanyCreated{CompanyID: globex, Name: "Globex"})
	adaStream := directory.TechnicianStream(ada)
	w.add(adaStream, "admin", &directory.TechnicianRegistered{TechnicianID: ada, Name: "Ada", Email: "ada@example.com"})
	w.add(adaStream, "admin", &directory.AccessGranted{TechnicianID: ada, CompanyID: acme})
	w.add(adaStream, "admin", &directory.AvailabilityChanged{TechnicianID: ada, Availability: directory.Available})
	w.add(directory.AuditorStream(ida), "admin", &directory.AuditorRegistered{AuditorID: ida, Name: "Ida", Email: "ida@example.com"})
	w.add(directory.AuditorStream(ida), "admin", &directory.AuditorAccessGranted{AuditorID: ida, CompanyID: acme})
	submit := func(id, company uuid.UUID) time.Time {
		_, when := w.add(request.Stream(id), "customer:"+id.String(), &request.Submitted{RequestID: id, CompanyID: company, PortalID: uuid.New(),
			Customer: request.Customer{Name: "Ann", Email: "ann@example.com"}, Description: "printer", Source: request.Source{Platform: request.Windows}})
		return when
	}
	acmeRequest, globexRequest := uuid.New(), uuid.New()
	submitted := submit(acmeRequest, acme)
	stream, me := request.Stream(acmeRequest), "technician:"+ada.String()
	w.add(stream, me, &request.Assigned{TechnicianID: ada})
	w.add(stream, me, &request.ChatJoined{TechnicianID: ada})
	w.add(stream, me, &request.NoteAdded{NoteID: uuid.New(), TechnicianID: ada, Body: "upset"})
	w.add(stream, "customer:"+acmeRequest.String(), &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "help"})
	then := submit(globexRequest, globex)
	w.add(stream, me, &request.Closed{TechnicianID: ada})

	s := at(t, w.store, then)
	tech, err := s.Technician(ctx, ada)
	if err != nil {
		t.Fatal(err)
	}
	asTechnician, err := s.RequestDetails(ctx, app.RequestDetailsQuery{RequestID: acmeRequest, Viewer: app.Viewer{TechnicianID: ada}, Technician: tech})
	if err != nil {
		t.Fatal(err)
	}
	acmeAuditor := directory.RestoreAuditor(directory.AuditorState{ID: ida, Name: "Ida", Email: "ida@example.com", Companies: []uuid.UUID{acme}})
	everyCompany := directory.RestoreAuditor(directory.AuditorState{ID: ida, Name: "Ida", Email: "ida@example.com", AllCompanies: true})
	kinds := func(d app.RequestDetails) string {
		var out []string
		for _, e := range d.Entries {
			out = append(out, e.Kind+":"+e.Event)
		}
		return fmt.Sprint(out)
	}
	cases := []struct {
		name    string
		at      time.Time
		request uuid.UUID
		viewer  app.Viewer
		auditor *directory.Auditor
		found   bool
		entries string
	}{
		{"granted the request's company", then, acmeRequest, app.Viewer{AuditorID: ida}, acmeAuditor, true, kinds(asTechnician)},
		{"granted every company", then, globexRequest, app.Viewer{AuditorID: ida}, everyCompany, true, "[event:request.submitted.v1]"},
		{"another company's request", then, globexRequest, app.Viewer{AuditorID: ida}, acmeAuditor, false, ""},
		{"no auditor to check", then, acmeRequest, app.Viewer{AuditorID: ida}, nil, false, ""},
		{"another auditor's grants", then, acmeRequest, app.Viewer{AuditorID: uuid.New()}, acmeAuditor, false, ""},
		{"before the submission", submitted.Add(-time.Nanosecond), acmeRequest, app.Viewer{AuditorID: ida}, everyCompany, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := at(t, w.store, c.at).RequestDetails(ctx, app.RequestDetailsQuery{RequestID: c.request, Viewer: c.viewer, Auditor: c.auditor})
			if !c.found {
				if !errors.Is(err, app.ErrNotFound) {
					t.Fatalf("details: %+v %v, want not found", d, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.ID != c.request || d.Actions == nil || len(d.Actions) != 0 || kinds(d) != c.entries {
				t.Fatalf("details: entries %s, actions %v; want entries %s and no action", kinds(d), d.Actions, c.entries)
			}
		})
	}
	// The request as the auditor reads it at T is the technician's view of it then, actions
	// aside: still active, the note and the assignment among its entries.
	d, err := s.RequestDetails(ctx, app.RequestDetailsQuery{RequestID: acmeRequest, Viewer: app.Viewer{AuditorID: ida}, Auditor: acmeAuditor})
	if err != nil {
		t.Fatal(err)
	}
	if len(asTechnician.Actions) == 0 {
		t.Fatal("the technician may act on nothing: the comparison would prove nothing")
	}
	d.Actions, asTechnician.Actions = nil, nil
	if !reflect.DeepEqual(d, asTechnician) || d.Status != request.StatusActive ||
		kinds(d) != "[event:request.submitted.v1 event:request.assigned.v1 event:request.chat_joined.v1 note: message:]" {
		t.Fatalf("the auditor's details at T:\n%+v\nthe technician's:\n%+v", d, asTechnician)
	}
}

// Auditors at T are the directory's auditors as they were then, with the grants they held,
// ordered by name then ID (byte order, as the read model's "C" collation), companies nil when
// none; an auditor registered again keeps the companies granted one by one and loses the grant
// of every company, as the read model writes their row anew.
func TestAuditorsAtT(t *testing.T) {
	ctx := context.Background()
	w := newWriter(t)
	acme, globex := uuid.New(), uuid.New()
	w.add(directory.CompanyStream(acme), "admin", &directory.CompanyCreated{CompanyID: acme, Name: "Acme"})
	w.add(directory.CompanyStream(globex), "admin", &directory.CompanyCreated{CompanyID: globex, Name: "Globex"})
	ida, lowIda := uuid.New(), uuid.New()
	maxLater, maxFirst := uuid.MustParse("00000000-0000-0000-0000-0000000000b2"), uuid.MustParse("00000000-0000-0000-0000-0000000000b1")
	abe := uuid.New()
	register := func(id uuid.UUID, name string) {
		w.add(directory.AuditorStream(id), "admin", &directory.AuditorRegistered{AuditorID: id, Name: name, Email: strings.ToLower(name) + "@example.com"})
	}
	grant := func(id, company uuid.UUID, all bool) time.Time {
		_, when := w.add(directory.AuditorStream(id), "admin", &directory.AuditorAccessGranted{AuditorID: id, CompanyID: company, AllCompanies: all})
		return when
	}
	register(ida, "Ida")
	grant(ida, globex, false)
	grant(ida, acme, false)
	w.add(directory.AuditorStream(ida), "auditor:"+ida.String(), &directory.AuditorPasswordChanged{AuditorID: ida})
	register(maxLater, "Max")
	register(maxFirst, "Max")
	register(lowIda, "ida")
	then := grant(lowIda, uuid.Nil, true)
	grant(maxFirst, uuid.Nil, true)
	w.add(directory.AuditorStream(ida), "admin", &directory.AuditorAccessRevoked{AuditorID: ida, CompanyID: globex})
	register(abe, "Abe")
	grant(maxLater, globex, false)
	w.add(directory.AuditorStream(maxLater), "admin", &directory.AuditorAccessRevoked{AuditorID: maxLater, CompanyID: globex}) // none left: nil
	grant(lowIda, acme, false)
	register(lowIda, "Ivy")

	state := func(id uuid.UUID, name string, all bool, companies ...uuid.UUID) directory.AuditorState {
		return directory.AuditorState{ID: id, Name: name, Email: strings.ToLower(name) + "@example.com", AllCompanies: all, Companies: companies}
	}
	ivy := state(lowIda, "Ivy", false, acme)
	cases := []struct {
		name string
		at   time.Time
		want []directory.AuditorState
	}{
		{"before any auditor", w.clock.Add(-time.Hour), []directory.AuditorState{}},
		{"at T", then, []directory.AuditorState{
			state(ida, "Ida", false, globex, acme), state(maxFirst, "Max", false), state(maxLater, "Max", false), state(lowIda, "ida", true)}},
		{"at the end", w.clock, []directory.AuditorState{
			state(abe, "Abe", false), state(ida, "Ida", false, acme), ivy, state(maxFirst, "Max", true), state(maxLater, "Max", false)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := at(t, w.store, c.at)
			got, err := s.Auditors(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("auditors:\n%+v\nwant\n%+v", got, c.want)
			}
			// The states are copies: changing one changes nothing the snapshot answers.
			for i := range got {
				if len(got[i].Companies) > 0 {
					got[i].Companies[0] = uuid.Nil
				}
			}
			if again, _ := s.Auditors(ctx); !reflect.DeepEqual(again, c.want) {
				t.Fatalf("after changing the answer: %+v", again)
			}
		})
	}
}
