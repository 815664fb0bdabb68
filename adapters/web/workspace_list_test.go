package web_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// seedList submits n requests to Acme ("Customer 01" …, every even one about a scanner, every
// odd one about a printer) and one to Globex, and waits until the list holds them.
func (w *world) seedList(t *testing.T, n int) []uuid.UUID {
	t.Helper()
	ctx := context.Background()
	var ids []uuid.UUID
	var last app.Result
	submit := func(company, portal uuid.UUID, name, description string) {
		id := uuid.New()
		res, err := w.app.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{
			RequestID: id, PortalID: portal, CompanyID: company, Description: description,
			Customer: request.Customer{Name: name, Email: "c@example.com"},
			Source:   request.Source{Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Chrome"},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids, last = append(ids, id), res
	}
	for i := 1; i <= n; i++ {
		what := "printer"
		if i%2 == 0 {
			what = "scanner"
		}
		submit(w.acme, w.acmePort, fmt.Sprintf("Customer %02d", i), "The "+what+" is\n  broken again")
	}
	submit(w.globex, w.globPort, "Globex Person", "Globex's own problem")
	if ok, err := w.app.Queries().WaitForPosition(ctx, last.Position); err != nil || !ok {
		t.Fatalf("the list did not catch up: %v", err)
	}
	return ids
}

var (
	rangeText = regexp.MustCompile(`id="page-range" class="range">([^<]*)<`)
	linkHref  = func(id string) *regexp.Regexp { return regexp.MustCompile(`id="` + id + `" href="([^"]*)"`) }
	countOf   = func(view string) *regexp.Regexp {
		return regexp.MustCompile(`data-count="` + view + `"><span class="visually-hidden">\(</span>([0-9+]+)<`)
	}
)

func match(t *testing.T, p page, re *regexp.Regexp) string {
	t.Helper()
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the page has no %s", re)
	}
	return html.UnescapeString(m[1])
}

func customers(p page) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<a href="/console/requests/[^"]*" title="([^"]*)"`).FindAllStringSubmatch(p.body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// The list pages forwards and back with First / Previous / Next and says where it is
// ("51–56 of 56"); every view tab counts its requests; search, company and assignee filters
// narrow the list and the counts; bad filters answer a page that says so, never a 5xx.
func TestSupportRequestsFindAndPage(t *testing.T) {
	w := newWorld(t)
	ids := w.seedList(t, 55)
	alice := w.login(t, "alice@example.com") // Acme and Globex

	first := alice.mustGet("/console?view=all&sort=customer&order=asc")
	for view, want := range map[string]string{"all": "56", "new": "56", "active": "0", "completed": "0"} {
		if got := match(t, first, countOf(view)); got != want {
			t.Errorf("%s count %s, want %s", view, got, want)
		}
	}
	if got := match(t, first, rangeText); got != "1–50 of 56" {
		t.Fatalf("first page range %q", got)
	}
	lacks(t, first, `id="page-prev"`, `id="page-first"`)
	if got := customers(first); len(got) != 50 || got[0] != "Customer 01" || got[49] != "Customer 50" {
		t.Fatalf("first page: %q", got)
	}

	second := alice.mustGet(match(t, first, linkHref("page-next")))
	if got := match(t, second, rangeText); got != "51–56 of 56" {
		t.Fatalf("second page range %q", got)
	}
	if got := customers(second); strings.Join(got, ",") != "Customer 51,Customer 52,Customer 53,Customer 54,Customer 55,Globex Person" {
		t.Fatalf("second page: %q", got)
	}
	lacks(t, second, `id="page-next"`)
	contains(t, second, `id="page-first"`)

	back := alice.mustGet(match(t, second, linkHref("page-prev")))
	if got := match(t, back, rangeText); got != "1–50 of 56" {
		t.Fatalf("back on the first page: range %q", got)
	}
	if got := customers(back); strings.Join(got, ",") != strings.Join(customers(first), ",") {
		t.Fatalf("Previous did not come back to the first page: %q", got)
	}
	lacks(t, back, `id="page-prev"`)

	// Pages of 50 going backwards from the end of a longer list keep the range right.
	desc := alice.mustGet("/console?view=all&sort=customer&order=desc")
	if got := customers(desc); got[0] != "Globex Person" {
		t.Fatalf("descending: %q", got[:3])
	}

	// Search: the description and the name, ignoring case; the counts follow the search.
	found := alice.mustGet("/console?" + url.Values{"view": {"all"}, "sort": {"customer"}, "order": {"asc"}, "q": {"SCANNER"}}.Encode())
	if got := match(t, found, countOf("all")); got != "27" {
		t.Fatalf("all count with a search: %s", got)
	}
	if got := match(t, found, rangeText); got != "1–27 of 27" {
		t.Fatalf("search range %q", got)
	}
	contains(t, found, `value="SCANNER"`, `id="clear-filters"`, "The scanner is broken again")
	lacks(t, found, `title="Customer 01"`)

	// Company filter, as the API's company parameter.
	globex := alice.mustGet("/console?" + url.Values{"company": {w.globex.String()}}.Encode())
	if got := customers(globex); strings.Join(got, ",") != "Globex Person" {
		t.Fatalf("Globex only: %q", got)
	}
	contains(t, globex, `<option value="`+w.globex.String()+`" selected>Globex</option>`)

	// Assignee filter, as the API's assignee parameter.
	if _, err := w.app.AssignToMe(context.Background(), app.Meta{Actor: app.Actor{Kind: "technician", ID: w.bob}}, ids[2]); err != nil {
		t.Fatal(err)
	}
	var bobs page
	eventually(t, "Bob's request in the assignee filter", func() bool {
		bobs = alice.mustGet("/console?" + url.Values{"assignee": {w.bob.String()}}.Encode())
		return strings.Join(customers(bobs), ",") == "Customer 03"
	})
	contains(t, bobs, `<option value="`+w.bob.String()+`" selected>Bob Durand</option>`, `<span class="status status-active">active</span>`)
	all := alice.mustGet("/console")
	if got := match(t, all, countOf("active")); got != "1" {
		t.Fatalf("active count %s after an assignment", got)
	}

	// The counts live in the fragment the live updates fetch.
	frag := alice.mustGet("/console/fragments/support-requests?view=new")
	if got := match(t, frag, countOf("new")); got != "55" {
		t.Fatalf("new count in the fragment: %s", got)
	}

	// Bad input is a page that says so.
	for _, q := range []string{"company=nope", "assignee=42", "cursor=garbage", "before=garbage", "q=" + url.QueryEscape("a\x01b"), "from=-5&before=x"} {
		p := alice.get("/console?" + q)
		if p.status != 200 || !strings.Contains(p.body, `class="error-state" role="alert"`) {
			t.Errorf("/console?%s: %d, no error shown", q, p.status)
		}
	}
	// Bob sees neither Globex's request nor Globex in the company filter.
	bob := w.login(t, "bob@example.com")
	lacks(t, bob.mustGet("/console?"+url.Values{"company": {w.globex.String()}}.Encode()), "Globex Person", `value="`+w.globex.String()+`"`)
}

// A request of mine is marked unread when the customer writes after I last opened it; opening
// it clears the mark. My Support Requests shows its count at the top of the console.
func TestMyRequestsUnreadMarker(t *testing.T) {
	w := newWorld(t)
	customer, id := w.newRequest(t)
	alice := w.login(t, "alice@example.com")
	details := "/console/requests/" + id.String()
	alice.submitForm(details, details+"/assign", nil)
	alice.submitForm(details, details+"/join", nil)

	p := alice.mustGet("/console")
	contains(t, p, `id="my-requests-count" data-count="mine"><span class="visually-hidden">(</span>1<`)
	lacks(t, p, "data-unread")
	if strings.Index(p.body, `id="my-requests"`) > strings.Index(p.body, `id="support-requests"`) {
		t.Fatal("My Support Requests is not above the list")
	}

	portal := "/portal/requests/" + id.String()
	customer.submitForm(portal, portal+"/messages", url.Values{"body": {"Are you there?"}})
	eventually(t, "the unread mark", func() bool {
		p = alice.mustGet("/console")
		return strings.Contains(p.body, `data-unread`)
	})
	contains(t, p, `id="my-requests-unread">1 unread<`, "wrote &lt;1 min ago")

	alice.mustGet(details) // reading it
	p = alice.mustGet("/console")
	lacks(t, p, "data-unread", "my-requests-unread")

	// Bob, who has not opened it and is not its assignee, sees no mark either.
	lacks(t, w.login(t, "bob@example.com").mustGet("/console"), "data-unread")

	time.Sleep(5 * time.Millisecond) // the next message is strictly later than the read
	customer.submitForm(portal, portal+"/messages", url.Values{"body": {"Hello?"}})
	eventually(t, "the unread mark again", func() bool {
		return strings.Contains(alice.mustGet("/console/fragments/my-requests").body, `data-unread`)
	})
}

// eventually retries cond for up to 10 s: what a customer does reaches the technician's page
// once the read models have it.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s never came", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Paging forwards to the end and back to the start with the read models on PostgreSQL, in
// every order and direction, with ties (the same names, the same statuses): Previous gives
// back exactly the pages Next gave, the totals never change, and the first page says so.
func TestListPagesBackAndForthInEveryOrder(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var last app.Result
	names := []string{"Ann", "ann", "Ånn", "Zoë", "zed Shaw", "Émile", "Øystein", "Bob"}
	for i := range 23 {
		id := uuid.New()
		company, portal := w.acme, w.acmePort
		if i%4 == 3 {
			company, portal = w.globex, w.globPort
		}
		res, err := w.app.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{
			RequestID: id, PortalID: portal, CompanyID: company, Description: fmt.Sprintf("request %d about the printer", i),
			Customer: request.Customer{Name: names[i%len(names)], Email: "c@example.com"}, Source: request.Source{Platform: request.Mac},
		})
		if err != nil {
			t.Fatal(err)
		}
		last = res
		tech := app.Meta{Actor: app.Actor{Kind: "technician", ID: w.alice}}
		switch i % 3 {
		case 1:
			if last, err = w.app.AssignToMe(ctx, tech, id); err != nil {
				t.Fatal(err)
			}
		case 2:
			if _, err = w.app.AssignToMe(ctx, tech, id); err != nil {
				t.Fatal(err)
			}
			if last, err = w.app.Close(ctx, tech, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ok, err := w.app.Queries().WaitForPosition(ctx, last.Position); err != nil || !ok {
		t.Fatalf("the list did not catch up: %v", err)
	}
	for _, sort := range []app.SortColumn{app.SortSubmitted, app.SortID, app.SortCustomer, app.SortCompany, app.SortStatus, app.SortAssignee, app.SortLastActivity, app.SortBreach} {
		for _, desc := range []bool{false, true} {
			for _, filter := range []app.ListRequests{{}, {Search: "printer"}, {CompanyID: w.acme}, {View: app.ViewActive}} {
				q := filter
				q.TechnicianID, q.Sort, q.Descending, q.Limit = w.alice, sort, desc, 5
				name := fmt.Sprintf("%s desc=%v filter=%+v", sort, desc, filter)
				var pages [][]uuid.UUID
				var page app.RequestPage
				for {
					var err error
					if page, err = w.app.Queries().ListRequests(ctx, q); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if (len(pages) == 0) != (page.PrevCursor == "") {
						t.Fatalf("%s: page %d has PrevCursor %q", name, len(pages)+1, page.PrevCursor)
					}
					pages = append(pages, ids(page.Requests))
					if page.NextCursor == "" {
						break
					}
					q.Cursor = page.NextCursor
				}
				total := page.Total
				var seen int
				for _, p := range pages {
					seen += len(p)
				}
				if seen != total {
					t.Fatalf("%s: %d rows over the pages, total %d", name, seen, total)
				}
				for i := len(pages) - 2; i >= 0; i-- {
					q.Cursor, q.Before = "", page.PrevCursor
					var err error
					if page, err = w.app.Queries().ListRequests(ctx, q); err != nil {
						t.Fatalf("%s: back to page %d: %v", name, i+1, err)
					}
					if fmt.Sprint(ids(page.Requests)) != fmt.Sprint(pages[i]) || page.Total != total {
						t.Fatalf("%s: back to page %d: %v (total %d), forwards it was %v (total %d)", name, i+1, ids(page.Requests), page.Total, pages[i], total)
					}
					if (i == 0) != (page.PrevCursor == "") || (len(pages) > 1 && page.NextCursor == "") {
						t.Fatalf("%s: back to page %d: prev %q next %q", name, i+1, page.PrevCursor, page.NextCursor)
					}
				}
			}
		}
	}
	// A cursor of another order is refused, whichever way it goes.
	first, err := w.app.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: w.alice, Sort: app.SortCustomer, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []app.ListRequests{
		{TechnicianID: w.alice, Sort: app.SortStatus, Limit: 5, Before: first.NextCursor},
		{TechnicianID: w.alice, Sort: app.SortCustomer, Limit: 5, Before: first.NextCursor, Cursor: first.NextCursor},
	} {
		if _, err := w.app.Queries().ListRequests(ctx, q); !errors.Is(err, app.ErrInvalidCursor) {
			t.Fatalf("%+v: %v, want ErrInvalidCursor", q, err)
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
