package httpapi_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

const hostileName = `Zoë </string><key>Evil</key><string>"&" \ {request}`

// A mobile profile file through the API: sent from a company template of the customer's
// platform, downloaded by the technician and the customer as an attachment of the right type,
// filled with the customer's values escaped; another company's technician and another
// request's customer get 404.
func TestMobileProfileFileAPI(t *testing.T) {
	loadSpec(t)
	svc := servicetest.New(t, apiConfig)
	e := serve(t, svc)
	ctx := context.Background()
	acme, globex := e.createCompany(t, "Acme"), e.createCompany(t, "Globex")
	portal, globexPortal := e.createPortal(t, acme, "Acme support"), e.createPortal(t, globex, "Globex help")
	alice := e.technician(t, "Alice Tech", acme)
	bob := e.technician(t, "Bob Tech", globex)
	for _, tmpl := range []app.ProfileTemplate{
		{CompanyID: acme, Name: "Corporate Wi-Fi", Platform: request.IOS, Content: []byte(`<?xml version="1.0"?><plist version="1.0"><dict><key>Name</key><string>{customer_name}</string><key>Request</key><string>{request}</string></dict></plist>`)},
		{CompanyID: acme, Name: "Android VPN", Platform: request.Android, Content: []byte(`{"user": "{customer_name}", "email": "{customer_email}"}`)},
		{CompanyID: globex, Name: "Globex Wi-Fi", Platform: request.IOS, Content: []byte(`<plist><dict><key>a</key><string>b</string></dict></plist>`)},
	} {
		if _, err := svc.App.SetMobileProfileTemplate(ctx, app.Meta{Actor: app.Admin}, tmpl); err != nil {
			t.Fatal(err)
		}
	}
	var sub submission
	e.anonymous().with(uaIOS).post(t, "/api/v1/portals/"+portal.String()+"/requests", map[string]any{
		"customer_name": hostileName, "customer_email": "zoe@example.com", "description": "No Wi-Fi",
	}).want(t, http.StatusCreated).decode(t, &sub)
	id, customer := sub.RequestID, &client{e: e, bearer: sub.CustomerToken, ua: uaIOS}
	otherID, otherCustomer := e.submit(t, portal, uaIOS)
	alice.post(t, reqPath(id, "assign"), nil).want(t, http.StatusOK)
	alice.post(t, reqPath(id, "join"), nil).want(t, http.StatusOK)

	// Refusals: another platform's template, another company's, an unknown one.
	alice.post(t, reqPath(id, "mobile-profile-files"), map[string]any{"template": "Android VPN"}).wantErr(t, http.StatusUnprocessableEntity, "not_supported")
	alice.post(t, reqPath(id, "mobile-profile-files"), map[string]any{"template": "Globex Wi-Fi"}).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	alice.post(t, reqPath(id, "mobile-profile-files"), map[string]any{"template": ""}).want(t, http.StatusUnprocessableEntity)
	bob.post(t, reqPath(id, "mobile-profile-files"), map[string]any{"template": "Globex Wi-Fi"}).wantErr(t, http.StatusNotFound, "not_found")

	alice.post(t, reqPath(id, "mobile-profile-files"), map[string]any{"template": "Corporate Wi-Fi"}).want(t, http.StatusOK)
	d := customer.details(t, custPath(id))
	var eventID uuid.UUID
	for _, en := range d.Entries {
		if en.Event == "request.mobile_profile_file_sent.v1" {
			eventID = en.ID
			if en.Body != "Corporate Wi-Fi" {
				t.Errorf("entry body %q", en.Body)
			}
		}
	}
	if eventID == uuid.Nil {
		t.Fatalf("the customer's chat has no profile entry: %+v", d.Entries)
	}

	for _, c := range []struct {
		who  *client
		path string
	}{{alice, reqPath(id, "mobile-profile-files", eventID.String())}, {customer, custPath(id, "mobile-profile-files", eventID.String())}} {
		res := c.who.get(t, c.path).want(t, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); ct != "application/x-apple-aspen-config" {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename=Corporate-Wi-Fi.mobileconfig` {
			t.Errorf("%s: Content-Disposition %q", c.path, cd)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", c.path)
		}
		var plist struct {
			Keys    []string `xml:"dict>key"`
			Strings []string `xml:"dict>string"`
		}
		if err := xml.Unmarshal(res.Body, &plist); err != nil {
			t.Fatalf("%s: not a plist: %v\n%s", c.path, err, res.Body)
		}
		if strings.Join(plist.Keys, ",") != "Name,Request" || len(plist.Strings) != 2 || plist.Strings[0] != hostileName || plist.Strings[1] != id.String() {
			t.Errorf("%s: the hostile name was not escaped: keys %q strings %q", c.path, plist.Keys, plist.Strings)
		}
	}
	// Scoping: another company's technician, another request's customer, the wrong request,
	// an unknown entry: all 404.
	bob.get(t, reqPath(id, "mobile-profile-files", eventID.String())).wantErr(t, http.StatusNotFound, "not_found")
	otherCustomer.get(t, custPath(id, "mobile-profile-files", eventID.String())).want(t, http.StatusNotFound)
	otherCustomer.get(t, custPath(otherID, "mobile-profile-files", eventID.String())).wantErr(t, http.StatusNotFound, "not_found")
	alice.get(t, reqPath(id, "mobile-profile-files", uuid.NewString())).wantErr(t, http.StatusNotFound, "not_found")

	// An Android customer gets the JSON managed configuration.
	androidID, androidCustomer := e.submit(t, portal, uaAndroid)
	alice.post(t, reqPath(androidID, "assign"), nil).want(t, http.StatusOK)
	alice.post(t, reqPath(androidID, "join"), nil).want(t, http.StatusOK)
	alice.post(t, reqPath(androidID, "mobile-profile-files"), map[string]any{"template": "Android VPN"}).want(t, http.StatusOK)
	var entry uuid.UUID
	for _, en := range androidCustomer.details(t, custPath(androidID)).Entries {
		if en.Event == "request.mobile_profile_file_sent.v1" {
			entry = en.ID
		}
	}
	res := androidCustomer.get(t, custPath(androidID, "mobile-profile-files", entry.String())).want(t, http.StatusOK)
	var m map[string]string
	if err := json.Unmarshal(res.Body, &m); err != nil || m["user"] != "Ada Customer" || m["email"] != "ada@example.com" {
		t.Fatalf("Android file %s: %v", res.Body, err)
	}
	if ct, cd := res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"); ct != "application/json" || cd != "attachment; filename=Android-VPN.json" {
		t.Errorf("Android file: %s, %s", ct, cd)
	}
	_ = globexPortal
}
