package directory_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// What the commands record is admitted, one event after the other from nothing.
func TestAdmitWhatCommandsRecord(t *testing.T) {
	companyID, other, techID := uuid.New(), uuid.New(), uuid.New()
	c, err := directory.CreateCompany(companyID, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Help", "Billing"} {
		if err := c.AddPortal(uuid.New(), name); err != nil {
			t.Fatal(err)
		}
	}
	var company directory.Company
	for _, e := range c.Changes() {
		if err := company.Admit(e); err != nil {
			t.Fatalf("company event %s: %v", e.EventType(), err)
		}
	}
	if company.ID() != companyID || len(company.Portals()) != 2 {
		t.Fatalf("admitted company: %v with %d portals", company.ID(), len(company.Portals()))
	}

	tech, err := directory.RegisterTechnician(techID, "Grace Hopper", "grace@example.com")
	if err != nil {
		t.Fatal(err)
	}
	steps := []error{
		tech.GrantAccess(companyID), tech.GrantAccess(other), tech.GrantAccess(companyID), tech.RevokeAccess(other),
		tech.SetAvailability(directory.Available), tech.SetAvailability(directory.Available), tech.SetAvailability(directory.Away),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	tech.ChangeNotificationSettings(directory.NotificationSettings{Email: true, Webhook: true})
	tech.RecordPasswordChange()
	var admitted directory.Technician
	for _, e := range tech.Changes() {
		if err := admitted.Admit(e); err != nil {
			t.Fatalf("technician event %s: %v", e.EventType(), err)
		}
	}
	if got, want := admitted.State(), tech.State(); got.ID != want.ID || len(got.Companies) != 1 || got.Availability != directory.Away || got.Notifications != want.Notifications {
		t.Fatalf("admitted technician %+v, want %+v", got, want)
	}
}

func TestAdmitRefusesWhatNoCommandRecords(t *testing.T) {
	companyID, techID := uuid.New(), uuid.New()
	created := &directory.CompanyCreated{CompanyID: companyID, Name: "Acme"}
	registered := &directory.TechnicianRegistered{TechnicianID: techID, Name: "Grace", Email: "grace@example.com"}
	granted := &directory.AccessGranted{TechnicianID: techID, CompanyID: companyID}
	portal := &directory.PortalCreated{CompanyID: companyID, PortalID: uuid.New(), Name: "Help"}
	tests := []struct {
		name    string
		company bool
		history []eventlog.Event
		event   eventlog.Event
	}{
		{"a portal before the company", true, nil, portal},
		{"a company created twice", true, []eventlog.Event{created}, created},
		{"a company without a name", true, nil, &directory.CompanyCreated{CompanyID: companyID}},
		{"another company's portal", true, []eventlog.Event{created}, &directory.PortalCreated{CompanyID: uuid.New(), PortalID: uuid.New(), Name: "Help"}},
		{"a portal created twice", true, []eventlog.Event{created, portal}, portal},
		{"a technician event in a company stream", true, []eventlog.Event{created}, granted},
		{"access before the registration", false, nil, granted},
		{"registered twice", false, []eventlog.Event{registered}, registered},
		{"access granted twice", false, []eventlog.Event{registered, granted}, granted},
		{"access revoked that was never granted", false, []eventlog.Event{registered}, &directory.AccessRevoked{TechnicianID: techID, CompanyID: companyID}},
		{"another technician's access", false, []eventlog.Event{registered}, &directory.AccessGranted{TechnicianID: uuid.New(), CompanyID: companyID}},
		{"the availability they have", false, []eventlog.Event{registered}, &directory.AvailabilityChanged{TechnicianID: techID, Availability: directory.Offline}},
		{"an unknown availability", false, []eventlog.Event{registered}, &directory.AvailabilityChanged{TechnicianID: techID, Availability: "asleep"}},
		{"an availability in capitals", false, []eventlog.Event{registered}, &directory.AvailabilityChanged{TechnicianID: techID, Availability: "AWAY"}},
		{"the notification settings they have", false, []eventlog.Event{registered}, &directory.NotificationSettingsChanged{TechnicianID: techID, InConsole: true}},
		{"another technician's notification settings", false, []eventlog.Event{registered}, &directory.NotificationSettingsChanged{TechnicianID: uuid.New(), Webhook: true}},
		{"a company event in a technician stream", false, []eventlog.Event{registered}, created},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var admit func(eventlog.Event) error
			if tt.company {
				admit = new(directory.Company).Admit
			} else {
				admit = new(directory.Technician).Admit
			}
			for _, e := range tt.history {
				if err := admit(e); err != nil {
					t.Fatalf("history event %s: %v", e.EventType(), err)
				}
			}
			if err := admit(tt.event); !errors.Is(err, directory.ErrImpossibleEvent) {
				t.Fatalf("Admit = %v, want ErrImpossibleEvent", err)
			}
		})
	}
}

// An auditor's stream as commands write it is admitted; what no command writes is refused.
func TestAuditorAdmit(t *testing.T) {
	id, company, other := uuid.New(), uuid.New(), uuid.New()
	au, err := directory.RegisterAuditor(id, "Fox Mulder", "fox@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{au.GrantAccess(company), au.GrantAccess(other), au.GrantAccess(company), au.RevokeAccess(other)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	au.GrantAllCompanies()
	au.GrantAllCompanies()
	if err := au.RevokeAllCompanies(); err != nil {
		t.Fatal(err)
	}
	au.RecordPasswordChange()
	var admitted directory.Auditor
	for _, e := range au.Changes() {
		if err := admitted.Admit(e); err != nil {
			t.Fatalf("auditor event %s: %v", e.EventType(), err)
		}
	}
	if got, want := admitted.State(), au.State(); got.ID != want.ID || len(got.Companies) != 1 || got.Companies[0] != company || got.AllCompanies {
		t.Fatalf("admitted auditor %+v, want %+v", got, want)
	}

	registered := &directory.AuditorRegistered{AuditorID: id, Name: "Fox Mulder", Email: "fox@example.com"}
	for _, c := range []struct {
		name  string
		after []eventlog.Event
		event eventlog.Event
	}{
		{"a grant before the registration", nil, &directory.AuditorAccessGranted{AuditorID: id, CompanyID: company}},
		{"registered twice", []eventlog.Event{registered}, registered},
		{"a grant of another auditor", []eventlog.Event{registered}, &directory.AuditorAccessGranted{AuditorID: other, CompanyID: company}},
		{"a grant of nothing", []eventlog.Event{registered}, &directory.AuditorAccessGranted{AuditorID: id}},
		{"a grant of both", []eventlog.Event{registered}, &directory.AuditorAccessGranted{AuditorID: id, CompanyID: company, AllCompanies: true}},
		{"a grant held already", []eventlog.Event{registered, &directory.AuditorAccessGranted{AuditorID: id, CompanyID: company}}, &directory.AuditorAccessGranted{AuditorID: id, CompanyID: company}},
		{"a revocation of what is not held", []eventlog.Event{registered}, &directory.AuditorAccessRevoked{AuditorID: id, AllCompanies: true}},
		{"a technician's event", []eventlog.Event{registered}, &directory.AccessGranted{TechnicianID: id, CompanyID: company}},
	} {
		var a directory.Auditor
		for _, e := range c.after {
			if err := a.Admit(e); err != nil {
				t.Fatalf("%s: setup %s: %v", c.name, e.EventType(), err)
			}
		}
		if err := a.Admit(c.event); !errors.Is(err, directory.ErrImpossibleEvent) {
			t.Errorf("%s: Admit = %v, want ErrImpossibleEvent", c.name, err)
		}
	}
}
