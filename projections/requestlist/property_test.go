package requestlist_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/readmodels"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/filestore"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/directory"
	"github.com/helpstream/helpstream/projections/requestdetails"
	"github.com/helpstream/helpstream/projections/requestlist"
)

type projection = projections.Projection

func readModelProjections() []projection {
	return []projection{directory.NewProjection(), requestlist.NewProjection(), requestdetails.NewProjection()}
}

// property is the world of the property test: an App that answers from memory (the reference
// fold and the streams), an App that answers from the read models, and the read models
// kept by applying the log in random batches.
type property struct {
	t        *testing.T
	pool     *pgxpool.Pool
	store    *pgstore.Store
	ref      *app.App
	rm       *app.App
	rng      *rand.Rand
	applied  eventlog.Position
	written  eventlog.Position
	batches  int
	requests []uuid.UUID
	techs    []uuid.UUID
	portals  map[uuid.UUID]uuid.UUID
}

func (p *property) note(res app.Result, err error) {
	if err == nil && res.Position.Compare(p.written) > 0 {
		p.written = res.Position
	}
}

func (p *property) must(res app.Result, err error) {
	p.t.Helper()
	if err != nil {
		p.t.Fatal(err)
	}
	p.note(res, err)
}

// catchUp applies the log to the live read models (public) in random batches, one transaction
// per batch and projection, until every command of the test is in.
func (p *property) catchUp() {
	p.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for p.applied.Compare(p.written) < 0 {
		if time.Now().After(deadline) {
			p.t.Fatalf("the log did not release %s", p.written)
		}
		events, err := p.store.ReadAll(ctx, p.applied, eventlog.ReadOptions{Limit: 100000})
		if err != nil {
			p.t.Fatal(err)
		}
		if len(events) == 0 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		for _, pr := range readModelProjections() {
			applyBatches(p.t, p.pool, pr, events, func() int { return 1 + p.rng.IntN(25) }, &p.batches)
		}
		p.applied = events[len(events)-1].Position
	}
}

