package directory_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/codectest"
)

// Every directory event with its stable, versioned name and its exact JSON payload.
func TestEventWireFormat(t *testing.T) {
	tests := []codectest.Wire{
		{Event: &directory.CompanyCreated{CompanyID: companyID, Name: "Acme"}, Type: "company.created.v1",
			JSON: `{"company_id":"00000000-0000-0000-0000-0000000000c1","name":"Acme"}`},
		{Event: &directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: "Help"}, Type: "company.portal_created.v1",
			JSON: `{"company_id":"00000000-0000-0000-0000-0000000000c1","portal_id":"00000000-0000-0000-0000-0000000000b1","name":"Help"}`},
		{Event: &directory.TechnicianRegistered{TechnicianID: techID, Name: "Tess", Email: "tess@example.com"}, Type: "technician.registered.v1",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","name":"Tess","email":"tess@example.com"}`},
		{Event: granted(companyID), Type: "technician.access_granted.v1",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","company_id":"00000000-0000-0000-0000-0000000000c1"}`},
		{Event: revoked(companyID), Type: "technician.access_revoked.v1",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","company_id":"00000000-0000-0000-0000-0000000000c1"}`},
		{Event: &directory.AvailabilityChanged{TechnicianID: techID, Availability: directory.Away}, Type: "technician.availability_changed.v1",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","availability":"away"}`},
		{Event: &directory.NotificationSettingsChanged{TechnicianID: techID, Email: true, Webhook: true, InConsole: false},
			Type: "technician.notification_settings_changed.v2",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","email":true,"webhook":true,"in_console":false}`},
		{Event: &directory.NotificationSettingsChanged{TechnicianID: techID, InConsole: true},
			Type: "technician.notification_settings_changed.v2",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","email":false,"webhook":false,"in_console":true}`},
		{Event: &directory.PasswordChanged{TechnicianID: techID}, Type: "technician.password_changed.v1",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{Event: &directory.AuditorRegistered{AuditorID: auditorID, Name: "Ann", Email: "ann@example.com"}, Type: "auditor.registered.v1",
			JSON: `{"auditor_id":"00000000-0000-0000-0000-0000000000a1","name":"Ann","email":"ann@example.com"}`},
		{Event: auditorGranted(companyID), Type: "auditor.access_granted.v1",
			JSON: `{"auditor_id":"00000000-0000-0000-0000-0000000000a1","company_id":"00000000-0000-0000-0000-0000000000c1"}`},
		{Event: allGranted, Type: "auditor.access_granted.v1",
			JSON: `{"auditor_id":"00000000-0000-0000-0000-0000000000a1","all_companies":true}`},
		{Event: auditorRevoked(companyID), Type: "auditor.access_revoked.v1",
			JSON: `{"auditor_id":"00000000-0000-0000-0000-0000000000a1","company_id":"00000000-0000-0000-0000-0000000000c1"}`},
		{Event: allRevoked, Type: "auditor.access_revoked.v1",
			JSON: `{"auditor_id":"00000000-0000-0000-0000-0000000000a1","all_companies":true}`},
		{Event: &directory.AuditorPasswordChanged{AuditorID: auditorID}, Type: "auditor.password_changed.v1",
			JSON: `{"auditor_id":"00000000-0000-0000-0000-0000000000a1"}`},
	}
	codectest.CheckWireFormat(t, directory.Codec(), tests, 12)
}

func TestCodecRefusesUnknownTypes(t *testing.T) {
	codectest.CheckRefuses(t, directory.Codec(), []string{"request.submitted.v1", "technician.notification_settings_changed.v3", "company.created.v2", "technician.deleted.v1", "auditor.registered.v2", "auditor.deleted.v1", ""})
}

// Version 1 of notification_settings_changed carried the webhook's URL: it is read as version 2,
// the webhook on when it had a URL, the URL gone; and the upcaster answers errors, not events,
// for payloads version 1 never had.
func TestNotificationSettingsV1Upcast(t *testing.T) {
	const v1 = directory.NotificationSettingsChangedV1
	tests := []struct {
		name string
		data string
		want *directory.NotificationSettingsChanged
	}{
		{"a webhook with a token", `{"technician_id":"00000000-0000-0000-0000-000000000001","settings":{"email":true,"webhook_url":"https://h.example.com/x?token=s3cr3t","in_console":false}}`,
			&directory.NotificationSettingsChanged{TechnicianID: techID, Email: true, Webhook: true}},
		{"no webhook", `{"technician_id":"00000000-0000-0000-0000-000000000001","settings":{"email":false,"in_console":true}}`,
			&directory.NotificationSettingsChanged{TechnicianID: techID, InConsole: true}},
		{"an empty webhook is off", `{"technician_id":"00000000-0000-0000-0000-000000000001","settings":{"email":true,"webhook_url":"","in_console":true}}`,
			&directory.NotificationSettingsChanged{TechnicianID: techID, Email: true, InConsole: true}},
		{"no settings at all", `{"technician_id":"00000000-0000-0000-0000-000000000001","settings":null}`,
			&directory.NotificationSettingsChanged{TechnicianID: techID}},
		{"broken JSON", `{"settings":`, nil},
		{"a URL that is no string", `{"settings":{"webhook_url":1}}`, nil},
		{"a technician that is no UUID", `{"technician_id":"x","settings":{}}`, nil},
	}
	codec := directory.Codec()
	if !codec.Knows(v1) {
		t.Fatalf("the codec does not read %s", v1)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := codec.Decode(v1, []byte(tt.data))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("Decode = %#v, want an error", e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e, tt.want) {
				t.Fatalf("Decode = %#v, want %#v", e, tt.want)
			}
			_, data, err := codec.Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), "h.example.com") || strings.Contains(string(data), "s3cr3t") {
				t.Fatalf("the upcast event still carries the URL: %s", data)
			}
		})
	}
	// A technician's stream of version 1 events folds to the channels they had.
	registered := &directory.TechnicianRegistered{TechnicianID: techID, Name: "Tess", Email: "tess@example.com"}
	on, err := codec.Decode(v1, []byte(tests[0].data))
	if err != nil {
		t.Fatal(err)
	}
	var tech directory.Technician
	for _, e := range []eventlog.Event{registered, on} {
		if err := tech.Admit(e); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := tech.Notifications(), (directory.NotificationSettings{Email: true, Webhook: true}); got != want {
		t.Fatalf("Notifications = %+v, want %+v", got, want)
	}
}

// FuzzDecodeAndFold reads any payload bytes as any event type with the directory codec (and
// whatever upcasters it registers): an event or an error, never a panic, and what it decodes
// is what it writes back. A decoded event is then folded into the company or technician
// or auditor stream it belongs to, as loading one does, and the aggregate is asked what the app and the
// read models ask: an event already in the log must never crash whoever loads its stream.
func FuzzDecodeAndFold(f *testing.F) {
	samples := []eventlog.Event{
		&directory.CompanyCreated{CompanyID: companyID, Name: "Acme"},
		&directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: "Help"},
		&directory.TechnicianRegistered{TechnicianID: techID, Name: "Tess", Email: "tess@example.com"},
		granted(companyID), revoked(companyID),
		&directory.AvailabilityChanged{TechnicianID: techID, Availability: directory.Away},
		&directory.NotificationSettingsChanged{TechnicianID: techID, Email: true, Webhook: true},
		&directory.PasswordChanged{TechnicianID: techID},
		&directory.AuditorRegistered{AuditorID: auditorID, Name: "Ann", Email: "ann@example.com"},
		auditorGranted(companyID), allGranted, auditorRevoked(companyID), allRevoked,
		&directory.AuditorPasswordChanged{AuditorID: auditorID},
	}
	codec := directory.Codec()
	codectest.AddSamples(f, codec, samples...)
	f.Add("company.portal_created.v1", []byte(`{"portal_id":"00000000-0000-0000-0000-0000000000b1","name":"\u0000"}`))
	f.Add("technician.availability_changed.v1", []byte(`{"availability":"sleeping"}`))
	f.Add("technician.notification_settings_changed.v1", []byte(`{"settings":null}`))
	f.Add("technician.notification_settings_changed.v1", []byte(`{"technician_id":"00000000-0000-0000-0000-000000000001","settings":{"email":true,"webhook_url":"https://h.example.com/x","in_console":false}}`))
	f.Add("technician.access_revoked.v1", []byte(`{"company_id":"00000000-0000-0000-0000-000000000000"}`))
	f.Add("auditor.access_granted.v1", []byte(`{"company_id":"00000000-0000-0000-0000-0000000000c1","all_companies":true}`))
	f.Add("auditor.access_granted.v1", []byte(`{"company_id":"00000000-0000-0000-0000-000000000000","all_companies":false}`))
	f.Add("auditor.access_revoked.v1", []byte(`{"all_companies":"yes"}`))
	f.Add("auditor.registered.v1", []byte(`{"auditor_id":null,"name":"\u0000"}`))

	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		e := codectest.CheckDecode(t, codec, typ, data)
		if e == nil {
			return
		}

		company := []eventlog.Event{
			&directory.CompanyCreated{CompanyID: companyID, Name: "Acme"},
			&directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: "Help"},
		}
		technician := []eventlog.Event{
			&directory.TechnicianRegistered{TechnicianID: techID, Name: "Tess", Email: "tess@example.com"},
			granted(companyID), &directory.AvailabilityChanged{TechnicianID: techID, Availability: directory.Available},
		}
		auditor := []eventlog.Event{
			&directory.AuditorRegistered{AuditorID: auditorID, Name: "Ann", Email: "ann@example.com"},
			auditorGranted(companyID),
		}
		switch e.(type) {
		case *directory.AuditorRegistered, *directory.AuditorAccessGranted, *directory.AuditorAccessRevoked, *directory.AuditorPasswordChanged:
			for _, h := range [][]eventlog.Event{append(auditor, e), {e}} {
				a, err := directory.AuditorFromHistory(h)
				if err != nil {
					continue
				}
				_, _ = a.Name(), a.Email()
				for _, c := range a.Companies() {
					if !a.CanRead(c) && c != uuid.Nil {
						t.Fatalf("auditor lists company %s but cannot read it", c)
					}
				}
				if got := directory.RestoreAuditor(a.State()).State(); !reflect.DeepEqual(got, a.State()) {
					t.Fatalf("RestoreAuditor(State) = %#v, want %#v", got, a.State())
				}
				a.GrantAllCompanies()
				_ = a.RevokeAccess(companyID)
				_ = a.RevokeAllCompanies()
				_ = a.GrantAccess(company2)
			}
		case *directory.CompanyCreated, *directory.PortalCreated:
			for _, h := range [][]eventlog.Event{append(company, e), {e}} {
				c, err := directory.CompanyFromHistory(h)
				if err != nil {
					continue // a stream that does not start with company.created is refused, not read
				}
				_, _ = c.ID(), c.Name()
				for _, p := range c.Portals() {
					if _, ok := c.Portal(p.ID); !ok {
						t.Fatalf("company lists portal %s but does not find it", p.ID)
					}
				}
				_ = c.AddPortal(portal2ID, "Another portal")
			}
		default:
			for _, h := range [][]eventlog.Event{append(technician, e), {e}} {
				tech, err := directory.TechnicianFromHistory(h)
				if err != nil {
					continue
				}
				_, _, _ = tech.Name(), tech.Email(), tech.IsAvailable()
				tech.ChangeNotificationSettings(directory.NotificationSettings{Webhook: !tech.Notifications().Webhook})
				for _, c := range tech.Companies() {
					if !tech.HasAccess(c) {
						t.Fatalf("technician lists company %s but has no access to it", c)
					}
				}
				if got := directory.RestoreTechnician(tech.State()).State(); !reflect.DeepEqual(got, tech.State()) {
					t.Fatalf("RestoreTechnician(State) = %#v, want %#v", got, tech.State())
				}
				_ = tech.SetAvailability(directory.Busy)
				_ = tech.GrantAccess(company2)
				_ = tech.RevokeAccess(companyID)
			}
		}
	})
}
