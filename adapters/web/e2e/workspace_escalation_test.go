package e2e_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// TestScreenSharingSession: after the customer accepts screen sharing, both sides get the
// session's link live, Request Screen Sharing is not offered while the request waits or the
// session runs, the technician ends the session from the console, and screen sharing can be
// requested again (#15, item 7).
func TestScreenSharingSession(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	bob := br.actor(t, "bob", srv.URL, consoleSize)
	customer := br.actor(t, "customer", srv.URL, phoneSize)

	bob.login(srv.Bob)
	bob.setAvailability("available")
	id := customer.submit(srv.Portal1.String(), submission{
		name: "Grace Hopper", email: "grace@example.com", description: "The spreadsheet crashes when I print", device: "mac",
	})
	bob.open("/console/requests/" + id)
	bob.waitFor("the Details panel", exists("section#details"))
	bob.action("assign")
	bob.waitFor("Join Chat is offered once assigned", exists(actionSel("join_chat")))
	bob.action("join_chat")
	bob.waitFor("Request Screen Sharing is offered in the chat", exists(actionSel("request_screen_sharing")))

	bob.action("request_screen_sharing")
	bob.waitFor("the console says the request waits for the customer", hasText("#screen-sharing-pending", "waiting for the customer"))
	if bob.has(actionSel("request_screen_sharing")) {
		bob.errorf("while the customer has not answered", "Request Screen Sharing is offered again")
	}
	accept := "#screen-sharing button[data-action=accept_screen_sharing]"
	customer.waitFor("the customer is asked to share their screen", exists(accept))
	bob.markPage()
	customer.clickAndLoad("Share My Screen", accept)
	customer.noError("Share My Screen")

	// Both sides get the link; the console's arrives live, without a reload.
	wantPrefix := "https://meet.example/" + id + "?session="
	customer.waitFor("the portal shows the session link", exists("#screen-session a#screen-session-link"))
	bob.waitFor("the console shows the session link live", exists("#screen-session a#screen-session-link"))
	customer.checkA11y("the portal with a screen-sharing session")
	bob.checkA11y("the console with a screen-sharing session")
	if !bob.samePage() {
		bob.errorf("the console shows the session link live", "the page was reloaded")
	}
	techLink := eval[string](bob, "the console's link", "document.querySelector('#screen-session-link').href")
	custLink := eval[string](customer, "the portal's link", "document.querySelector('#screen-session-link').href")
	if !strings.HasPrefix(techLink, wantPrefix) || techLink != custLink || len(techLink) != len(wantPrefix)+36 {
		bob.fail("the session link", "console %q, portal %q, want %s<session ID> on both", techLink, custLink, wantPrefix)
	}
	for _, a := range []*actor{bob, customer} {
		if rel := eval[string](a, "the link opens apart", "document.querySelector('#screen-session-link').rel"); !strings.Contains(rel, "noopener") {
			a.errorf("the link opens apart", "rel=%q lacks noopener", rel)
		}
	}
	customer.waitFor("the prompt goes once accepted", "!("+exists(accept)+")")
	bob.waitFor("the chat says the session started", anyHasText("ol#chat li.entry", "Screen sharing session started"))
	if bob.has(actionSel("request_screen_sharing")) {
		bob.errorf("while the session runs", "Request Screen Sharing is offered")
	}

	// End Session: the link goes on both sides, and screen sharing can be asked for again.
	bob.waitFor("End Session is offered", hasText(actionSel("end_screen_sharing_session"), "End Session"))
	bob.action("end_screen_sharing_session")
	bob.noError("End Session")
	bob.waitFor("the console's link goes", "!("+exists("#screen-session-link")+")")
	customer.waitFor("the portal's link goes live", "!("+exists("#screen-session-link")+")")
	bob.waitFor("Request Screen Sharing is offered again", exists(actionSel("request_screen_sharing")))
	bob.waitFor("the chat says who ended the session", anyHasText("ol#chat li.entry", "Screen sharing session ended by Bob Durand"))
	bob.action("request_screen_sharing")
	customer.waitFor("the customer is asked again", exists(accept))
}

