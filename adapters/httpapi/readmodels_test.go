package httpapi_test

// Tests of the API wired like `helpstream serve`: the queries answered from the PostgreSQL read
// models (request list, request details, directory), kept by a projections.Runner that runs for
// the test, read-your-writes through min_position, and the admin's view of the projections.
// Every response still goes through the harness's client, so openapi.yaml must describe it.

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpapi"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service/servicetest"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/directory"
	"github.com/helpstream/helpstream/projections/requestdetails"
	"github.com/helpstream/helpstream/projections/requestlist"
)

// ---- the servers ----

// newReadModelServers starts two servers on one fresh database, each wired like
// `helpstream serve`: the primary runs the projection runner, the replica is a second process
// without projectors (`serve --projectors=false`) that has written nothing itself, so only
// min_position makes it wait for what the primary wrote.
func newReadModelServers(t testing.TB) (primary, replica *env) {
	t.Helper()
	loadSpec(t)
	first := servicetest.New(t, apiConfig)
	second := servicetest.New(t, apiConfig, servicetest.Beside(first))
	return serve(t, first), serve(t, second)
}

// on returns the same caller talking to another server of the deployment.
func (c *client) on(e *env) *client { d := *c; d.e = e; return &d }

// head is the position of the newest event in the log.
func (e *env) head(t testing.TB) string {
	t.Helper()
	var pos string
	err := e.pool.QueryRow(context.Background(),
		`SELECT transaction_id::text || '-' || global_position::text FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1`).Scan(&pos)
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

// behindRetry is how long readAt asks again while the answer says the read models are behind.
// The event store delivers nothing committed after a transaction still open anywhere on the
// PostgreSQL server (other test packages share it), so the runner can lag now and then for
// reasons outside this test; an answer without X-Projection-Behind must then be complete.
const behindRetry = 15 * time.Second

// readAt GETs path with min_position=pos until the answer is not behind.
func (c *client) readAt(t testing.TB, path, pos string) *response {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	deadline := time.Now().Add(behindRetry)
	for {
		res := c.get(t, path+sep+"min_position="+url.QueryEscape(pos))
		if res.Header.Get(httpapi.ProjectionBehindHeader) == "" {
			return res
		}
		if res.Header.Get(httpapi.ProjectionBehindHeader) != "true" {
			t.Fatalf("GET %s: %s: %q", path, httpapi.ProjectionBehindHeader, res.Header.Get(httpapi.ProjectionBehindHeader))
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: the read models never reached %s", path, pos)
		}
		t.Logf("GET %s: read models behind %s, asking again", path, pos)
	}
}

// rmPage is a page of the list as the server types it.
type rmPage struct {
	Requests    []app.RequestSummary `json:"requests"`
	Total       int                  `json:"total"`
	TotalCapped bool                 `json:"total_capped"`
	NextCursor  string               `json:"next_cursor"`
	PrevCursor  string               `json:"prev_cursor"`
}

func (p rmPage) ids() []uuid.UUID { return idsOf(p.Requests) }

func (p rmPage) row(id uuid.UUID) *app.RequestSummary {
	for i := range p.Requests {
		if p.Requests[i].ID == id {
			return &p.Requests[i]
		}
	}
	return nil
}

// listAt lists with the query once the read models include pos.
func (c *client) listAt(t testing.TB, query, pos string) rmPage {
	t.Helper()
	var p rmPage
	c.readAt(t, "/api/v1/requests?"+query, pos).want(t, http.StatusOK).decode(t, &p)
	return p
}

// onlyRowAt lists with the query once the read models include pos and returns the row of
// request id, failing the test (what says where) unless it is the list's one row.
func (c *client) onlyRowAt(t testing.TB, what, query, pos string, id uuid.UUID) app.RequestSummary {
	t.Helper()
	p := c.listAt(t, query, pos)
	r := p.row(id)
	if r == nil || len(p.Requests) != 1 || p.Total != 1 || p.NextCursor != "" {
		t.Fatalf("%s: %s holds %+v, want request %s alone", what, query, p, id)
	}
	return *r
}

// noRowsAt fails the test (what says where) unless the list with the query, once the read
// models include pos, is empty.
func (c *client) noRowsAt(t testing.TB, what, query, pos string) {
	t.Helper()
	if p := c.listAt(t, query, pos); len(p.Requests) != 0 || p.Total != 0 {
		t.Errorf("%s: %s holds %+v, want nothing", what, query, p)
	}
}

// detailsAt reads a request's details once the read models include pos.
func (c *client) detailsAt(t testing.TB, path, pos string) app.RequestDetails {
	t.Helper()
	var d app.RequestDetails
	c.readAt(t, path, pos).want(t, http.StatusOK).decode(t, &d)
	return d
}

// do sends a command and returns its result.
func (c *client) do(t testing.TB, status int, path string, body any) commandResult {
	t.Helper()
	var res commandResult
	c.post(t, path, body).want(t, status).decode(t, &res)
	return res
}

func sameIDs(got, want []uuid.UUID) bool {
	a, b := slices.Clone(got), slices.Clone(want)
	less := func(x, y uuid.UUID) int { return strings.Compare(x.String(), y.String()) }
	slices.SortFunc(a, less)
	slices.SortFunc(b, less)
	return slices.Equal(a, b)
}

func positionAtLeast(t testing.TB, got eventlog.Position, want string) bool {
	t.Helper()
	w, err := eventlog.ParsePosition(want)
	if err != nil {
		t.Fatal(err)
	}
	return got.Compare(w) >= 0
}

func hasAction(d app.RequestDetails, action string) bool {
	return slices.Contains(d.Actions, request.Action(action))
}

// newAcme is the smallest world of the read-model tests: the company Acme with its portal, and
// Alice, an Available technician with access to it.
func newAcme(t testing.TB, e *env) (portal uuid.UUID, alice *client) {
	t.Helper()
	company := e.createCompany(t, "Acme")
	return e.createPortal(t, company, "Acme support"), e.technician(t, "Alice Tech", company)
}

// ---- the main flow ----

// TestReadModelsMainFlow walks a request from submission to close and reads every step from
// the read models, on the server that wrote it and on a replica that only min_position makes
// wait: the list's views, and the details (status, assignee, chat, actions) as the technician
// and as the customer, who never sees the private note.
func TestReadModelsMainFlow(t *testing.T) {
	t.Parallel()
	e, replica := newReadModelServers(t)
	portal, alice := newAcme(t, e)

	sub := e.submission(t, portal, uaMac)
	id := sub.RequestID
	customer := &client{e: e, bearer: sub.CustomerToken}
	servers := []struct {
		name string
		e    *env
	}{{"primary", e}, {"replica", replica}}

	// Submitted: New, unassigned.
	for _, s := range servers {
		tech, cust := alice.on(s.e), customer.on(s.e)
		r := tech.onlyRowAt(t, s.name+" after submit", "view=new", sub.Position, id)
		if r.Status != "new" || r.Assignee != nil || r.CompanyName != "Acme" || r.CustomerName != "Ada Customer" ||
			r.CustomerEmail != "ada@example.com" || r.Description != "My printer is on fire" || r.Platform != "mac" ||
			r.AssignedAt != nil || r.ClosedAt != nil || r.Messages != 0 || r.Files != 0 {
			t.Errorf("%s: new row %+v", s.name, r)
		}
		tech.noRowsAt(t, s.name+" after submit", "view=active", sub.Position)
		d := tech.detailsAt(t, reqPath(id), sub.Position)
		if d.Status != "new" || d.Assignee != nil || d.Chat != "not_joined" || d.Version != sub.Version ||
			!positionAtLeast(t, d.Position, sub.Position) || d.CompanyName != "Acme" || d.Source.Platform != "mac" {
			t.Errorf("%s: details after submit: %+v", s.name, d)
		}
		if !hasAction(d, "assign") || hasAction(d, "join_chat") || hasAction(d, "close") {
			t.Errorf("%s: actions after submit: %v", s.name, d.Actions)
		}
		if cd := cust.detailsAt(t, custPath(id), sub.Position); cd.Status != "new" || cd.Customer.Email != "ada@example.com" {
			t.Errorf("%s: customer's details after submit: %+v", s.name, cd)
		}
	}

	// Assigned: Active, Alice's.
	assigned := alice.do(t, http.StatusOK, reqPath(id, "assign"), nil)
	for _, s := range servers {
		tech := alice.on(s.e)
		r := tech.onlyRowAt(t, s.name+" after assign", "view=active", assigned.Position, id)
		if r.Status != "active" || r.Assignee == nil || r.Assignee.ID != alice.id || r.Assignee.Name != "Alice Tech" || r.AssignedAt == nil {
			t.Fatalf("%s: view active after assign: %+v", s.name, r)
		}
		tech.noRowsAt(t, s.name+" after assign", "view=new", assigned.Position)
		if p := tech.listAt(t, "mine=true", assigned.Position); !slices.Equal(p.ids(), []uuid.UUID{id}) {
			t.Errorf("%s: mine after assign: %+v", s.name, p)
		}
		d := tech.detailsAt(t, reqPath(id), assigned.Position)
		if d.Status != "active" || d.Assignee == nil || d.Assignee.ID != alice.id || d.Assignee.Name != "Alice Tech" || d.Version != assigned.Version {
			t.Errorf("%s: details after assign: %+v", s.name, d)
		}
		if hasAction(d, "assign") || !hasAction(d, "join_chat") || !hasAction(d, "close") || hasAction(d, "send_message") {
			t.Errorf("%s: actions after assign: %v", s.name, d.Actions)
		}
	}

	// Joined: the chat is open on both sides.
	joined := alice.do(t, http.StatusOK, reqPath(id, "join"), nil)
	for _, s := range servers {
		d := alice.on(s.e).detailsAt(t, reqPath(id), joined.Position)
		if d.Chat != "joined" || d.Version != joined.Version || hasAction(d, "join_chat") || !hasAction(d, "send_message") || !hasAction(d, "end_chat") {
			t.Errorf("%s: details after join: chat %s, version %d, actions %v", s.name, d.Chat, d.Version, d.Actions)
		}
		if !slices.ContainsFunc(d.Entries, func(en app.Entry) bool { return en.Kind == "event" && en.Event == "request.chat_joined.v1" }) {
			t.Errorf("%s: no chat_joined entry: %+v", s.name, d.Entries)
		}
		cd := customer.on(s.e).detailsAt(t, custPath(id), joined.Position)
		if cd.Chat != "joined" || cd.Assignee == nil || cd.Assignee.Name != "Alice Tech" || !hasAction(cd, "send_message") {
			t.Errorf("%s: customer's details after join: %+v", s.name, cd)
		}
	}

	// They chat; Alice adds a private note.
	customer.do(t, http.StatusCreated, custPath(id, "messages"), map[string]any{"body": "Hello, it smokes"})
	alice.do(t, http.StatusCreated, reqPath(id, "messages"), map[string]any{"body": "Unplug it <now>"})
	noted := alice.do(t, http.StatusCreated, reqPath(id, "notes"), map[string]any{"body": "customer seems calm"})
	for _, s := range servers {
		d := alice.on(s.e).detailsAt(t, reqPath(id), noted.Position)
		var chat []string
		for _, en := range d.Entries {
			switch en.Kind {
			case "message":
				chat = append(chat, string(en.From)+": "+en.Body)
			case "note":
				chat = append(chat, "note: "+en.Body)
				if en.Technician == nil || en.Technician.ID != alice.id || en.Technician.Name != "Alice Tech" {
					t.Errorf("%s: note by %+v", s.name, en.Technician)
				}
			}
		}
		want := []string{"customer: Hello, it smokes", "technician: Unplug it <now>", "note: customer seems calm"}
		if !slices.Equal(chat, want) || d.Version != noted.Version {
			t.Errorf("%s: technician's chat %q (version %d), want %q", s.name, chat, d.Version, want)
		}
		cd := customer.on(s.e).detailsAt(t, custPath(id), noted.Position)
		messages := 0
		for _, en := range cd.Entries {
			if en.Kind == "note" || strings.Contains(en.Body, "calm") {
				t.Errorf("%s: the customer sees the note: %+v", s.name, en)
			}
			if en.Kind == "message" {
				messages++
			}
		}
		if messages != 2 {
			t.Errorf("%s: the customer sees %d messages: %+v", s.name, messages, cd.Entries)
		}
		p := alice.on(s.e).listAt(t, "view=active", noted.Position)
		if r := p.row(id); r == nil || r.Messages != 2 || !r.LastActivity.After(r.SubmittedAt) {
			t.Errorf("%s: row after the chat: %+v", s.name, r)
		}
		// A note is no part of what a search looks into.
		alice.on(s.e).noRowsAt(t, s.name+": a search for the note", "q=calm", noted.Position)
	}

	// Closed (the chat ends with it): Completed, nothing left to do.
	closed := alice.do(t, http.StatusOK, reqPath(id, "close"), nil)
	for _, s := range servers {
		tech := alice.on(s.e)
		r := tech.onlyRowAt(t, s.name+" after close", "view=completed", closed.Position, id)
		if r.Status != "completed" || r.ClosedAt == nil || r.Assignee == nil || r.Assignee.ID != alice.id {
			t.Fatalf("%s: view completed after close: %+v", s.name, r)
		}
		for _, q := range []string{"view=active", "view=new", "mine=true"} {
			tech.noRowsAt(t, s.name+" after close", q, closed.Position)
		}
		if p := tech.listAt(t, "view=all", closed.Position); !slices.Equal(p.ids(), []uuid.UUID{id}) || p.Total != 1 {
			t.Errorf("%s: view all after close: %+v", s.name, p)
		}
		d := tech.detailsAt(t, reqPath(id), closed.Position)
		if d.Status != "completed" || d.Chat != "ended" || len(d.Actions) != 0 || d.Version != closed.Version {
			t.Errorf("%s: details after close: status %s, chat %s, actions %v, version %d", s.name, d.Status, d.Chat, d.Actions, d.Version)
		}
		cd := customer.on(s.e).detailsAt(t, custPath(id), closed.Position)
		if cd.Status != "completed" || len(cd.Actions) != 0 {
			t.Errorf("%s: customer's details after close: status %s, actions %v", s.name, cd.Status, cd.Actions)
		}
		for _, en := range cd.Entries {
			if en.Kind == "note" {
				t.Errorf("%s: the customer sees the note after close", s.name)
			}
		}
	}
}

// ---- a list to page, search and filter ----

// listWorld is seven requests in two companies, in every status, for two technicians with access
// to both; and a third company with one request and a technician of its own.
type listWorld struct {
	acme, globex, initech   uuid.UUID
	pat, zed, olga          *client
	rows                    []listRow // the seven requests of Acme and Globex
	initechReq              uuid.UUID
	pos                     string // the log's head once everything is written
	newIDs, active, closed  []uuid.UUID
	patOpen, zedOpen, allAG []uuid.UUID
}

type listRow struct {
	id                       uuid.UUID
	company                  uuid.UUID
	name, email, description string
}

func newListWorld(t testing.TB, e *env) *listWorld {
	t.Helper()
	w := &listWorld{}
	w.acme = e.createCompany(t, "Acme")
	w.globex = e.createCompany(t, "Globex")
	w.initech = e.createCompany(t, "Initech")
	portals := map[uuid.UUID]uuid.UUID{
		w.acme: e.createPortal(t, w.acme, "Acme support"), w.globex: e.createPortal(t, w.globex, "Globex help"),
		w.initech: e.createPortal(t, w.initech, "Initech desk"),
	}
	w.pat = e.technician(t, "Pat Pager", w.acme, w.globex)
	w.zed = e.technician(t, "Zed Helper", w.acme, w.globex)
	w.olga = e.technician(t, "Olga Outsider", w.initech)
	submit := func(company uuid.UUID, ua, name, email, description string) uuid.UUID {
		var s submission
		e.anonymous().with(ua).post(t, "/api/v1/portals/"+portals[company].String()+"/requests", map[string]any{
			"customer_name": name, "customer_email": email, "description": description,
		}).want(t, http.StatusCreated).decode(t, &s)
		return s.RequestID
	}
	for _, r := range []struct {
		company                  uuid.UUID
		ua                       string
		name, email, description string
	}{
		{w.acme, uaWindows, "Ada Lovelace", "ada@lovelace.example", "Printer on fire"},
		{w.globex, uaMac, "ada lovelace", "ada2@lovelace.example", "Screen is black"}, // same sort key as the first
		{w.acme, uaIOS, "Bob Stone", "bob@stone.example", "Printer jams"},
		{w.globex, uaAndroid, "Carla Diaz", "carla@diaz.example", "100% broken keyboard"},
		{w.acme, uaWindows, "Émile Zola", "emile@zola.example", "Mouse lost"},
		{w.globex, uaMac, "Mia Wong", "mia@wong.example", "VPN drops"},
		{w.acme, uaIOS, "zed Young", "young@zed.example", "Printer driver missing"},
	} {
		id := submit(r.company, r.ua, r.name, r.email, r.description)
		w.rows = append(w.rows, listRow{id: id, company: r.company, name: r.name, email: r.email, description: r.description})
		w.allAG = append(w.allAG, id)
	}
	w.initechReq = submit(w.initech, uaWindows, "Ada Initech", "ada@initech.example", "Printer on fire too")
	id := func(i int) uuid.UUID { return w.rows[i].id }
	// 0, 1 stay New; 2, 3 (Pat) and 4 (Zed) are Active; 5 (Zed) and 6 (Pat) are Completed.
	w.pat.do(t, http.StatusOK, reqPath(id(2), "assign"), nil)
	w.pat.do(t, http.StatusOK, reqPath(id(3), "assign"), nil)
	w.pat.do(t, http.StatusOK, reqPath(id(3), "join"), nil)
	w.pat.do(t, http.StatusCreated, reqPath(id(3), "messages"), map[string]any{"body": "On it"})
	w.zed.do(t, http.StatusOK, reqPath(id(4), "assign"), nil)
	w.zed.do(t, http.StatusOK, reqPath(id(5), "assign"), nil)
	w.zed.do(t, http.StatusOK, reqPath(id(5), "close"), nil)
	w.pat.do(t, http.StatusOK, reqPath(id(6), "assign"), nil)
	w.pat.do(t, http.StatusOK, reqPath(id(6), "close"), nil)
	w.newIDs = []uuid.UUID{id(0), id(1)}
	w.active = []uuid.UUID{id(2), id(3), id(4)}
	w.closed = []uuid.UUID{id(5), id(6)}
	w.patOpen = []uuid.UUID{id(2), id(3)}
	w.zedOpen = []uuid.UUID{id(4)}
	w.pos = e.head(t)
	return w
}

// matching returns the requests of Acme and Globex whose search document contains term, among ids.
func (w *listWorld) matching(term string, ids []uuid.UUID) []uuid.UUID {
	var out []uuid.UUID
	for _, r := range w.rows {
		if slices.Contains(ids, r.id) && strings.Contains(request.SearchDocument(r.name, r.email, r.description), request.SearchKey(term)) {
			out = append(out, r.id)
		}
	}
	return out
}

func (w *listWorld) ofCompany(company uuid.UUID) []uuid.UUID {
	var out []uuid.UUID
	for _, r := range w.rows {
		if r.company == company {
			out = append(out, r.id)
		}
	}
	return out
}

// compareRows is the list's order (R3): the column, then the ID.
func compareRows(col app.SortColumn, x, y app.RequestSummary) int {
	var o int
	switch col {
	case app.SortSubmitted:
		o = x.SubmittedAt.Compare(y.SubmittedAt)
	case app.SortLastActivity:
		o = x.LastActivity.Compare(y.LastActivity)
	case app.SortID:
	default:
		o = strings.Compare(app.SortKey(col, x), app.SortKey(col, y))
	}
	if o == 0 {
		o = strings.Compare(x.ID.String(), y.ID.String())
	}
	return o
}

// pageAll follows next_cursor, from the page after cursor (from the first page when cursor is
// empty), until it is absent, checking each page, and returns every row in the order received.
func (c *client) pageAll(t testing.TB, query string, limit int, pos, cursor string) []app.RequestSummary {
	t.Helper()
	var rows []app.RequestSummary
	page := func(cursor string) rmPage {
		q := query + "&limit=" + strconv.Itoa(limit)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		return c.listAt(t, q, pos)
	}
	p := page(cursor)
	total := p.Total
	if cursor != "" {
		total = -1 // the total counts the rows before the cursor too
	}
	for pages := 1; ; pages++ {
		if total >= 0 && p.Total != total {
			t.Errorf("%s: total %d on page %d, %d on the first", query, p.Total, pages, total)
		}
		if len(p.Requests) > limit || (p.NextCursor != "" && len(p.Requests) != limit) {
			t.Errorf("%s: page %d holds %d rows (limit %d, next cursor %q)", query, pages, len(p.Requests), limit, p.NextCursor)
		}
		rows = append(rows, p.Requests...)
		if p.NextCursor == "" {
			break
		}
		if pages > 20 {
			t.Fatalf("%s: more than 20 pages", query)
		}
		p = page(p.NextCursor)
	}
	if total >= 0 && len(rows) != total {
		t.Errorf("%s: %d rows over the pages, total %d", query, len(rows), total)
	}
	return rows
}

func idsOf(rows []app.RequestSummary) []uuid.UUID {
	out := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// TestReadModelsKeysetPaging follows next_cursor through the list in every sort and both
// orders: every request comes exactly once, in order, with ties on the column broken by ID; a
// cursor that is not the server's, or not for this sort and order, answers 422, and so does an
// offset above 0.
func TestReadModelsKeysetPaging(t *testing.T) {
	t.Parallel()
	e, _ := newReadModelServers(t)
	w := newListWorld(t, e)

	sorts := []app.SortColumn{app.SortSubmitted, app.SortID, app.SortCustomer, app.SortCompany, app.SortStatus, app.SortAssignee, app.SortLastActivity, app.SortBreach}
	for _, sort := range sorts {
		for _, order := range []string{"asc", "desc"} {
			query := "sort=" + string(sort) + "&order=" + order
			whole := w.pat.listAt(t, query+"&limit=200", w.pos)
			if !sameIDs(whole.ids(), w.allAG) || whole.Total != len(w.allAG) || whole.NextCursor != "" {
				t.Fatalf("%s: one page holds %v (total %d, cursor %q), want the seven requests", query, whole.ids(), whole.Total, whole.NextCursor)
			}
			for i := 1; i < len(whole.Requests); i++ {
				o := compareRows(sort, whole.Requests[i-1], whole.Requests[i])
				if order == "desc" {
					o = -o
				}
				if o >= 0 {
					t.Errorf("%s: row %d (%+v) before row %d (%+v)", query, i-1, whole.Requests[i-1], i, whole.Requests[i])
				}
			}
			limits := []int{3}
			if sort == app.SortCustomer || sort == app.SortStatus || sort == app.SortAssignee || sort == app.SortBreach {
				limits = []int{1, 2, 3} // page boundaries inside runs of equal keys
			}
			for _, limit := range limits {
				paged := idsOf(w.pat.pageAll(t, query, limit, w.pos, ""))
				if !slices.Equal(paged, whole.ids()) {
					t.Errorf("%s, limit %d: pages hold %v, want %v", query, limit, paged, whole.ids())
				}
			}
		}
	}

	// Paging within a view and a search.
	for _, c := range []struct {
		query string
		want  []uuid.UUID
	}{
		{"view=active&sort=assignee&order=desc", w.active},
		{"view=new&sort=customer", w.newIDs},
		{"view=completed&sort=last_activity&order=desc", w.closed},
		{"q=printer&sort=company", w.matching("printer", w.allAG)},
		{"company=" + w.globex.String() + "&sort=status", w.ofCompany(w.globex)},
	} {
		if got := idsOf(w.pat.pageAll(t, c.query, 1, w.pos, "")); !sameIDs(got, c.want) || len(got) != len(c.want) {
			t.Errorf("%s: pages hold %v, want %v", c.query, got, c.want)
		}
	}

	// Cursors the server did not issue, or issued for another sort or order.
	first := w.pat.listAt(t, "sort=customer&limit=3", w.pos)
	if first.NextCursor == "" {
		t.Fatalf("no next cursor: %+v", first)
	}
	forged := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
	someID := uuid.NewString()
	for _, c := range []struct{ name, query string }{
		{"not base64", "sort=customer&limit=3&cursor=" + url.QueryEscape("not a cursor!")},
		{"truncated", "sort=customer&limit=3&cursor=" + first.NextCursor[:len(first.NextCursor)-5]},
		{"another sort", "sort=submitted&limit=3&cursor=" + first.NextCursor},
		{"another order", "sort=customer&order=desc&limit=3&cursor=" + first.NextCursor},
		{"no ID", "sort=customer&limit=3&cursor=" + forged(`{"s":"customer","k":"bob"}`)},
		{"unknown sort", "sort=customer&limit=3&cursor=" + forged(`{"s":"nope","k":"bob","i":"`+someID+`"}`)},
		{"not a time", "limit=3&cursor=" + forged(`{"s":"submitted","k":"yesterday","i":"`+someID+`"}`)},
		{"not JSON", "sort=customer&limit=3&cursor=" + forged(`customer,bob`)},
		{"cursor and offset", "sort=customer&limit=3&offset=3&cursor=" + first.NextCursor},
		{"offset", "limit=3&offset=3"},
		{"offset, first page of a view", "view=active&limit=1&offset=1"},
	} {
		w.pat.readAt(t, "/api/v1/requests?"+c.query, w.pos).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	}
	// Offset 0 is the first page, as without it.
	if p := w.pat.listAt(t, "sort=customer&limit=3&offset=0", w.pos); !slices.Equal(p.ids(), first.ids()) || p.NextCursor != first.NextCursor {
		t.Errorf("offset=0: %v, want %v", p.ids(), first.ids())
	}
	// A cursor forged on a row that sorts where no row is still pages from there.
	last := first.Requests[len(first.Requests)-1]
	cursor := forged(`{"s":"customer","k":"` + app.SortKey(app.SortCustomer, last) + `","i":"` + last.ID.String() + `"}`)
	rest := idsOf(w.pat.pageAll(t, "sort=customer", 3, w.pos, cursor))
	whole := w.pat.listAt(t, "sort=customer", w.pos)
	if !slices.Equal(rest, whole.ids()[3:]) {
		t.Errorf("pages after a forged cursor: %v, want %v", rest, whole.ids()[3:])
	}
}

// TestReadModelsPagingBack: a page's prev_cursor, passed as before, gives the page before it, in
// every sort and order, page boundaries inside runs of equal keys included, back to the first
// page, which has no prev_cursor; before is refused with cursor, with as_of, and when it was
// issued for another sort or order.
func TestReadModelsPagingBack(t *testing.T) {
	t.Parallel()
	e, _ := newReadModelServers(t)
	w := newListWorld(t, e)
	sorts := []app.SortColumn{app.SortSubmitted, app.SortID, app.SortCustomer, app.SortCompany, app.SortStatus, app.SortAssignee, app.SortLastActivity, app.SortBreach}
	for _, sort := range sorts {
		for _, order := range []string{"asc", "desc"} {
			query := "sort=" + string(sort) + "&order=" + order + "&limit=2"
			var forward []rmPage
			for p := w.pat.listAt(t, query, w.pos); ; p = w.pat.listAt(t, query+"&cursor="+url.QueryEscape(p.NextCursor), w.pos) {
				forward = append(forward, p)
				if p.NextCursor == "" {
					break
				}
			}
			if forward[0].PrevCursor != "" {
				t.Errorf("%s: the first page has a prev_cursor", query)
			}
			if len(forward) < 3 {
				t.Fatalf("%s: %d pages, want at least 3 to page back over", query, len(forward))
			}
			for k := len(forward) - 1; k > 0; k-- {
				if forward[k].PrevCursor == "" {
					t.Fatalf("%s: page %d has no prev_cursor", query, k)
				}
				back := w.pat.listAt(t, query+"&before="+url.QueryEscape(forward[k].PrevCursor), w.pos)
				if !slices.Equal(back.ids(), forward[k-1].ids()) || back.Total != forward[k-1].Total {
					t.Errorf("%s: the page before page %d holds %v (total %d), want %v (total %d)", query, k, back.ids(), back.Total, forward[k-1].ids(), forward[k-1].Total)
				}
				if (k-1 == 0) != (back.PrevCursor == "") {
					t.Errorf("%s: the page before page %d has prev_cursor %q", query, k, back.PrevCursor)
				}
			}
		}
	}
	second := w.pat.listAt(t, "sort=customer&limit=2", w.pos)
	second = w.pat.listAt(t, "sort=customer&limit=2&cursor="+url.QueryEscape(second.NextCursor), w.pos)
	before := url.QueryEscape(second.PrevCursor)
	for _, c := range []struct{ name, query string }{
		{"before and cursor", "sort=customer&limit=2&before=" + before + "&cursor=" + url.QueryEscape(second.NextCursor)},
		{"another sort", "sort=submitted&limit=2&before=" + before},
		{"another order", "sort=customer&order=desc&limit=2&before=" + before},
		{"not a cursor", "sort=customer&limit=2&before=" + url.QueryEscape("not a cursor!")},
		{"a past list", "sort=customer&limit=2&as_of=" + url.QueryEscape(time.Now().UTC().Format(time.RFC3339Nano)) + "&before=" + before},
	} {
		w.pat.readAt(t, "/api/v1/requests?"+c.query, w.pos).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	}
}

// TestReadModelsSearchFiltersAndVisibility: q= looks into the customer's name, e-mail and the
// description; company= and assignee= narrow the list; R2: a technician never sees the rows of a
// company they have no access to, in any view, order or search, and while not Available sees no
// New rows.
func TestReadModelsSearchFiltersAndVisibility(t *testing.T) {
	t.Parallel()
	e, replica := newReadModelServers(t)
	w := newListWorld(t, e)
	pat, olga := w.pat, w.olga

	listsAt := func(c *client, query, pos string, want []uuid.UUID) {
		t.Helper()
		p := c.listAt(t, query, pos)
		if !sameIDs(p.ids(), want) || p.Total != len(want) || p.NextCursor != "" {
			t.Errorf("%s lists %s: %v (total %d), want %v", c.name, query, p.ids(), p.Total, want)
		}
	}
	lists := func(c *client, query string, want []uuid.UUID) {
		t.Helper()
		listsAt(c, query, w.pos, want)
	}

	// Search.
	for _, c := range []struct {
		query, term string
		among       []uuid.UUID
	}{
		{"q=LOVELACE", "lovelace", w.allAG},         // names and e-mails, ignoring case
		{"q=diaz.example", "diaz.example", w.allAG}, // an e-mail
		{"q=printer", "printer", w.allAG},           // descriptions
		{"q=%C3%89MILE", "émile", w.allAG},          // not only ASCII
		{"q=%25", "%", w.allAG},                     // LIKE's wildcards are text
		{"q=_", "_", w.allAG},
		{"q=ada%20lovelace", "ada lovelace", w.allAG},
		{"q=nothing-like-it", "nothing-like-it", nil},
		{"q=printer&view=new", "printer", w.newIDs}, // with a view
		{"q=printer&view=completed", "printer", w.closed},
		{"q=printer&company=" + w.acme.String(), "printer", w.ofCompany(w.acme)},
		{"q=a&assignee=" + pat.id.String(), "a", w.patOpen},
		{"q=a&mine=true", "a", w.patOpen},
	} {
		want := w.matching(c.term, c.among)
		if c.term == "printer" && len(want) == 0 || c.term == "%" && len(want) != 1 {
			t.Fatalf("fixture: %s matches %v", c.term, want)
		}
		lists(pat, c.query, want)
	}
	// A search pages like the rest.
	if got := idsOf(pat.pageAll(t, "q=a&sort=customer&order=desc", 2, w.pos, "")); !slices.Equal(got, pat.listAt(t, "q=a&sort=customer&order=desc", w.pos).ids()) {
		t.Errorf("q=a in pages of 2: %v", got)
	}
	for _, q := range []string{"q=", "q=%0A", "q=a%00b", "q=" + strings.Repeat("x", 201)} {
		pat.readAt(t, "/api/v1/requests?"+q, w.pos).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	}

	// Filters.
	lists(pat, "company="+w.acme.String(), w.ofCompany(w.acme))
	lists(pat, "company="+w.globex.String()+"&view=active", []uuid.UUID{w.rows[3].id})
	lists(pat, "company="+w.initech.String(), nil) // no access: nothing, not 404
	lists(pat, "company="+uuid.NewString(), nil)
	lists(pat, "assignee="+pat.id.String(), w.patOpen) // open requests only
	lists(pat, "assignee="+w.zed.id.String(), w.zedOpen)
	lists(pat, "assignee="+w.zed.id.String()+"&view=completed", nil)
	lists(pat, "assignee="+olga.id.String(), nil)
	lists(pat, "mine=true", w.patOpen)
	lists(w.zed, "mine=true", w.zedOpen)
	lists(pat, "mine=true&assignee="+pat.id.String(), w.patOpen)
	pat.readAt(t, "/api/v1/requests?mine=true&assignee="+w.zed.id.String(), w.pos).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	pat.readAt(t, "/api/v1/requests?company=acme", w.pos).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	pat.readAt(t, "/api/v1/requests?assignee=pat", w.pos).wantErr(t, http.StatusUnprocessableEntity, "invalid")

	// R2: Olga serves Initech only; Pat serves Acme and Globex only. On both servers, in every
	// view and order, and whatever they search or filter, neither sees the other's rows.
	sorts := []string{"submitted", "id", "customer", "company", "status", "assignee", "last_activity"}
	for _, srv := range []*env{e, replica} {
		o, p := olga.on(srv), pat.on(srv)
		for _, view := range []string{"all", "new", "active", "completed"} {
			for _, sort := range sorts {
				for _, order := range []string{"asc", "desc"} {
					q := "view=" + view + "&sort=" + sort + "&order=" + order
					var want []uuid.UUID
					if view == "all" || view == "new" {
						want = []uuid.UUID{w.initechReq}
					}
					if got := o.listAt(t, q, w.pos); !sameIDs(got.ids(), want) || got.Total != len(want) {
						t.Errorf("olga lists %s: %v (total %d)", q, got.ids(), got.Total)
					}
					if got := p.listAt(t, q+"&limit=200", w.pos); slices.Contains(got.ids(), w.initechReq) {
						t.Errorf("pat lists Initech's request in %s", q)
					}
				}
			}
		}
		for _, q := range []string{"q=lovelace", "q=example", "q=printer", "q=a", "q=ada&view=new", "company=" + w.acme.String(),
			"company=" + w.globex.String(), "assignee=" + pat.id.String(), "assignee=" + w.zed.id.String(), "mine=true"} {
			got := o.listAt(t, q, w.pos)
			for _, r := range got.Requests {
				if r.ID != w.initechReq || r.CompanyID != w.initech {
					t.Errorf("olga lists %s: %+v", q, r)
				}
			}
			if got := p.listAt(t, q, w.pos); slices.Contains(got.ids(), w.initechReq) {
				t.Errorf("pat lists Initech's request for %s", q)
			}
		}
		lists(o, "q=initech", []uuid.UUID{w.initechReq})
		lists(p, "q=initech", nil)
		for _, r := range w.rows {
			o.readAt(t, reqPath(r.id), w.pos).wantErr(t, http.StatusNotFound, "not_found")
		}
		p.readAt(t, reqPath(w.initechReq), w.pos).wantErr(t, http.StatusNotFound, "not_found")
	}

	// Access granted, then revoked: the rows come and go with it (the directory read model).
	var granted commandResult
	e.admin().post(t, "/api/v1/admin/technicians/"+pat.id.String()+"/access", map[string]any{"company_id": w.initech.String()}).want(t, http.StatusOK).decode(t, &granted)
	for _, srv := range []*env{e, replica} {
		if got := pat.on(srv).listAt(t, "q=ada", granted.Position); !slices.Contains(got.ids(), w.initechReq) {
			t.Errorf("pat does not list Initech's request once granted: %v", got.ids())
		}
		pat.on(srv).readAt(t, reqPath(w.initechReq), granted.Position).want(t, http.StatusOK)
	}
	var revoked commandResult
	e.admin().raw(t, http.MethodDelete, "/api/v1/admin/technicians/"+pat.id.String()+"/access/"+w.initech.String(), nil).want(t, http.StatusOK).decode(t, &revoked)
	pat = e.relogin(t, pat) // the revocation ended pat's sessions
	for _, srv := range []*env{e, replica} {
		listsAt(pat.on(srv), "q=initech", revoked.Position, nil)
		listsAt(pat.on(srv), "view=new", revoked.Position, w.newIDs)
		pat.on(srv).readAt(t, reqPath(w.initechReq), revoked.Position).wantErr(t, http.StatusNotFound, "not_found")
	}

	// R2: New requests only while Available.
	openOrDone := append(slices.Clone(w.active), w.closed...)
	openOrDoneOf := func(ids []uuid.UUID) []uuid.UUID {
		var out []uuid.UUID
		for _, id := range ids {
			if slices.Contains(openOrDone, id) {
				out = append(out, id)
			}
		}
		return out
	}
	for _, availability := range []string{"away", "busy"} {
		var set commandResult
		pat.json(t, http.MethodPut, "/api/v1/me/availability", map[string]any{"availability": availability}).want(t, http.StatusOK).decode(t, &set)
		for _, srv := range []*env{e, replica} {
			for _, c := range []struct {
				query string
				want  []uuid.UUID
			}{
				{"view=new", nil},
				{"view=all", openOrDone},
				{"view=all&sort=status&order=desc", openOrDone},
				{"q=lovelace", nil},
				{"q=printer", w.matching("printer", openOrDone)},
				{"q=ada&view=new", nil},
				{"company=" + w.acme.String(), openOrDoneOf(w.ofCompany(w.acme))},
			} {
				got := pat.on(srv).listAt(t, c.query, set.Position)
				if !sameIDs(got.ids(), c.want) || got.Total != len(c.want) {
					t.Errorf("%s pat lists %s: %v (total %d), want %v", availability, c.query, got.ids(), got.Total, c.want)
				}
				for _, r := range got.Requests {
					if r.Status == "new" {
						t.Errorf("%s pat lists a New request for %s", availability, c.query)
					}
				}
			}
		}
	}
	var back commandResult
	pat.json(t, http.MethodPut, "/api/v1/me/availability", map[string]any{"availability": "available"}).want(t, http.StatusOK).decode(t, &back)
	if got := pat.on(replica).listAt(t, "view=new", back.Position); !sameIDs(got.ids(), w.newIDs) {
		t.Errorf("available again, pat lists %v as new, want %v", got.ids(), w.newIDs)
	}
}

// TestReadModelsMinPosition: a position the read models will not reach in time answers, after
// the bounded wait (about 2 s), what they hold with X-Projection-Behind: true; a reached one
// answers without it; one that is not a position answers 422.
func TestReadModelsMinPosition(t *testing.T) {
	t.Parallel()
	e, replica := newReadModelServers(t)
	portal, tech := newAcme(t, e)
	sub := e.submission(t, portal, uaWindows)
	customer := &client{e: e, bearer: sub.CustomerToken}

	const future = "999999999-999999999"
	if head := mustPosition(t, e.head(t)); head.Compare(mustPosition(t, future)) >= 0 {
		t.Fatalf("the log's head %s is not before %s", head, future)
	}
	reads := []struct {
		name string
		who  *client
		path string
	}{
		{"list", tech, "/api/v1/requests?view=new&min_position="},
		{"details", tech, reqPath(sub.RequestID) + "?min_position="},
		{"customer's details", customer, custPath(sub.RequestID) + "?min_position="},
		{"replica's list", tech.on(replica), "/api/v1/requests?min_position="},
	}
	// The four reads wait side by side (goroutines, not parallel subtests, so that the waits
	// hold no slot of -parallel); their answers are checked against the document here.
	type answer struct {
		req  *http.Request
		res  *response
		took time.Duration
		err  error
	}
	answers := make([]answer, len(reads))
	var wg sync.WaitGroup
	for i, r := range reads {
		req := r.who.newRequest(t, http.MethodGet, r.path+future, nil, "", nil)
		wg.Go(func() {
			start := time.Now()
			res, err := r.who.e.hc.Do(req)
			a := answer{req: req, err: err}
			if err == nil {
				body, readErr := io.ReadAll(res.Body)
				res.Body.Close()
				a.res, a.err = &response{Status: res.StatusCode, Header: res.Header, Body: body}, readErr
			}
			a.took = time.Since(start)
			answers[i] = a
		})
	}
	wg.Wait()
	for i, a := range answers {
		path := reads[i].path + future
		if a.err != nil {
			t.Fatalf("GET %s: %v", path, a.err)
		}
		if err := checkResponse(a.req, a.res); err != nil {
			t.Errorf("GET %s → %s\ndoes not match openapi.yaml: %v", path, truncate(a.res.String()), err)
		}
		a.res.want(t, http.StatusOK)
		if got := a.res.Header.Get(httpapi.ProjectionBehindHeader); got != "true" {
			t.Errorf("%s: %s %q, want true", path, httpapi.ProjectionBehindHeader, got)
		}
		if a.took > 3500*time.Millisecond { // the wait is bounded by app.MaxProjectionWait (2 s)
			t.Errorf("%s answered after %s", path, a.took)
		}
		if a.took < app.MaxProjectionWait/2 {
			t.Errorf("%s answered after %s: it did not wait", path, a.took)
		}
		// The answer is what the read models hold.
		if strings.HasPrefix(path, "/api/v1/requests?") {
			var p rmPage
			a.res.decode(t, &p)
			if len(p.Requests) != 1 || p.Requests[0].ID != sub.RequestID {
				t.Errorf("%s: %+v", path, p)
			}
		} else {
			var d app.RequestDetails
			a.res.decode(t, &d)
			if d.ID != sub.RequestID || d.Status != "new" {
				t.Errorf("%s: %+v", path, d)
			}
		}
	}

	// A position reached: no header (readAt asks until there is none, and fails after 15 s).
	for _, r := range reads {
		r.who.readAt(t, strings.TrimRight(strings.TrimSuffix(r.path, "min_position="), "?&"), sub.Position).want(t, http.StatusOK)
	}
	// Not a position: 422.
	for _, bad := range []string{"abc", "12", "1-", "-1-2", "1-2-3", "1.5-2", "18446744073709551616-1", "%20", "0x1-2"} {
		for _, r := range reads {
			r.who.get(t, r.path+bad).wantErr(t, http.StatusUnprocessableEntity, "invalid")
		}
	}
}

func mustPosition(t testing.TB, s string) eventlog.Position {
	t.Helper()
	p, err := eventlog.ParsePosition(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// projectionStatus is the answer of the admin's /api/v1/admin/projections.
type projectionStatus struct {
	Projections []projections.ProjectionStatus `json:"projections"`
}

// TestReadModelsProjectionStatus: the admin sees the three read models built, led and, once
// they have caught up, not lagging; anyone else gets 401.
func TestReadModelsProjectionStatus(t *testing.T) {
	t.Parallel()
	e, replica := newReadModelServers(t)
	_, tech := newAcme(t, e)
	head := e.head(t)

	const path = "/api/v1/admin/projections"
	for _, srv := range []*env{e, replica} {
		var got projectionStatus
		deadline := time.Now().Add(behindRetry)
		for {
			e.admin().on(srv).get(t, path).want(t, http.StatusOK).decode(t, &got)
			caughtUp := len(got.Projections) == 3
			for _, s := range got.Projections {
				caughtUp = caughtUp && s.LagEvents == 0 && positionAtLeast(t, s.Position, head)
			}
			if caughtUp {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the read models never caught up with %s: %+v", head, got.Projections)
			}
			time.Sleep(20 * time.Millisecond)
		}
		var names []string
		for _, s := range got.Projections {
			names = append(names, s.Name)
			if !s.Built || !s.SchemaCurrent || !s.Leader || s.LagCapped || s.LagSeconds != 0 || s.EventsApplied <= 0 || s.UpdatedAt.IsZero() {
				t.Errorf("%+v", s)
			}
		}
		if want := []string{directory.Name, requestlist.Name, requestdetails.Name}; !slices.Equal(names, want) {
			t.Errorf("read models %v, want %v", names, want)
		}

		anonymous := e.anonymous().on(srv)
		anonymous.get(t, path).wantErr(t, http.StatusUnauthorized, "unauthorized")
		(&client{e: srv, bearer: "not-the-admin-token"}).get(t, path).wantErr(t, http.StatusUnauthorized, "unauthorized")
		tech.on(srv).get(t, path).wantErr(t, http.StatusUnauthorized, "unauthorized")
	}
}

// An event a read model cannot apply (here, a submission whose payload does not decode, as an
// older program or an import might have written it) is parked, and the admin's status route
// says so in the documented shape, while the requests after it are served as usual.
func TestParkedEventsInTheProjectionStatus(t *testing.T) {
	t.Parallel()
	e, _ := newReadModelServers(t)
	portal, tech := newAcme(t, e)
	if _, err := e.pool.Exec(t.Context(), `INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
		VALUES ('request-6f5c52a4-1f3e-4ab4-9f7c-3b8e0a51d0a1', 0, gen_random_uuid(), 'request.submitted.v1',
		        '{"request_id": 5, "customer": "not an object"}', '{"actor":"import"}')`); err != nil {
		t.Fatal(err)
	}
	later, _ := e.submit(t, portal, uaWindows)

	deadline := time.Now().Add(10 * time.Second)
	for {
		var got projectionStatus
		e.admin().get(t, "/api/v1/admin/projections").want(t, http.StatusOK).decode(t, &got)
		n := 0
		for _, p := range got.Projections {
			if p.Parked > 0 && p.FirstParked != nil && p.FirstParked.Type == "request.submitted.v1" && p.FirstParked.Error != "" {
				n++
			}
		}
		if n >= 2 { // the request list and the request details
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no parked submission reported within 10 s: %+v", got.Projections)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !tech.list(t, "view=new").has(later) {
		t.Error("the request submitted after the parked event is not listed")
	}
}
