package httpapi_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// A screen-sharing session through the API: accepting gives both sides the provider's link,
// Request Screen Sharing is not offered while it runs, End Session ends it (only the
// assignee's, only of a request they see), and the history records both.
func TestScreenSharingSessionAPI(t *testing.T) {
	loadSpec(t)
	provider, err := app.ParseScreenSharingURL("https://meet.example/{request}?s={session}")
	if err != nil {
		t.Fatal(err)
	}
	e := serve(t, servicetest.New(t, apiConfig, func(c *service.Config) { c.ScreenSharing = provider }))
	acme, globex := e.createCompany(t, "Acme"), e.createCompany(t, "Globex")
	portal := e.createPortal(t, acme, "Acme support")
	alice := e.technician(t, "Alice Tech", acme)
	bob := e.technician(t, "Bob Tech", globex)
	id, customer := e.submit(t, portal, uaWindows)
	alice.post(t, reqPath(id, "assign"), nil).want(t, http.StatusOK)
	alice.post(t, reqPath(id, "join"), nil).want(t, http.StatusOK)

	// Nothing to end yet.
	alice.post(t, reqPath(id, "screen-sharing/end"), nil).wantErr(t, http.StatusConflict, "conflict")
	alice.post(t, reqPath(id, "screen-sharing"), nil).want(t, http.StatusOK)
	if d := alice.details(t, reqPath(id)); slices.Contains(d.Actions, "request_screen_sharing") {
		t.Errorf("request_screen_sharing offered while a request is pending: %v", d.Actions)
	}
	customer.post(t, custPath(id, "screen-sharing/accept"), nil).want(t, http.StatusOK)

	td, cd := alice.details(t, reqPath(id)), customer.details(t, custPath(id))
	if td.Session == nil || cd.Session == nil || td.Session.Link != cd.Session.Link || td.ScreenSharing != "in_session" {
		t.Fatalf("session: technician %+v, customer %+v, state %s", td.Session, cd.Session, td.ScreenSharing)
	}
	if want := "https://meet.example/" + id.String() + "?s=" + td.Session.ID.String(); td.Session.Link != want {
		t.Fatalf("link %q, want %q", td.Session.Link, want)
	}
	if slices.Contains(td.Actions, "request_screen_sharing") || !slices.Contains(td.Actions, "end_screen_sharing_session") {
		t.Errorf("actions while in session: %v", td.Actions)
	}
	alice.post(t, reqPath(id, "screen-sharing"), nil).wantErr(t, http.StatusConflict, "conflict")

	// Others cannot end it: the customer has no such route, another company's technician
	// does not see the request.
	customer.post(t, reqPath(id, "screen-sharing/end"), nil).want(t, http.StatusUnauthorized)
	bob.post(t, reqPath(id, "screen-sharing/end"), nil).wantErr(t, http.StatusNotFound, "not_found")

	alice.post(t, reqPath(id, "screen-sharing/end"), nil).want(t, http.StatusOK)
	td, cd = alice.details(t, reqPath(id)), customer.details(t, custPath(id))
	if td.Session != nil || cd.Session != nil || !slices.Contains(td.Actions, "request_screen_sharing") {
		t.Fatalf("after the end: technician %+v %v, customer %+v", td.Session, td.Actions, cd.Session)
	}
	h := alice.history(t, id)
	if countType(h, "request.screen_sharing_session_started.v1") != 1 || countType(h, "request.screen_sharing_session_ended.v1") != 1 {
		t.Fatalf("history lacks the session events: %+v", h.Events)
	}

	// Ending the chat ends a running session.
	alice.post(t, reqPath(id, "screen-sharing"), nil).want(t, http.StatusOK)
	customer.post(t, custPath(id, "screen-sharing/accept"), nil).want(t, http.StatusOK)
	alice.post(t, reqPath(id, "end-chat"), nil).want(t, http.StatusOK)
	if cd := customer.details(t, custPath(id)); cd.Session != nil {
		t.Fatalf("session after the chat ended: %+v", cd.Session)
	}
	if h := alice.history(t, id); countType(h, "request.screen_sharing_session_ended.v1") != 2 {
		t.Fatalf("the chat's end did not end the session")
	}
}