func applyBatches(t *testing.T, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, pr projection, events []eventlog.RecordedEvent, size func() int, count *int) {
	t.Helper()
	ctx := context.Background()
	for len(events) > 0 {
		n := min(len(events), size())
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := pr.Apply(ctx, tx, events[:n]); err != nil {
			t.Fatalf("%s: %v", pr.Name(), err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		*count++
		events = events[n:]
	}
}

func newProperty(t *testing.T) *property {
	ctx := context.Background()
	store, pool := pgtest.NewEventStore(t, pgstore.Config{})
	for _, pr := range readModelProjections() {
		if _, err := pool.Exec(ctx, pr.Schema()); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := pgtest.NewJitterClock(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), 1500*time.Microsecond, 77)
	ref, err := app.New(newReference(store).config(app.Config{Store: store, Files: files, Now: c.Now}))
	if err != nil {
		t.Fatal(err)
	}
	rm, err := app.New(app.Config{Store: store, Files: files, Now: c.Now,
		RequestList: readmodels.NewRequestList(pool), RequestDetails: readmodels.NewDetails(pool), Directory: readmodels.NewDirectory(pool)})
	if err != nil {
		t.Fatal(err)
	}
	return &property{t: t, pool: pool, store: store, ref: ref, rm: rm, rng: rand.New(rand.NewPCG(1, 1)), portals: map[uuid.UUID]uuid.UUID{}}
}

// TestReadModelsEqualRebuildAndFold is the read models' property test (issue 3, item 7): random
// valid command sequences over 200 requests, through the application on a real PostgreSQL event
// store, projected in random batches as they happen. Then:
//
//   - every table of every read model equals a fresh rebuild: the whole log applied again, in
//     other batches, into a scratch schema through search_path; and the runtime's
//     projections.Rebuild (scratch schema, swap into public) swaps in the same tables;
//   - the read models answer every query as the in-memory fold does: the list (every view,
//     sort, direction, queue and a few searches, for every technician, paged by cursor), the
//     details of every request for every technician and its customer, the directory.
func TestReadModelsEqualRebuildAndFold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newProperty(t)
	admin := app.Meta{Actor: app.Admin}
	var companies []uuid.UUID
	for _, name := range []string{"Acme", "acme", "Globex", "Initech"} {
		id, portal := uuid.New(), uuid.New()
		companies = append(companies, id)
		p.must(p.ref.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: id, Name: name}))
		p.must(p.ref.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: id, PortalID: portal, Name: "Help " + name}))
		p.portals[portal] = id
	}
	for i, name := range []string{"Al", "al", "Bo", "Cy", "Dee", "Eve"} {
		id := uuid.New()
		p.techs = append(p.techs, id)
		p.must(p.ref.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: id, Name: name, Email: fmt.Sprintf("t%d@example.com", i)}))
		for _, c := range companies {
			if p.rng.IntN(3) > 0 {
				p.must(p.ref.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: id, CompanyID: c}))
			}
		}
		p.must(p.ref.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: id, Availability: dir.Available}))
	}
	portals := make([]uuid.UUID, 0, len(p.portals))
	for portal := range p.portals {
		portals = append(portals, portal)
	}
	customers := []string{"Ann", "ann", "Bob", "Zoë", "Émile"}
	submit := func() {
		id, portal := uuid.New(), portals[p.rng.IntN(len(portals))]
		p.requests = append(p.requests, id)
		p.must(p.ref.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{
			RequestID: id, PortalID: portal, CompanyID: p.portals[portal],
			Customer:    request.Customer{Name: customers[p.rng.IntN(len(customers))], Email: fmt.Sprintf("c%d@example.com", p.rng.IntN(7))},
			Description: fmt.Sprintf("Request %d: the printer is on fire", len(p.requests)),
			Source:      request.Source{IP: "192.0.2.1", Platform: request.Platforms[p.rng.IntN(4)]},
		}))
	}
	assignees := map[uuid.UUID]uuid.UUID{} // as far as the test knows
	closed := map[uuid.UUID]bool{}
	tech := func(id uuid.UUID) app.Meta { return app.Meta{Actor: app.Actor{Kind: "technician", ID: id}} }
	cust := func(id uuid.UUID) app.Meta { return app.Meta{Actor: app.Actor{Kind: "customer", ID: id}} }
	commands := []func(r, t uuid.UUID) (app.Result, error){
		func(r, t uuid.UUID) (app.Result, error) {
			res, err := p.ref.AssignToMe(ctx, tech(t), r)
			if err == nil {
				assignees[r] = t
			}
			return res, err
		},
		func(r, t uuid.UUID) (app.Result, error) {
			res, err := p.ref.Unassign(ctx, tech(t), r)
			if err == nil {
				delete(assignees, r)
			}
			return res, err
		},
		func(r, t uuid.UUID) (app.Result, error) {
			to := p.techs[p.rng.IntN(len(p.techs))]
			res, err := p.ref.Transfer(ctx, tech(t), r, to)
			if err == nil {
				assignees[r] = to
			}
			return res, err
		},
		func(r, t uuid.UUID) (app.Result, error) { return p.ref.JoinChat(ctx, tech(t), r) },
		func(r, t uuid.UUID) (app.Result, error) { return p.ref.JoinChat(ctx, tech(t), r) },
		func(r, t uuid.UUID) (app.Result, error) {
			return p.ref.SendTechnicianMessage(ctx, tech(t), r, uuid.New(), "hello")
		},
		func(r, _ uuid.UUID) (app.Result, error) {
			return p.ref.SendCustomerMessage(ctx, cust(r), r, uuid.New(), "help")
		},
		func(r, t uuid.UUID) (app.Result, error) { return p.ref.AddNote(ctx, tech(t), r, uuid.New(), "note") },
		func(r, t uuid.UUID) (app.Result, error) {
			return p.ref.ShareTechnicianFile(ctx, tech(t), app.Upload{RequestID: r, FileID: uuid.New(), Name: "fix.txt", Content: strings.NewReader("do this")})
		},
		func(r, _ uuid.UUID) (app.Result, error) {
			return p.ref.ShareCustomerFile(ctx, cust(r), app.Upload{RequestID: r, FileID: uuid.New(), Name: "shot.png", Content: strings.NewReader(pngBytes)})
		},
		func(r, t uuid.UUID) (app.Result, error) { return p.ref.RequestScreenSharing(ctx, tech(t), r) },
		func(r, _ uuid.UUID) (app.Result, error) { return p.ref.AcceptScreenSharing(ctx, cust(r), r) },
		func(r, _ uuid.UUID) (app.Result, error) { return p.ref.DeclineScreenSharing(ctx, cust(r), r) },
		func(r, t uuid.UUID) (app.Result, error) { return p.ref.SendMobileProfile(ctx, tech(t), r, "vpn") },
		func(r, t uuid.UUID) (app.Result, error) { return p.ref.EndChat(ctx, tech(t), r) },
		func(r, _ uuid.UUID) (app.Result, error) { // the service-level manager's command
			target := servicelevel.Targets[p.rng.IntN(len(servicelevel.Targets))]
			return p.ref.RecordBreach(ctx, app.Meta{Actor: app.Actor{Kind: "system"}}, app.RecordBreach{RequestID: r, Target: target, DueAt: time.Now(), Goal: time.Minute})
		},
		func(r, t uuid.UUID) (app.Result, error) {
			if p.rng.IntN(3) > 0 {
				return app.Result{}, nil // closing ends a life: not too soon
			}
			res, err := p.ref.Close(ctx, tech(t), r)
			if err == nil {
				closed[r] = true
			}
			return res, err
		},
	}
	availabilities := []dir.Availability{dir.Available, dir.Available, dir.Busy, dir.Away, dir.Offline}
	for step := 0; len(p.requests) < 200 || step < 5000; step++ {
		switch x := p.rng.IntN(100); {
		case x < 8 && len(p.requests) < 200, len(p.requests) == 0:
			submit()
		case x < 10:
			p.note(p.ref.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: p.techs[p.rng.IntN(len(p.techs))], Availability: availabilities[p.rng.IntN(len(availabilities))]}))
		case x < 11:
			t, c := p.techs[p.rng.IntN(len(p.techs))], companies[p.rng.IntN(len(companies))]
			if p.rng.IntN(2) == 0 {
				p.note(p.ref.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: t, CompanyID: c}))
			} else {
				p.note(p.ref.RevokeAccess(ctx, admin, app.RevokeAccess{TechnicianID: t, CompanyID: c}))
			}
		default:
			// Mostly the assignee acts: random technicians are mostly refused.
			r, t := p.requests[p.rng.IntN(len(p.requests))], p.techs[p.rng.IntN(len(p.techs))]
			for try := 0; closed[r] && try < 5; try++ {
				r = p.requests[p.rng.IntN(len(p.requests))]
			}
			cmd := commands[p.rng.IntN(len(commands))]
			if a, ok := assignees[r]; ok && p.rng.IntN(4) > 0 {
				t = a
			} else if !ok && p.rng.IntN(2) == 0 {
				cmd = commands[0] // assign
			}
			p.note(cmd(r, t))
		}
		if p.rng.IntN(150) == 0 {
			p.catchUp()
		}
	}
	p.catchUp()
	t.Logf("%d requests, log at %s, applied in %d live batches", len(p.requests), p.applied, p.batches)

	p.checkRebuild()
	p.checkRuntimeRebuild()
	p.checkDirectory()
	p.checkLists()
	p.checkDetails()
}

