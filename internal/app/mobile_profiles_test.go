package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// Templates are validated and versioned; a file is sent from the current version of a
// template of the customer's platform; the event names that version, and the file built for
// the customer stays that version's after a new upload or the template's removal.
func TestMobileProfileTemplatesAndFiles(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	admin, me := app.Meta{Actor: app.Admin}, tech(w.techs[0])
	set := func(name string, p request.Platform, content string) (int, error) {
		return w.app.SetMobileProfileTemplate(ctx, admin, app.ProfileTemplate{CompanyID: w.companyID, Name: name, Platform: p, Content: []byte(content)})
	}
	v1 := `<plist><dict><key>v</key><string>one {customer_email}</string></dict></plist>`
	v2 := `<plist><dict><key>v</key><string>two {customer_email}</string></dict></plist>`
	tests := []struct {
		name, tmpl string
		platform   request.Platform
		content    string
		version    int
		err        error
	}{
		{"first upload", "Wi-Fi", request.IOS, v1, 1, nil},
		{"a broken plist", "Wi-Fi", request.IOS, "<plist>", 0, request.ErrInvalidProfileTemplate},
		{"JSON for iOS", "Wi-Fi", request.IOS, `{"a": 1}`, 0, request.ErrInvalidProfileTemplate},
		{"no name", " ", request.IOS, v1, 0, request.ErrInvalidProfileTemplateRef},
		{"Android", "VPN", request.Android, `{"u": "{customer_email}"}`, 1, nil},
	}
	for _, tt := range tests {
		v, err := set(tt.tmpl, tt.platform, tt.content)
		if !errors.Is(err, tt.err) || v != tt.version {
			t.Fatalf("%s: version %d, error %v; want %d, %v", tt.name, v, err, tt.version, tt.err)
		}
	}
	if _, err := w.app.SetMobileProfileTemplate(ctx, admin, app.ProfileTemplate{CompanyID: uuid.New(), Name: "X", Platform: request.IOS, Content: []byte(v1)}); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("a template of an unknown company: %v", err)
	}

	id := w.submit(t, request.IOS)
	must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, me, id) })
	must(t, func() (app.Result, error) { return w.app.JoinChat(ctx, me, id) })
	if _, err := w.app.SendMobileProfileFile(ctx, me, id, "VPN"); !errors.Is(err, request.ErrProfilePlatformMismatch) {
		t.Fatalf("an Android template to an iOS customer: %v", err)
	}
	if _, err := w.app.SendMobileProfileFile(ctx, me, id, "Nope"); !errors.Is(err, request.ErrInvalidProfileTemplateRef) {
		t.Fatalf("an unknown template: %v", err)
	}
	must(t, func() (app.Result, error) { return w.app.SendMobileProfileFile(ctx, me, id, "Wi-Fi") })
	if _, err := set("Wi-Fi", request.IOS, v2); err != nil {
		t.Fatal(err)
	}
	if err := w.app.RemoveMobileProfileTemplate(ctx, admin, w.companyID, "Wi-Fi"); err != nil {
		t.Fatal(err)
	}
	list, err := w.app.MobileProfileTemplates(ctx, me, w.companyID)
	if err != nil || len(list) != 1 || list[0].Name != "VPN" || list[0].Content != nil {
		t.Fatalf("templates after the removal: %+v, %v", list, err)
	}
	if _, err := w.app.MobileProfileTemplates(ctx, me, uuid.New()); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("another company's templates: %v", err)
	}

	history, err := w.app.Queries().ReadHistory(ctx, app.Viewer{TechnicianID: w.techs[0]}, id)
	if err != nil {
		t.Fatal(err)
	}
	var eventID uuid.UUID
	for _, rec := range history {
		if rec.Type == "request.mobile_profile_file_sent.v1" {
			eventID = rec.ID
			if !strings.Contains(string(rec.Data), `"template_version":1`) {
				t.Fatalf("event %s", rec.Data)
			}
		}
	}
	for _, v := range []app.Viewer{{TechnicianID: w.techs[0]}, {CustomerOf: id}} {
		f, err := w.app.Queries().MobileProfileFile(ctx, v, id, eventID, w.app.ProfileTemplates())
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Replace(v1, "{customer_email}", "ada@example.com", 1); string(f.Content) != want || f.Name != "Wi-Fi.mobileconfig" {
			t.Fatalf("file %s %q, want the sent version 1: %q", f.Name, f.Content, want)
		}
	}
	for _, v := range []app.Viewer{{CustomerOf: uuid.New()}, {TechnicianID: uuid.New()}} {
		if _, err := w.app.Queries().MobileProfileFile(ctx, v, id, eventID, w.app.ProfileTemplates()); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("viewer %+v: %v", v, err)
		}
	}
}
