package asof_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/accesslog"
	"github.com/helpstream/helpstream/adapters/postgres/readmodels"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/asof"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// query is one question recorded at a moment: asked of the live read models then, and of the
// snapshot at that moment afterwards.
type query struct {
	name string
	// auditor is set when an auditor asks.
	auditor bool
	ask     func(ctx context.Context, a side) (any, error)
}

// side is what a query asks: the application's queries, and the directory read model itself
// (for what the queries reshape, such as an auditor's companies when there are none).
type side struct {
	*app.Queries
	directory app.DirectoryReadModel
}

// moment is what the live read models answered at time at.
type moment struct {
	at      time.Time
	step    int
	queries []query
	answers []string
}

// answer is a query's result as the test compares it: the JSON of the result, or the kind of
// error.
func answer(v any, err error) string {
	switch {
	case errors.Is(err, app.ErrNotFound):
		return "error: not found"
	case errors.Is(err, app.ErrUnknownPortal):
		return "error: unknown portal"
	case err != nil:
		return "error: " + err.Error()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "error: marshal: " + err.Error()
	}
	return string(b)
}

// history is the property test's world: the service, what the test knows of the directory and
// the requests, and a seeded source of choices.
type history struct {
	t         *testing.T
	svc       *service.Service
	rng       *rand.Rand
	companies []uuid.UUID
	portals   map[uuid.UUID]uuid.UUID // portal → company
	techs     []uuid.UUID
	auditors  []uuid.UUID
	requests  []uuid.UUID
	assignee  map[uuid.UUID]uuid.UUID // as far as the test knows
	done      int                     // commands that changed something
}

var admin = app.Meta{Actor: app.Admin}

func technician(id uuid.UUID) app.Meta { return app.Meta{Actor: app.Actor{Kind: "technician", ID: id}} }
func customer(id uuid.UUID) app.Meta   { return app.Meta{Actor: app.Actor{Kind: "customer", ID: id}} }

func (h *history) pick(ids []uuid.UUID) uuid.UUID { return ids[h.rng.IntN(len(ids))] }

// run issues a command; a refusal by the domain is part of a random history, anything else
// ends the test.
func (h *history) run(res app.Result, err error) {
	h.t.Helper()
	if err == nil {
		if res.Written {
			h.done++
		}
		return
	}
	var already *request.AlreadyAssignedError
	for _, refusal := range []error{app.ErrNotFound, request.ErrClosed, request.ErrNotAssigned, request.ErrNotAssignee,
		request.ErrNotAvailable, request.ErrSameTechnician, request.ErrTargetNoAccess, request.ErrTargetOffline,
		request.ErrChatNotJoined, request.ErrChatAlreadyJoined, request.ErrChatEnded, request.ErrScreenSharingUnsupported,
		request.ErrScreenSharingPending, request.ErrNoScreenSharingRequest, request.ErrMobileProfilesUnsupported,
		request.ErrFileTypeNotAllowed, directory.ErrNoAccess, directory.ErrAuditorNoAccess, request.ErrAlreadyBreached} {
		if errors.Is(err, refusal) {
			return
		}
	}
	if errors.As(err, &already) {
		return
	}
	h.t.Fatalf("command: %v", err)
}

func (h *history) createCompany(name string) {
	ctx := context.Background()
	id, portal := uuid.New(), uuid.New()
	h.run(h.svc.App.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: id, Name: name}))
	h.run(h.svc.App.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: id, PortalID: portal, Name: "Help " + name}))
	h.companies = append(h.companies, id)
	h.portals[portal] = id
}

func (h *history) registerTechnician(name string) {
	ctx := context.Background()
	id := uuid.New()
	h.run(h.svc.App.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: id, Name: name,
		Email: fmt.Sprintf("t%d@example.com", len(h.techs))}))
	h.techs = append(h.techs, id)
	for _, c := range h.companies {
		if h.rng.IntN(3) > 0 {
			h.run(h.svc.App.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: id, CompanyID: c}))
		}
	}
	h.run(h.svc.App.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: id, Availability: directory.Available}))
}

// registerAuditor registers an auditor granted some of the companies one by one, now and then
// every company.
func (h *history) registerAuditor(name string) {
	ctx := context.Background()
	id := uuid.New()
	h.run(h.svc.App.RegisterAuditor(ctx, admin, app.RegisterAuditor{AuditorID: id, Name: name,
		Email: fmt.Sprintf("a%d@example.com", len(h.auditors))}))
	h.auditors = append(h.auditors, id)
	for _, c := range h.companies {
		if h.rng.IntN(2) == 0 {
			h.run(h.svc.App.GrantAuditorAccess(ctx, admin, app.GrantAuditorAccess{AuditorID: id, CompanyID: c}))
		}
	}
	if h.rng.IntN(4) == 0 {
		h.run(h.svc.App.GrantAuditorAccess(ctx, admin, app.GrantAuditorAccess{AuditorID: id, AllCompanies: true}))
	}
}