// pngBytes is the start of a PNG file: enough for content sniffing.
const pngBytes = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"

// checkRebuild applies the whole log again into a scratch schema, in other batches, with
// search_path pointing there (as the runtime's rebuild does), and compares every table.
func (p *property) checkRebuild() {
	t := p.t
	ctx := context.Background()
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `CREATE SCHEMA rebuild_property; SET search_path = rebuild_property, public`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SET search_path = public`) //nolint:errcheck // released after
	var events []eventlog.RecordedEvent
	for from := eventlog.Start(); ; {
		page, err := p.store.ReadAll(ctx, from, eventlog.ReadOptions{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, page...)
		if len(page) < 1000 {
			break
		}
		from = page[len(page)-1].Position
	}
	if events[len(events)-1].Position.Compare(p.applied) != 0 {
		t.Fatalf("rebuild read up to %s, live applied %s", events[len(events)-1].Position, p.applied)
	}
	batches := 0
	for _, pr := range readModelProjections() {
		if _, err := conn.Exec(ctx, pr.Schema()); err != nil {
			t.Fatal(err)
		}
		applyBatches(t, conn, pr, events, func() int { return 1 + p.rng.IntN(700) }, &batches)
		for _, table := range pr.Tables() {
			var live, rebuilt, differ int
			err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM public.%[1]s), (SELECT count(*) FROM rebuild_property.%[1]s),
				(SELECT count(*) FROM ((TABLE public.%[1]s EXCEPT ALL TABLE rebuild_property.%[1]s)
					UNION ALL (TABLE rebuild_property.%[1]s EXCEPT ALL TABLE public.%[1]s)) x)`, table)).Scan(&live, &rebuilt, &differ)
			if err != nil {
				t.Fatal(err)
			}
			if differ != 0 || live != rebuilt {
				t.Fatalf("%s: live %d rows, rebuilt %d, %d rows differ", table, live, rebuilt, differ)
			}
			if live == 0 && table != "request_list_technicians" {
				t.Logf("%s is empty", table)
			}
		}
	}
	t.Logf("rebuild: %d events in %d batches equal the live tables", len(events), batches)
}

