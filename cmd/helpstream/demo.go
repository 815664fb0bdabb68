package main

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// DemoPassword is every demo technician's password.
const DemoPassword = "helpstream-demo"

// DemoAdminToken opens the admin routes of a demo server started without --admin-token.
const DemoAdminToken = "helpstream-demo-admin"

var demoNamespace = uuid.MustParse("0d7e4c2a-5b1f-4f6e-9d8a-2c3b4a5d6e7f")

// demoID gives demo objects fixed IDs, so that --demo run twice finds what it made before.
func demoID(name string) uuid.UUID { return uuid.NewHash(sha1.New(), demoNamespace, []byte(name), 5) }

type demoCompany struct {
	ID, PortalID     uuid.UUID
	Name, PortalName string
}

type demoTechnician struct {
	ID          uuid.UUID
	Name, Email string
	Companies   []string
}

type demoData struct {
	Companies   []demoCompany
	Technicians []demoTechnician
}

func seedDemo(ctx context.Context, svc *service.Service) (demoData, error) {
	meta := app.Meta{Actor: app.Admin, CorrelationID: "demo"}
	d := demoData{
		Companies: []demoCompany{
			{ID: demoID("company/acme"), PortalID: demoID("portal/acme"), Name: "Acme Corp", PortalName: "Acme Help Desk"},
			{ID: demoID("company/globex"), PortalID: demoID("portal/globex"), Name: "Globex", PortalName: "Globex Support"},
		},
		Technicians: []demoTechnician{
			{ID: demoID("technician/alice"), Name: "Alice Martin", Email: "alice@example.com", Companies: []string{"Acme Corp", "Globex"}},
			{ID: demoID("technician/bob"), Name: "Bob Durand", Email: "bob@example.com", Companies: []string{"Acme Corp"}},
			{ID: demoID("technician/carol"), Name: "Carol Petit", Email: "carol@example.com", Companies: []string{"Globex"}},
		},
	}
	companyIDs := map[string]uuid.UUID{}
	for _, c := range d.Companies {
		companyIDs[c.Name] = c.ID
		company, err := svc.App.Company(ctx, c.ID)
		if errors.Is(err, app.ErrNotFound) {
			if _, err := svc.App.CreateCompany(ctx, meta, app.CreateCompany{CompanyID: c.ID, Name: c.Name}); err != nil {
				return d, err
			}
			if company, err = svc.App.Company(ctx, c.ID); err != nil {
				return d, err
			}
		} else if err != nil {
			return d, err
		}
		if _, ok := company.Portal(c.PortalID); !ok {
			if _, err := svc.App.CreatePortal(ctx, meta, app.CreatePortal{CompanyID: c.ID, PortalID: c.PortalID, Name: c.PortalName}); err != nil {
				return d, err
			}
		}
	}
	for _, t := range d.Technicians {
		_, err := svc.App.Technician(ctx, t.ID)
		if errors.Is(err, app.ErrNotFound) {
			if _, err := svc.Accounts.RegisterTechnicianWithPassword(ctx, meta, app.RegisterTechnician{TechnicianID: t.ID, Name: t.Name, Email: t.Email}, DemoPassword); err != nil {
				return d, fmt.Errorf("register %s: %w", t.Email, err)
			}
		} else if err != nil {
			return d, err
		}
		for _, name := range t.Companies {
			if _, err := svc.App.GrantAccess(ctx, meta, app.GrantAccess{TechnicianID: t.ID, CompanyID: companyIDs[name]}); err != nil {
				return d, err
			}
		}
	}
	if err := seedDemoCanned(ctx, svc, meta, d.Companies[0].ID); err != nil {
		return d, err
	}
	if err := seedDemoProfiles(ctx, svc, meta, d.Companies[0].ID); err != nil {
		return d, err
	}
	auditorID := demoID("auditor/audrey")
	if _, err := svc.App.Auditor(ctx, auditorID); errors.Is(err, app.ErrNotFound) {
		if _, err := svc.Accounts.RegisterAuditorWithPassword(ctx, meta, app.RegisterAuditor{AuditorID: auditorID, Name: "Audrey Roux", Email: DemoAuditorEmail}, DemoPassword); err != nil {
			return d, fmt.Errorf("register %s: %w", DemoAuditorEmail, err)
		}
	} else if err != nil {
		return d, err
	}
	if _, err := svc.App.GrantAuditorAccess(ctx, meta, app.GrantAuditorAccess{AuditorID: auditorID, AllCompanies: true}); err != nil {
		return d, err
	}
	return d, nil
}

