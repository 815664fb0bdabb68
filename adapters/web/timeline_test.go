package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/helpstream/helpstream/internal/app"
)

// The timeline page shows every event of a request with its verdict, and the request as it was
// after the event chosen (the last by default); technicians who may see the request and
// auditors of its company read it, an auditor's visit is in the access log, and a request of
// another company, like a bad ?at, answers a page in words, never a 5xx.
func TestTimelinePage(t *testing.T) {
	w := newWorld(t)
	customer := w.browser(t, uaWindows)
	id := w.submit(t, customer, w.acmePort, `<script>alert("x")</script>`, "Help", "")
	req := w.closedRequest(t)
	base := "/console/requests/" + req.id.String() + "/timeline"

	bob := w.login(t, "bob@example.com")
	p := bob.mustGet(base)
	contains(t, p, `id="verdict"`, `data-verdict="ok"`, "Hash chain verified", `id="event-0"`, `id="event-4"`,
		`aria-current="true"`, `id="state-status" data-status="completed"`, "Bob", "took the request")
	p = bob.mustGet(base + "?at=0")
	contains(t, p, `id="state-status" data-status="new"`, `id="state-assignee">Unassigned`)
	if !strings.Contains(p.body, `<tr id="event-0" data-version="0" class="selected" aria-current="true">`) {
		t.Errorf("?at=0 does not select the first row")
	}
	details := bob.mustGet("/console/requests/" + req.id.String())
	contains(t, details, `id="timeline-link" href="`+base+`"`)

	auditor := w.auditor(t, "ann@example.com", w.acme)
	before := accessLogLength(t, w)
	contains(t, auditor.mustGet(base+"?at=2"), `id="state-chat">joined`)
	if after := accessLogLength(t, w); after != before+1 {
		t.Errorf("the access log went from %d to %d entries for one timeline read", before, after)
	}

	// The customer's name is text, never markup.
	p = bob.mustGet("/console/requests/" + id.String() + "/timeline")
	lacks(t, p, `<script>alert("x")</script>`)
	contains(t, p, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`)

	carol := w.login(t, "carol@example.com") // Globex only: Acme's request does not exist for her
	for path, status := range map[string]int{
		base + "?at=9":                          http.StatusNotFound,
		base + "?at=x":                          http.StatusBadRequest,
		base + "?at=-1":                         http.StatusBadRequest,
		base + "?at=" + url.QueryEscape("\x00"): http.StatusBadRequest,
		"/console/requests/nope/timeline":       http.StatusNotFound,
	} {
		if got := bob.get(path); got.status != status || !strings.Contains(got.body, `id="error-message"`) {
			t.Errorf("GET %s: %d, want %d with a message", path, got.status, status)
		}
	}
	if got := carol.get(base); got.status != http.StatusNotFound {
		t.Errorf("another company's technician: %d, want 404", got.status)
	}
	outsider := w.auditor(t, "gus@example.com", w.globex)
	if got := outsider.get(base); got.status != http.StatusNotFound {
		t.Errorf("another company's auditor: %d, want 404", got.status)
	}
}

func accessLogLength(t *testing.T, w *world) int {
	t.Helper()
	page, err := w.app.Queries().AccessLog(context.Background(), app.AccessLogQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Entries)
}