// TestMobileProfileFile: an administrator's iOS template of company 2; Carol picks it for an
// iOS customer; the customer's portal offers the file live, and the file both sides download
// is the template filled for the customer, as a .mobileconfig attachment (#15, item 7).
func TestMobileProfileFile(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	const template = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>PayloadDisplayName</key><string>Wi-Fi for {customer_name}</string><key>User</key><string>{customer_email}</string><key>Request</key><string>{request}</string></dict></plist>`
	ctx := context.Background()
	for _, tmpl := range []app.ProfileTemplate{
		{CompanyID: srv.Company2, Name: "Globex Wi-Fi", Platform: request.IOS, Content: []byte(template)},
		{CompanyID: srv.Company2, Name: "Globex Android VPN", Platform: request.Android, Content: []byte(`{"user": "{customer_email}"}`)},
	} {
		if _, err := srv.App.SetMobileProfileTemplate(ctx, app.Meta{Actor: app.Admin}, tmpl); err != nil {
			t.Fatal(err)
		}
	}
	carol := br.actor(t, "carol", srv.URL, consoleSize)
	customer := br.actor(t, "customer", srv.URL, phoneSize)
	carol.login(srv.Carol)
	carol.setAvailability("available")
	name, email := `Zoë "Z" <Ortiz> & Co`, "zoe@example.com"
	id := customer.submit(srv.Portal2.String(), submission{name: name, email: email, description: "Mail does not sync", device: "ios"})
	carol.open("/console/requests/" + id)
	carol.waitFor("the Details panel", exists("section#details"))
	carol.action("assign")
	carol.action("join_chat")
	carol.awaitAction("the profile choice", "send_mobile_profile")
	options := eval[string](carol, "the profile choice", "Array.from(document.querySelectorAll('#profile-template option')).map(o => o.value).join('|')")
	if options != "Globex Wi-Fi" {
		carol.fail("the profile choice", "options %q, want only the iOS template Globex Wi-Fi", options)
	}
	customer.markPage()
	carol.action("send_mobile_profile")
	link := "#mobile-profiles a[download]"
	customer.waitFor("the portal offers the profile live", exists(link))
	if !customer.samePage() {
		customer.errorf("the portal offers the profile live", "the page was reloaded")
	}
	customer.waitFor("the link names the file", hasText(link, "Globex-Wi-Fi.mobileconfig"))
	carol.waitFor("the console offers it too", exists("#mobile-profile-files a[download]"))
	customer.checkA11y("the portal with a mobile profile to download")
	carol.checkA11y("the console with a mobile profile sent")

	want := strings.NewReplacer("{customer_name}", `Zoë &#34;Z&#34; &lt;Ortiz&gt; &amp; Co`, "{customer_email}", email, "{request}", id).Replace(template)
	fetch := `fetch(document.querySelector(%s).href).then(r => r.text().then(b => [r.status, r.headers.get('content-type'), r.headers.get('content-disposition'), b].join('\n')))`
	for _, c := range []struct {
		a   *actor
		sel string
	}{{customer, link}, {carol, "#mobile-profile-files a[download]"}} {
		got := run(c.a, "download the profile", chromedp.Evaluate[string](strings.Replace(fetch, "%s", js(c.sel), 1), chromedp.EvalAwaitPromise))
		parts := strings.SplitN(got, "\n", 4)
		if len(parts) != 4 || parts[0] != "200" || parts[1] != "application/x-apple-aspen-config" || parts[2] != "attachment; filename=Globex-Wi-Fi.mobileconfig" {
			c.a.fail("download the profile", "answer %q", got[:min(len(got), 300)])
		}
		if parts[3] != want {
			c.a.fail("download the profile", "the file is\n%s\nwant the filled template\n%s", parts[3], want)
		}
	}
}
