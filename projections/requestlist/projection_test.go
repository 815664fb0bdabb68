package requestlist

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest/listtest"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/collation"
	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// storedRow is a request_list row as the tests compare it.
type storedRow struct {
	ID            uuid.UUID
	CompanyID     uuid.UUID
	CompanyName   string
	CompanyKey    string
	CustomerName  string
	CustomerEmail string
	CustomerKey   string
	Description   string
	Status        string
	AssigneeID    *uuid.UUID
	AssigneeName  string
	AssigneeKey   string
	Platform      string
	SubmittedAt   time.Time
	AssignedAt    *time.Time
	ClosedAt      *time.Time
	LastActivity  time.Time
	CustomerWrote *time.Time
	Messages      int32
	Files         int32
}

func readRow(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) (storedRow, bool) {
	t.Helper()
	var r storedRow
	err := pool.QueryRow(context.Background(), `SELECT id, company_id, company_name, company_key, customer_name, customer_email,
		customer_key, description, status, assignee_id, assignee_name, assignee_key, platform, submitted_at, assigned_at,
		closed_at, last_activity, customer_wrote_at, messages, files FROM request_list WHERE id = $1`, id).Scan(
		&r.ID, &r.CompanyID, &r.CompanyName, &r.CompanyKey, &r.CustomerName, &r.CustomerEmail, &r.CustomerKey, &r.Description,
		&r.Status, &r.AssigneeID, &r.AssigneeName, &r.AssigneeKey, &r.Platform, &r.SubmittedAt, &r.AssignedAt, &r.ClosedAt,
		&r.LastActivity, &r.CustomerWrote, &r.Messages, &r.Files)
	if err != nil {
		return r, false
	}
	r.SubmittedAt, r.LastActivity = r.SubmittedAt.UTC(), r.LastActivity.UTC()
	if r.AssignedAt != nil {
		r.AssignedAt = ptr(r.AssignedAt.UTC())
	}
	if r.ClosedAt != nil {
		r.ClosedAt = ptr(r.ClosedAt.UTC())
	}
	if r.CustomerWrote != nil {
		r.CustomerWrote = ptr(r.CustomerWrote.UTC())
	}
	return r, true
}

func asJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// Every event type, applied one batch per event: the row after each event is what the
// catalog's fold says.
func TestApplyEveryEventType(t *testing.T) {
	t.Parallel()
	one, all := newDB(t), newDB(t)
	l := listtest.NewEventLog(t)
	company, alice, bob := uuid.New(), uuid.New(), uuid.New()
	l.Company(company, "Acme Corp")
	l.Technician(alice, "Alice Martin")
	l.Technician(bob, "Bob Durand")
	l.Add(dir.TechnicianStream(alice), &dir.AccessGranted{TechnicianID: alice, CompanyID: company})
	l.Add(dir.TechnicianStream(alice), &dir.AvailabilityChanged{TechnicianID: alice, Availability: dir.Available})
	l.Add("other-stream", &dir.CompanyCreated{CompanyID: uuid.New(), Name: "not a company stream"}) // still a company event
	l.Add("x-1", &request.Closed{})
	l.Events[len(l.Events)-1].Type = "unknown.thing.v1" // an event type no codec knows
	apply(t, one, l.Events)

	id := uuid.New()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC)
	want := storedRow{
		ID: id, CompanyID: company, CompanyName: "Acme Corp", CompanyKey: collation.Key("Acme Corp"),
		CustomerName: "Ann O'Neil", CustomerEmail: "ann@example.com", CustomerKey: collation.Key("ann o'neil"),
		Description: "Printer on FIRE", Status: "new", Platform: "windows", SubmittedAt: t0, LastActivity: t0,
	}
	steps := []struct {
		event  eventlog.Event
		expect func(at time.Time)
	}{
		{&request.Submitted{RequestID: id, CompanyID: company, PortalID: uuid.New(), Customer: request.Customer{Name: "Ann O'Neil", Email: "ann@example.com"},
			Description: "Printer on FIRE", Source: request.Source{Platform: request.Windows}}, func(time.Time) {}},
		{&request.Assigned{TechnicianID: alice}, func(at time.Time) {
			want.Status, want.AssigneeID, want.AssigneeName, want.AssigneeKey, want.AssignedAt = "active", &alice, "Alice Martin", collation.Key("Alice Martin"), ptr(at)
		}},
		{&request.ChatJoined{TechnicianID: alice}, func(time.Time) {}},
		{&request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "hi"}, func(at time.Time) { want.Messages++; want.CustomerWrote = ptr(at) }},
		{&request.MessageSent{MessageID: uuid.New(), From: request.TechnicianSide, TechnicianID: alice, Body: "hello"}, func(time.Time) { want.Messages++ }},
		{&request.NoteAdded{NoteID: uuid.New(), TechnicianID: alice, Body: "note"}, func(time.Time) {}},
		{&request.FileShared{FileID: uuid.New(), From: request.CustomerSide, Name: "a.png", Size: 1, SHA256: "x"}, func(time.Time) { want.Files++ }},
		{&request.ScreenSharingRequested{TechnicianID: alice}, func(time.Time) {}},
		{&request.ScreenSharingAccepted{}, func(time.Time) {}},
		{&request.ScreenSharingRequested{TechnicianID: alice}, func(time.Time) {}},
		{&request.ScreenSharingDeclined{}, func(time.Time) {}},
		{&request.MobileProfileSent{TechnicianID: alice, Profile: "vpn"}, func(time.Time) {}},
		{&request.Transferred{From: alice, To: bob}, func(at time.Time) {
			want.AssigneeID, want.AssigneeName, want.AssigneeKey, want.AssignedAt = &bob, "Bob Durand", collation.Key("Bob Durand"), ptr(at)
		}},
		{&request.Unassigned{TechnicianID: bob}, func(time.Time) {
			want.Status, want.AssigneeID, want.AssigneeName, want.AssigneeKey, want.AssignedAt = "new", nil, "", "", nil
		}},
		{&request.Assigned{TechnicianID: alice}, func(at time.Time) {
			want.Status, want.AssigneeID, want.AssigneeName, want.AssigneeKey, want.AssignedAt = "active", &alice, "Alice Martin", collation.Key("Alice Martin"), ptr(at)
		}},
		{&request.ChatJoined{TechnicianID: alice}, func(time.Time) {}},
		{&request.FileShared{FileID: uuid.New(), From: request.TechnicianSide, TechnicianID: alice, Name: "b.pdf", Size: 1, SHA256: "x"}, func(time.Time) { want.Files++ }},
		{&request.ChatEnded{TechnicianID: alice}, func(time.Time) {}},
		{&request.Closed{TechnicianID: alice}, func(at time.Time) { want.Status, want.ClosedAt = "completed", ptr(at) }},
	}
	l.At(t0)
	for i, step := range steps {
		rec := l.Add(request.Stream(id), step.event)
		step.expect(rec.Metadata.OccurredAt)
		want.LastActivity = rec.Metadata.OccurredAt
		apply(t, one, []eventlog.RecordedEvent{rec})
		got, ok := readRow(t, one, id)
		if !ok {
			t.Fatalf("step %d (%s): no row", i, rec.Type)
		}
		if asJSON(got) != asJSON(want) {
			t.Fatalf("step %d (%s):\n got %s\nwant %s", i, rec.Type, asJSON(got), asJSON(want))
		}
		listtest.CheckCounts(t, one)
		l.Tick(time.Duration(i+1) * time.Second)
	}
	// Events of a request whose submission was never seen change nothing.
	ghost := uuid.New()
	apply(t, one, []eventlog.RecordedEvent{l.Add(request.Stream(ghost), &request.Assigned{TechnicianID: alice})})
	if _, ok := readRow(t, one, ghost); ok {
		t.Fatal("a row for a request never submitted")
	}
	// The same events in one batch leave the same row.
	apply(t, all, l.Events)
	got, _ := readRow(t, all, id)
	if asJSON(got) != asJSON(want) {
		t.Fatalf("one batch:\n got %s\nwant %s", asJSON(got), asJSON(want))
	}
	listtest.CheckCounts(t, all)
	// The search document was written once, at submission.
	var doc string
	if err := all.QueryRow(context.Background(), `SELECT document FROM request_list_search WHERE id = $1`, id).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	if doc != request.SearchDocument("Ann O'Neil", "ann@example.com", "Printer on FIRE") {
		t.Fatalf("search document %q", doc)
	}
}

// The row keeps names it learned in earlier batches: companies and technicians are read back
// from the projection's own tables.
func TestNamesFromEarlierBatches(t *testing.T) {
	t.Parallel()
	pool := newDB(t)
	l := listtest.NewEventLog(t)
	company, tech := uuid.New(), uuid.New()
	l.Company(company, "Globex")
	l.Technician(tech, "Zoë Ünal")
	apply(t, pool, l.Events)
	n := len(l.Events)
	id := uuid.New()
	l.Submit(id, company, "Émile", "e@example.com", "desk", request.Mac)
	l.Request(id, &request.Assigned{TechnicianID: tech})
	apply(t, pool, l.Events[n:])
	got, _ := readRow(t, pool, id)
	if got.CompanyName != "Globex" || got.CompanyKey != collation.Key("Globex") || got.AssigneeName != "Zoë Ünal" ||
		got.AssigneeKey != collation.Key("Zoë Ünal") || got.CustomerKey != collation.Key("Émile") {
		t.Fatalf("names: %s", asJSON(got))
	}
}
