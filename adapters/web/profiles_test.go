package web_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// The console's mobile profile choice and the downloads of the file on both sides: the
// company's templates for the customer's platform only, the file as an attachment of the
// platform's type, filled and escaped for the customer; other companies' technicians and other
// customers get 404.
func TestMobileProfileFileDownloads(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const hostile = `Ann </string><key>x</key> & "O'Brien" <script>alert(1)</script>`
	const tmplName = `Wi-Fi <b>"corp"</b>`
	for _, tmpl := range []app.ProfileTemplate{
		{CompanyID: w.acme, Name: tmplName, Platform: request.IOS, Content: []byte(`<plist version="1.0"><dict><key>User</key><string>{customer_name}</string><key>Mail</key><string>{customer_email}</string></dict></plist>`)},
		{CompanyID: w.acme, Name: "Android only", Platform: request.Android, Content: []byte(`{"a": "{request}"}`)},
		{CompanyID: w.globex, Name: "Globex profile", Platform: request.IOS, Content: []byte(`<plist><dict/></plist>`)},
	} {
		if _, err := w.app.SetMobileProfileTemplate(ctx, app.Meta{Actor: app.Admin}, tmpl); err != nil {
			t.Fatal(err)
		}
	}
	customer := w.browser(t, uaIOS)
	id := w.submit(t, customer, w.acmePort, hostile, "Mail does not sync", "")
	other := w.browser(t, uaIOS)
	otherID := w.submit(t, other, w.acmePort, "Other Customer", "Mine too", "")
	alice := w.login(t, "alice@example.com")
	details := "/console/requests/" + id.String()
	alice.submitForm(details, details+"/assign", nil)
	alice.submitForm(details, details+"/join", nil)

	p := alice.mustGet(details)
	contains(t, p, `id="profile-template"`, `name="template"`, `<option value="Wi-Fi &lt;b&gt;&#34;corp&#34;&lt;/b&gt;">`)
	lacks(t, p, "Android only", "Globex profile", `<b>"corp"</b>`, `id="no-profile-templates"`)
	alice.submitForm(details, details+"/mobile-profile-files", url.Values{"template": {tmplName}})

	var eventID uuid.UUID
	for _, e := range w.details(t, w.alice, id).Entries {
		if e.Event == "request.mobile_profile_file_sent.v1" {
			eventID = e.ID
		}
	}
	if eventID == uuid.Nil {
		t.Fatal("no profile was sent")
	}
	consoleURL, portalURL := details+"/profiles/"+eventID.String(), "/portal/requests/"+id.String()+"/profiles/"+eventID.String()
	contains(t, alice.mustGet(details), `href="`+consoleURL+`"`, "Mobile profile file sent: Wi-Fi &lt;b&gt;")
	contains(t, customer.mustGet("/portal/requests/"+id.String()), `id="mobile-profiles"`, `href="`+portalURL+`"`)

	for _, d := range []struct {
		who  *browser
		path string
	}{{alice, consoleURL}, {customer, portalURL}} {
		f := d.who.mustGet(d.path)
		if ct := f.header.Get("Content-Type"); ct != "application/x-apple-aspen-config" {
			t.Errorf("%s: Content-Type %q", d.path, ct)
		}
		if cd := f.header.Get("Content-Disposition"); cd != "attachment; filename=Wi-Fi-b-corp-b.mobileconfig" {
			t.Errorf("%s: Content-Disposition %q", d.path, cd)
		}
		if f.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", d.path)
		}
		var plist struct {
			Keys    []string `xml:"dict>key"`
			Strings []string `xml:"dict>string"`
		}
		if err := xml.Unmarshal([]byte(f.body), &plist); err != nil {
			t.Fatalf("%s: %v\n%s", d.path, err, f.body)
		}
		if strings.Join(plist.Keys, ",") != "User,Mail" || len(plist.Strings) != 2 || plist.Strings[0] != hostile || plist.Strings[1] != "customer@example.com" {
			t.Errorf("%s: keys %q strings %q", d.path, plist.Keys, plist.Strings)
		}
	}

	// Scoping: 404 for a technician without access to the company, for another customer (on
	// this request's address or their own), and for an entry that is not a profile.
	carol := w.login(t, "carol@example.com")
	for _, c := range []struct {
		who  *browser
		path string
	}{
		{carol, consoleURL},
		{other, portalURL},
		{other, "/portal/requests/" + otherID.String() + "/profiles/" + eventID.String()},
		{alice, details + "/profiles/" + uuid.NewString()},
		{alice, details + "/profiles/not-a-uuid"},
	} {
		if got := c.who.get(c.path); got.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", c.path, got.status)
		}
	}
}