// demoProfiles are Acme's mobile profile templates (R12): an iOS Wi-Fi profile and an Android
// managed configuration, with the placeholders filled when a customer downloads them.
var demoProfiles = []struct {
	name     string
	platform request.Platform
	content  string
}{
	{"Acme Wi-Fi", request.IOS, `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadDisplayName</key><string>Acme Wi-Fi for {customer_name}</string>
  <key>PayloadIdentifier</key><string>com.acme.wifi.{request}</string>
  <key>PayloadType</key><string>Configuration</string>
  <key>PayloadUUID</key><string>{request}</string>
  <key>PayloadVersion</key><integer>1</integer>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>PayloadType</key><string>com.apple.wifi.managed</string>
      <key>PayloadIdentifier</key><string>com.acme.wifi.payload.{request}</string>
      <key>PayloadUUID</key><string>{request}</string>
      <key>PayloadVersion</key><integer>1</integer>
      <key>SSID_STR</key><string>Acme-Staff</string>
      <key>EncryptionType</key><string>WPA2</string>
      <key>AutoJoin</key><true/>
    </dict>
  </array>
</dict>
</plist>
`},
	{"Acme Mail", request.Android, `{
  "kind": "managed_configuration",
  "name": "Acme Mail for {customer_name}",
  "email_address": "{customer_email}",
  "incoming_server": "imap.acme.example",
  "outgoing_server": "smtp.acme.example",
  "request": "{request}"
}
`},
}

// seedDemoProfiles gives the company the demo's templates when it has none yet: a restart
// does not add versions.
func seedDemoProfiles(ctx context.Context, svc *service.Service, meta app.Meta, companyID uuid.UUID) error {
	have, err := svc.App.MobileProfileTemplates(ctx, meta, companyID)
	if err != nil {
		return fmt.Errorf("demo mobile profile templates: %w", err)
	}
	if len(have) > 0 {
		return nil
	}
	for _, p := range demoProfiles {
		t := app.ProfileTemplate{CompanyID: companyID, Name: p.name, Platform: p.platform, Content: []byte(p.content)}
		if _, err := svc.App.SetMobileProfileTemplate(ctx, meta, t); err != nil {
			return fmt.Errorf("demo mobile profile template %q: %w", p.name, err)
		}
	}
	return nil
}

// demoCanned are the canned responses `serve --demo` gives its first company.
var demoCanned = []struct{ title, body string }{
	{"Greeting", "Hello {customer_name}, I am {technician_name} from {company} and I am looking at your request now."},
	{"Restart first", "{customer_name}, could you restart the computer and tell me whether the problem is still there?"},
	{"Closing", "Glad it works again! I am closing request {request_id}; reply here if anything comes back."},
}

// seedDemoCanned gives the company the demo's canned responses, each saved under its title
// (saving one that is there already writes nothing, so a restart adds nothing).
func seedDemoCanned(ctx context.Context, svc *service.Service, meta app.Meta, companyID uuid.UUID) error {
	c, err := svc.App.Company(ctx, companyID)
	if err != nil {
		return fmt.Errorf("demo canned responses: %w", err)
	}
	for _, r := range demoCanned {
		id := uuid.NewSHA1(companyID, []byte("demo canned response "+r.title))
		if have, ok := c.CannedResponseByTitle(r.title); ok {
			id = have.ID
		}
		if _, err := svc.App.SaveCannedResponse(ctx, meta, app.SaveCannedResponse{CompanyID: companyID, ResponseID: id, Title: r.title, Body: r.body}); err != nil {
			return fmt.Errorf("demo canned response %q: %w", r.title, err)
		}
	}
	return nil
}

// DemoScreenSharingURL is the screen-sharing provider of `serve --demo` without
// --screen-sharing-url: a link of the reserved example domain, to show the flow.
const DemoScreenSharingURL = "https://meet.example/{request}?session={session}"

// DemoAuditorEmail logs the demo's auditor in (password DemoPassword): every company, read only.
const DemoAuditorEmail = "audrey@example.com"

func printDemo(out io.Writer, base, adminToken string, d demoData) {
	fmt.Fprintf(out, "\nHelpstream is running with demo data.\n\n")
	fmt.Fprintf(out, "  API:          %s/api/v1\n", base)
	fmt.Fprintf(out, "  OpenAPI:      %s/api/v1/openapi.yaml\n", base)
	fmt.Fprintf(out, "  Admin token:  %s\n\n", adminToken)
	fmt.Fprintf(out, "Companies and their customer portals:\n")
	for _, c := range d.Companies {
		fmt.Fprintf(out, "  %-10s company %s\n             portal  %s (%s)\n             submit: POST %s/api/v1/portals/%s/requests\n", c.Name, c.ID, c.PortalID, c.PortalName, base, c.PortalID)
	}
	fmt.Fprintf(out, "\nTechnicians (password %q):\n", DemoPassword)
	for _, t := range d.Technicians {
		fmt.Fprintf(out, "  %-18s %-13s %s  access: %v\n", t.Email, t.Name, t.ID, t.Companies)
	}
	fmt.Fprintf(out, "\nAuditor (same password, reads every company, changes nothing): %s\n", DemoAuditorEmail)
	fmt.Fprintf(out, "\nTry:\n  curl -s -X POST %s/api/v1/auth/login -H 'Content-Type: application/json' -d '{\"email\":\"alice@example.com\",\"password\":\"%s\"}'\n\n", base, DemoPassword)
}
