package e2e_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// TestAuditorReadsACompletedRequest: an auditor of company 1 logs in at the console's login
// page, finds a Completed request in the Completed view, opens its details, reads the private
// note, and finds no action button, no form but logging out, and the link to its timeline,
// which lists every event and shows the request as it was after the one chosen.
func TestAuditorReadsACompletedRequest(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	admin := &apiClient{t: t, base: srv.URL + "/api/v1", token: "e2e-admin"}
	email := "ann-" + uuid.NewString()[:8] + "@example.com"
	var created struct {
		ID string `json:"id"`
	}
	admin.call(http.MethodPost, "/admin/auditors", map[string]string{"name": "Ann Auditor", "email": email, "password": password}, &created)
	admin.call(http.MethodPost, "/admin/auditors/"+created.ID+"/access", map[string]string{"company_id": srv.Company1.String()}, nil)

	const note = "Private: the toner was empty, not on fire"
	id := srv.apiSubmit(t, srv.Portal1, "Audited Ada", "ada@example.com", "My printer is on fire", "windows").RequestID
	bob := srv.apiLogin(t, srv.Bob)
	bob.command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})
	bob.command(http.MethodPost, "/requests/"+id+"/assign", nil)
	bob.command(http.MethodPost, "/requests/"+id+"/join", nil)
	bob.command(http.MethodPost, "/requests/"+id+"/notes", map[string]string{"body": note})
	bob.command(http.MethodPost, "/requests/"+id+"/close", nil)

	ann := br.actor(t, "ann", srv.URL, consoleSize)
	step := "log in as the auditor"
	ann.open("/console/login")
	ann.waitFor(step, exists("form#login"))
	ann.fill(step, "form#login input[name=email]", email)
	ann.fill(step, "form#login input[name=password]", password)
	ann.clickAndLoad(step, submitOf("form#login"))
	ann.waitFor("the auditor's console", exists("#auditor-role"))
	if ann.has("form#availability") || ann.has("section#my-requests") {
		ann.fail("the auditor's console", "it offers a status or a queue of their own")
	}

	ann.clickAndLoad("the Completed view", "a[data-view=completed]")
	ann.waitFor("the completed request is listed", exists(requestRow(id)))
	ann.clickAndLoad("open the completed request", requestRow(id)+" a")
	ann.waitFor("the Details panel", exists("section#details"))
	ann.waitFor("status completed", hasText("#request-status", "completed"))
	ann.waitFor("the private note", hasText("#chat li.note", note))
	ann.waitFor("the link to the timeline", exists("a#timeline-link[href="+js("/console/requests/"+id+"/timeline")+"]"))
	if n := eval[int](ann, "no action", "document.querySelectorAll('#actions, [data-action], #composer, form[method=post][action^=\"/console/requests/\"]').length"); n != 0 {
		ann.fail("no action", "%d action buttons or forms on the auditor's page", n)
	}
	// The list's search form reads (GET); logging out is the only form that posts.
	if forms := eval[[]string](ann, "no form but logging out", "Array.from(document.querySelectorAll('form')).filter(f => f.method === 'post').map(f => f.id)"); len(forms) != 1 || forms[0] != "logout" {
		ann.fail("no form but logging out", "the page's forms that post are %v", forms)
	}

	// The timeline: every event a row under the chain's verdict; an earlier row shows the
	// request as it was then.
	ann.clickAndLoad("open the timeline", "a#timeline-link")
	ann.waitFor("the verdict", hasText("#verdict", "Hash chain verified"))
	if n := eval[int](ann, "one row per event", "document.querySelectorAll('#timeline-events tbody tr').length"); n != 6 {
		ann.fail("one row per event", "%d rows, want 6 (submitted, assigned, joined, note, chat ended, closed)", n)
	}
	ann.waitFor("the last event's state", hasText("#state-status", "completed"))
	ann.clickAndLoad("the submission's row", "#event-0 a.event-link")
	ann.waitFor("the request as it was at submission", hasText("#state-status", "new"))
	ann.waitFor("nobody had it then", hasText("#state-assignee", "Unassigned"))
	if cur := eval[string](ann, "the chosen row", "document.querySelector('tr[aria-current=true]').id"); cur != "event-0" {
		ann.fail("the chosen row", "the current row is %q, want event-0", cur)
	}
}