// checkRuntimeRebuild rebuilds each read model with the runtime (projections.Rebuild: scratch
// schema, pages of the log, swap into public) and compares the swapped-in tables with the
// rebuild of checkRebuild: once with the bulk loads holding every open request in memory, once
// with so small a memory bound that they write everything early and the rest of the log goes
// through Apply. The queries checked afterwards read the swapped-in tables.
func (p *property) checkRuntimeRebuild() {
	for _, maxHeld := range []int{0, 1 + p.rng.IntN(60)} {
		for _, pr := range readModelProjections() {
			p.checkRuntimeRebuildOf(pr, projections.RebuildOptions{BatchSize: 1 + p.rng.IntN(300), MaxHeldRows: maxHeld})
		}
	}
	p.t.Log("projections.Rebuild swapped in the same tables")
}

func (p *property) checkRuntimeRebuildOf(pr projections.Projection, opts projections.RebuildOptions) {
	t := p.t
	ctx := context.Background()
	res, err := projections.Rebuild(ctx, p.pool, p.store, pr, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Position.Compare(p.applied) != 0 {
		t.Fatalf("%s: rebuilt to %s, log at %s", pr.Name(), res.Position, p.applied)
	}
	for _, table := range pr.Tables() {
		var differ int
		err := p.pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM ((TABLE public.%[1]s EXCEPT ALL TABLE rebuild_property.%[1]s)
			UNION ALL (TABLE rebuild_property.%[1]s EXCEPT ALL TABLE public.%[1]s)) x`, table)).Scan(&differ)
		if err != nil {
			t.Fatal(err)
		}
		if differ != 0 {
			t.Fatalf("%s after projections.Rebuild (max held rows %d): %d rows differ", table, opts.MaxHeldRows, differ)
		}
	}
}

func (p *property) checkDirectory() {
	t := p.t
	ctx := context.Background()
	for _, f := range []func(*app.Queries, context.Context) (map[uuid.UUID]string, error){(*app.Queries).Companies, (*app.Queries).Technicians} {
		want, err := f(p.ref.Queries(), ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f(p.rm.Queries(), ctx)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("directory names: got %v %v, want %v", got, err, want)
		}
	}
	for portal := range p.portals {
		wantID, wantName, err := p.ref.Queries().PortalCompany(ctx, portal)
		if err != nil {
			t.Fatal(err)
		}
		gotID, gotName, err := p.rm.Queries().PortalCompany(ctx, portal)
		if err != nil || gotID != wantID || gotName != wantName {
			t.Fatalf("portal %s: got %s %q %v, want %s %q", portal, gotID, gotName, err, wantID, wantName)
		}
	}
	m := readmodels.NewDirectory(p.pool)
	for _, id := range p.techs {
		want, err := p.ref.Technician(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Technician(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		g, w := got.State(), want.State()
		if len(g.Companies) == 0 && len(w.Companies) == 0 {
			g.Companies, w.Companies = nil, nil
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("technician %s: got %+v, want %+v", id, g, w)
		}
	}
}

func pages(t *testing.T, a *app.App, q app.ListRequests) (string, int) {
	t.Helper()
	var rows []app.RequestSummary
	total := -1
	for n := 0; ; n++ {
		page, err := a.Queries().ListRequests(context.Background(), q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if total != -1 && page.Total != total {
			t.Fatalf("%+v: total changed from %d to %d", q, total, page.Total)
		}
		total = page.Total
		rows = append(rows, page.Requests...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
		if n > 500 {
			t.Fatal("paging does not end")
		}
	}
	b, _ := json.Marshal(rows)
	if len(rows) != total && q.Search == "" {
		t.Fatalf("%+v: %d rows, total %d", q, len(rows), total)
	}
	return string(b), len(rows)
}

func (p *property) checkLists() {
	t := p.t
	sorts := []app.SortColumn{app.SortSubmitted, app.SortID, app.SortCustomer, app.SortCompany, app.SortStatus, app.SortAssignee, app.SortLastActivity, app.SortBreach}
	queries, nonEmpty := 0, 0
	for _, tech := range p.techs {
		var qs []app.ListRequests
		for _, view := range []app.View{app.ViewAll, app.ViewNew, app.ViewActive, app.ViewCompleted} {
			for _, sort := range sorts {
				for _, desc := range []bool{false, true} {
					qs = append(qs, app.ListRequests{TechnicianID: tech, View: view, Sort: sort, Descending: desc, Limit: 1 + p.rng.IntN(40)})
				}
			}
		}
		for _, sort := range sorts {
			qs = append(qs, app.ListRequests{TechnicianID: tech, MineOnly: true, Sort: sort, Limit: 3})
			qs = append(qs, app.ListRequests{TechnicianID: tech, Assignee: p.techs[p.rng.IntN(len(p.techs))], Sort: sort, Descending: true, Limit: 2})
		}
		for _, term := range []string{"ann", "ÉMILE", "request 1", "c3@", "fire"} {
			qs = append(qs, app.ListRequests{TechnicianID: tech, Search: term, Sort: app.SortCustomer, Limit: 7})
		}
		for _, q := range qs {
			want, n := pages(t, p.ref, q)
			got, _ := pages(t, p.rm, q)
			if got != want {
				t.Fatalf("list %+v:\nread model %s\nfold %s", q, got, want)
			}
			queries++
			if n > 0 {
				nonEmpty++
			}
		}
	}
	if nonEmpty < queries/3 {
		t.Fatalf("only %d of %d list queries returned rows", nonEmpty, queries)
	}
	t.Logf("%d list queries (%d with rows) answer as the reference fold does", queries, nonEmpty)
}

func (p *property) checkDetails() {
	t := p.t
	ctx := context.Background()
	for _, r := range p.requests {
		viewers := []app.Viewer{{CustomerOf: r}}
		for _, tech := range p.techs {
			viewers = append(viewers, app.Viewer{TechnicianID: tech})
		}
		for _, v := range viewers {
			want, wantErr := p.ref.Queries().RequestDetails(ctx, v, r)
			got, gotErr := p.rm.Queries().RequestDetails(ctx, v, r)
			if (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("details of %s for %+v: fold %v, read model %v", r, v, wantErr, gotErr)
			}
			w, _ := json.Marshal(want)
			g, _ := json.Marshal(got)
			if string(g) != string(w) {
				t.Fatalf("details of %s for %+v:\nread model %s\nfold %s", r, v, g, w)
			}
		}
	}
}