// changeAuditor grants or revokes one company, or every company, of a random auditor.
func (h *history) changeAuditor() {
	ctx := context.Background()
	id, company, all := h.pick(h.auditors), h.pick(h.companies), h.rng.IntN(4) == 0
	if all {
		company = uuid.Nil
	}
	if h.rng.IntN(2) == 0 {
		h.run(h.svc.App.GrantAuditorAccess(ctx, admin, app.GrantAuditorAccess{AuditorID: id, CompanyID: company, AllCompanies: all}))
	} else {
		h.run(h.svc.App.RevokeAuditorAccess(ctx, admin, app.RevokeAuditorAccess{AuditorID: id, CompanyID: company, AllCompanies: all}))
	}
}

var (
	customerNames = []string{"Ann", "ann", "Bob", "Zoë", "Émile", "zoë"}
	availability  = []directory.Availability{directory.Available, directory.Available, directory.Busy, directory.Away, directory.Offline}
)

const pngBytes = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"

// step issues one random command: mostly what a request's assignee does, now and then a
// submission, a directory change or a new company or technician.
func (h *history) step() {
	ctx := context.Background()
	a := h.svc.App
	switch x := h.rng.IntN(100); {
	case x < 12 || len(h.requests) == 0:
		var portals []uuid.UUID
		for p := range h.portals {
			portals = append(portals, p)
		}
		slices.SortFunc(portals, func(p, q uuid.UUID) int { return strings.Compare(p.String(), q.String()) })
		id, portal := uuid.New(), h.pick(portals)
		h.requests = append(h.requests, id)
		h.run(a.SubmitRequest(ctx, customer(id), app.SubmitRequest{RequestID: id, PortalID: portal, CompanyID: h.portals[portal],
			Customer:    request.Customer{Name: customerNames[h.rng.IntN(len(customerNames))], Email: fmt.Sprintf("c%d@example.com", h.rng.IntN(5))},
			Description: fmt.Sprintf("Request %d: the printer is on fire", len(h.requests)),
			Source:      request.Source{IP: "192.0.2.1", Platform: request.Platforms[h.rng.IntN(len(request.Platforms))]}}))
	case x < 17:
		h.run(a.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: h.pick(h.techs), Availability: availability[h.rng.IntN(len(availability))]}))
	case x < 20:
		t, c := h.pick(h.techs), h.pick(h.companies)
		if h.rng.IntN(2) == 0 {
			h.run(a.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: t, CompanyID: c}))
		} else {
			h.run(a.RevokeAccess(ctx, admin, app.RevokeAccess{TechnicianID: t, CompanyID: c}))
		}
	case x < 21:
		h.registerTechnician([]string{"Flo", "gus", "Hal"}[h.rng.IntN(3)])
	case x < 22 && len(h.companies) < 5:
		h.createCompany([]string{"Umbrella", "globex"}[h.rng.IntN(2)])
	case x < 25:
		h.changeAuditor()
	case x < 26:
		h.registerAuditor([]string{"Ned", "ida", "Ida"}[h.rng.IntN(3)])
	default:
		r, t := h.pick(h.requests), h.pick(h.techs)
		if assignee, ok := h.assignee[r]; ok && h.rng.IntN(4) > 0 {
			t = assignee
		}
		h.requestCommand(r, t)
	}
}

