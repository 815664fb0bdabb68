package directory_test

import (
	"testing"

	"github.com/helpstream/helpstream/domain/directory"
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
		{Event: &directory.NotificationSettingsChanged{TechnicianID: techID, Settings: directory.NotificationSettings{Email: true, WebhookURL: "https://h.example.com/x", InConsole: false}},
			Type: "technician.notification_settings_changed.v1",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","settings":{"email":true,"webhook_url":"https://h.example.com/x","in_console":false}}`},
		{Event: &directory.NotificationSettingsChanged{TechnicianID: techID, Settings: directory.DefaultNotificationSettings()},
			Type: "technician.notification_settings_changed.v1",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","settings":{"email":false,"in_console":true}}`},
		{Event: &directory.PasswordChanged{TechnicianID: techID}, Type: "technician.password_changed.v1",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
	}
	codectest.CheckWireFormat(t, directory.Codec(), tests, 8)
}

func TestCodecRefusesUnknownTypes(t *testing.T) {
	codectest.CheckRefuses(t, directory.Codec(), []string{"request.submitted.v1", "company.created.v2", "technician.deleted.v1", ""})
}
