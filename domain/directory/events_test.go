package directory_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// Every directory event with its stable, versioned name and its exact JSON payload.
func TestEventWireFormat(t *testing.T) {
	tests := []struct {
		event    eventlog.Event
		typeName string
		json     string
	}{
		{&directory.CompanyCreated{CompanyID: companyID, Name: "Acme"}, "company.created.v1",
			`{"company_id":"00000000-0000-0000-0000-0000000000c1","name":"Acme"}`},
		{&directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: "Help"}, "company.portal_created.v1",
			`{"company_id":"00000000-0000-0000-0000-0000000000c1","portal_id":"00000000-0000-0000-0000-0000000000b1","name":"Help"}`},
		{&directory.TechnicianRegistered{TechnicianID: techID, Name: "Tess", Email: "tess@example.com"}, "technician.registered.v1",
			`{"technician_id":"00000000-0000-0000-0000-000000000001","name":"Tess","email":"tess@example.com"}`},
		{granted(companyID), "technician.access_granted.v1",
			`{"technician_id":"00000000-0000-0000-0000-000000000001","company_id":"00000000-0000-0000-0000-0000000000c1"}`},
		{revoked(companyID), "technician.access_revoked.v1",
			`{"technician_id":"00000000-0000-0000-0000-000000000001","company_id":"00000000-0000-0000-0000-0000000000c1"}`},
		{&directory.AvailabilityChanged{TechnicianID: techID, Availability: directory.Away}, "technician.availability_changed.v1",
			`{"technician_id":"00000000-0000-0000-0000-000000000001","availability":"away"}`},
		{&directory.NotificationSettingsChanged{TechnicianID: techID, Settings: directory.NotificationSettings{Email: true, WebhookURL: "https://h.example.com/x", InConsole: false}},
			"technician.notification_settings_changed.v1",
			`{"technician_id":"00000000-0000-0000-0000-000000000001","settings":{"email":true,"webhook_url":"https://h.example.com/x","in_console":false}}`},
		{&directory.NotificationSettingsChanged{TechnicianID: techID, Settings: directory.DefaultNotificationSettings()},
			"technician.notification_settings_changed.v1",
			`{"technician_id":"00000000-0000-0000-0000-000000000001","settings":{"email":false,"in_console":true}}`},
		{&directory.PasswordChanged{TechnicianID: techID}, "technician.password_changed.v1",
			`{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
	}
	codec := directory.Codec()
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.typeName, func(t *testing.T) {
			seen[tt.typeName] = true
			typ, data, err := codec.Encode(tt.event)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if typ != tt.typeName || string(data) != tt.json {
				t.Fatalf("Encode = %s %s\nwant      %s %s", typ, data, tt.typeName, tt.json)
			}
			if !codec.Knows(typ) {
				t.Fatalf("codec does not know %s", typ)
			}
			back, err := codec.Decode(typ, data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(back, tt.event) {
				t.Fatalf("Decode = %#v, want %#v", back, tt.event)
			}
		})
	}
	if len(seen) != 8 {
		t.Fatalf("table covers %d event types, want all 8 directory events", len(seen))
	}
	for _, typ := range []string{"request.submitted.v1", "company.created.v2", "technician.deleted.v1", ""} {
		if codec.Knows(typ) {
			t.Errorf("Knows(%q) = true", typ)
		}
		if _, err := codec.Decode(typ, json.RawMessage(`{}`)); !errors.Is(err, eventlog.ErrUnknownEventType) {
			t.Errorf("Decode(%q) error = %v, want ErrUnknownEventType", typ, err)
		}
	}
}