func (h *history) requestCommand(r, t uuid.UUID) {
	ctx := context.Background()
	a := h.svc.App
	_, assigned := h.assignee[r]
	x := h.rng.IntN(18)
	if !assigned && h.rng.IntN(2) == 0 {
		x = 0
	}
	switch x {
	case 0:
		res, err := a.AssignToMe(ctx, technician(t), r)
		if err == nil {
			h.assignee[r] = t
		}
		h.run(res, err)
	case 1:
		res, err := a.Unassign(ctx, technician(t), r)
		if err == nil {
			delete(h.assignee, r)
		}
		h.run(res, err)
	case 2:
		to := h.pick(h.techs)
		res, err := a.Transfer(ctx, technician(t), r, to)
		if err == nil {
			h.assignee[r] = to
		}
		h.run(res, err)
	case 3, 4:
		h.run(a.JoinChat(ctx, technician(t), r))
	case 5:
		h.run(a.SendTechnicianMessage(ctx, technician(t), r, uuid.New(), "Have you tried turning it off?"))
	case 6:
		h.run(a.SendCustomerMessage(ctx, customer(r), r, uuid.New(), "It is still on fire"))
	case 7:
		h.run(a.AddNote(ctx, technician(t), r, uuid.New(), "Bring an extinguisher"))
	case 8:
		h.run(a.ShareTechnicianFile(ctx, technician(t), app.Upload{RequestID: r, FileID: uuid.New(), Name: "fix.txt", Content: strings.NewReader("do this")}))
	case 9:
		h.run(a.ShareCustomerFile(ctx, customer(r), app.Upload{RequestID: r, FileID: uuid.New(), Name: "shot.png", Content: strings.NewReader(pngBytes)}))
	case 10:
		h.run(a.RequestScreenSharing(ctx, technician(t), r))
	case 11:
		h.run(a.AcceptScreenSharing(ctx, customer(r), r))
	case 12:
		h.run(a.DeclineScreenSharing(ctx, customer(r), r))
	case 13:
		h.run(a.SendMobileProfile(ctx, technician(t), r, "vpn"))
	case 14:
		h.run(a.EndChat(ctx, technician(t), r))
	case 17: // the service-level manager's command
		target := servicelevel.Targets[h.rng.IntN(len(servicelevel.Targets))]
		h.run(a.RecordBreach(ctx, app.Meta{Actor: app.Actor{Kind: "system"}}, app.RecordBreach{RequestID: r, Target: target, DueAt: time.Now(), Goal: time.Minute}))
	case 15, 16:
		if h.rng.IntN(3) == 0 {
			res, err := a.Close(ctx, technician(t), r)
			if err == nil {
				delete(h.assignee, r)
			}
			h.run(res, err)
		}
	}
}

var sorts = []app.SortColumn{app.SortSubmitted, app.SortID, app.SortCustomer, app.SortCompany, app.SortStatus, app.SortAssignee, app.SortLastActivity, app.SortBreach}

// questions are what the test asks at a moment: every view in a few sorts and both
// directions for one technician, their own panel (R4), another technician's queue, a second
// page by cursor, a search, the details of a few requests for a technician, an auditor and
// the customer, and the directory (its auditors as the queries show them and as the read
// model holds them).
func (h *history) questions(ctx context.Context, live *app.Queries) []query {
	var qs []query
	list := func(q app.ListRequests) {
		qs = append(qs, query{name: fmt.Sprintf("list %+v", q), ask: func(ctx context.Context, a side) (any, error) {
			return a.ListRequests(ctx, q)
		}})
	}
	viewer := h.pick(h.techs)
	for _, view := range []app.View{app.ViewAll, app.ViewNew, app.ViewActive, app.ViewCompleted} {
		for range 3 {
			sort := sorts[h.rng.IntN(len(sorts))]
			for _, desc := range []bool{false, true} {
				list(app.ListRequests{TechnicianID: viewer, View: view, Sort: sort, Descending: desc, Limit: 1 + h.rng.IntN(8)})
			}
		}
	}
	list(app.ListRequests{TechnicianID: viewer, MineOnly: true, Sort: sorts[h.rng.IntN(len(sorts))], Limit: 5})
	list(app.ListRequests{TechnicianID: viewer, Assignee: h.pick(h.techs), Sort: sorts[h.rng.IntN(len(sorts))], Descending: h.rng.IntN(2) == 0, Limit: 3})
	list(app.ListRequests{TechnicianID: viewer, Search: []string{"ann", "ZOË", "request 1", "c3@", "fire"}[h.rng.IntN(5)], Sort: app.SortCustomer, Limit: 4})
	// A second page: the cursor the live read model gave for the first.
	first := app.ListRequests{TechnicianID: viewer, Sort: sorts[h.rng.IntN(len(sorts))], Descending: h.rng.IntN(2) == 0, Limit: 2}
	if page, err := live.ListRequests(ctx, first); err == nil && page.NextCursor != "" {
		first.Cursor = page.NextCursor
		list(first)
	}
	for range 3 {
		r := h.pick(h.requests)
		for _, v := range []app.Viewer{{TechnicianID: h.pick(h.techs)}, {AuditorID: h.pick(h.auditors)}, {CustomerOf: r}} {
			qs = append(qs, query{name: fmt.Sprintf("details of %s for %+v", r, v), auditor: v.IsAuditor(), ask: func(ctx context.Context, a side) (any, error) {
				return a.RequestDetails(ctx, v, r)
			}})
		}
	}
	qs = append(qs,
		query{name: "companies", ask: func(ctx context.Context, a side) (any, error) { return a.Companies(ctx) }},
		query{name: "technicians", ask: func(ctx context.Context, a side) (any, error) { return a.Technicians(ctx) }},
		query{name: "auditors", ask: func(ctx context.Context, a side) (any, error) { return a.Auditors(ctx) }},
		query{name: "auditors of the read model", ask: func(ctx context.Context, a side) (any, error) { return a.directory.Auditors(ctx) }},
	)
	for portal := range h.portals {
		qs = append(qs, query{name: "portal " + portal.String(), ask: func(ctx context.Context, a side) (any, error) {
			id, name, err := a.PortalCompany(ctx, portal)
			return []string{id.String(), name}, err
		}})
		break
	}
	return qs
}

// propertySeed is the seed of the random histories: HELPSTREAM_ASOF_SEED repeats a run.
func propertySeed(t *testing.T) uint64 {
	if s := os.Getenv("HELPSTREAM_ASOF_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("HELPSTREAM_ASOF_SEED: %v", err)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// TestSnapshotsAnswerAsTheReadModelsDid is issue 13's property test: a random history runs on
// the whole service (the application on the PostgreSQL store, the projectors live); after each
// step the test waits until the read models caught up, notes the time T and what they answer
// then (lists of every view in random sorts, a technician's panel and another's queue, a
// second page by cursor, a search, details for technicians, auditors and customers, the
// directory with its auditors).
// At the end, for every T, an application on asof.At(T) answers every one of those queries
// exactly as the read models did.
func TestSnapshotsAnswerAsTheReadModelsDid(t *testing.T) {
	seed := propertySeed(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d (run again with HELPSTREAM_ASOF_SEED=%d)", seed, seed)
		}
	})
	ctx := context.Background()
	h := &history{t: t, svc: servicetest.New(t), rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		portals: map[uuid.UUID]uuid.UUID{}, assignee: map[uuid.UUID]uuid.UUID{}}
	for _, name := range []string{"Acme", "acme", "Globex"} {
		h.createCompany(name)
	}
	for _, name := range []string{"Al", "al", "Bo", "Cy"} {
		h.registerTechnician(name)
	}
	for _, name := range []string{"Ida", "ida", "Max"} {
		h.registerAuditor(name)
	}
	live := side{Queries: h.svc.Queries, directory: readmodels.NewDirectory(h.svc.Pool)}
	var moments []moment
	deadline := time.Now().Add(12 * time.Second)
	for step := 0; step < 150 && time.Now().Before(deadline); step++ {
		for range 1 + h.rng.IntN(3) {
			h.step()
		}
		if err := h.svc.CatchUp(ctx, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		m := moment{at: time.Now(), step: step, queries: h.questions(ctx, h.svc.Queries)}
		for _, q := range m.queries {
			m.answers = append(m.answers, answer(q.ask(ctx, live)))
		}
		moments = append(moments, m)
	}
	if len(moments) < 30 {
		t.Fatalf("only %d moments recorded", len(moments))
	}
	// A snapshot reads what the log shows: every commit once each transaction begun before it
	// has ended, anywhere on the server.
	heads := h.svc.Store.(eventlog.HeadReader)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		head, err := heads.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if head.Compare(h.svc.App.Written()) >= 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log shows %s, the history wrote up to %s", head, h.svc.App.Written())
		}
	}
	queries, rows, found, audited := 0, 0, 0, 0
	for _, m := range moments {
		snap, err := asof.At(ctx, h.svc.Store, m.at)
		if err != nil {
			t.Fatal(err)
		}
		cfg := snap.AppConfig()
		cfg.AccessLog = accesslog.New(h.svc.Pool) // an auditor's read is recorded before it is answered
		past, err := app.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range m.queries {
			got := answer(q.ask(ctx, side{Queries: past.Queries(), directory: snap}))
			if got != m.answers[i] {
				t.Fatalf("step %d, as of %s (position %s, %d events), %s:\nthe read model answered %s\nthe snapshot answers    %s",
					m.step, m.at.Format(time.RFC3339Nano), snap.Position(), snap.Events(), q.name, m.answers[i], got)
			}
			queries++
			if strings.Contains(got, `"requests":[{`) {
				rows++
			}
			if strings.HasPrefix(q.name, "details") && !strings.HasPrefix(got, "error") {
				found++
				if q.auditor {
					audited++
				}
			}
		}
	}
	if rows < queries/5 || found == 0 || audited == 0 {
		t.Fatalf("too little to compare: %d of %d answers list rows, %d details found (%d for auditors)", rows, queries, found, audited)
	}
	t.Logf("seed %d: %d moments, %d commands wrote, %d requests; %d answers equal (%d with rows, %d details, %d of them for auditors)",
		seed, len(moments), h.done, len(h.requests), queries, rows, found, audited)
}
