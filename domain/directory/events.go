package directory

import (
	"encoding/json"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// CompanyCreated starts a company's stream.
type CompanyCreated struct {
	CompanyID uuid.UUID `json:"company_id"`
	Name      string    `json:"name"`
}

// PortalCreated adds a customer portal to a company.
type PortalCreated struct {
	CompanyID uuid.UUID `json:"company_id"`
	PortalID  uuid.UUID `json:"portal_id"`
	Name      string    `json:"name"`
}

// TechnicianRegistered starts a technician's stream. The password is never in the log.
type TechnicianRegistered struct {
	TechnicianID uuid.UUID `json:"technician_id"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
}

// AccessGranted lets a technician serve a company's requests.
type AccessGranted struct {
	TechnicianID uuid.UUID `json:"technician_id"`
	CompanyID    uuid.UUID `json:"company_id"`
}

// AccessRevoked takes that access away.
type AccessRevoked struct {
	TechnicianID uuid.UUID `json:"technician_id"`
	CompanyID    uuid.UUID `json:"company_id"`
}

// AvailabilityChanged records a technician's chat status.
type AvailabilityChanged struct {
	TechnicianID uuid.UUID    `json:"technician_id"`
	Availability Availability `json:"availability"`
}

// NotificationSettingsChanged records which channels tell a technician of new requests. It
// says that the webhook is on, never where it posts nor how it signs (design §6): version 1
// carried the URL, and is read through upcastNotificationSettingsV1.
type NotificationSettingsChanged struct {
	TechnicianID uuid.UUID `json:"technician_id"`
	Email        bool      `json:"email"`
	Webhook      bool      `json:"webhook"`
	InConsole    bool      `json:"in_console"`
}

// Settings returns the channels the event turns on.
func (e *NotificationSettingsChanged) Settings() NotificationSettings {
	return NotificationSettings{Email: e.Email, Webhook: e.Webhook, InConsole: e.InConsole}
}

// NotificationSettingsChangedV1 is the type name of the first version, which carried the
// webhook's URL. Nothing writes it any more; `helpstream admin secrets-migrate` reads the URLs
// out of the stored ones, and the codec reads them as the current version.
const NotificationSettingsChangedV1 = "technician.notification_settings_changed.v1"

// upcastNotificationSettingsV1 reads version 1 ({technician_id, settings: {email,
// webhook_url, in_console}}) as the current version: the webhook is on when it had a URL, and
// the URL is dropped.
func upcastNotificationSettingsV1(data json.RawMessage) (string, json.RawMessage, error) {
	var v1 struct {
		TechnicianID json.RawMessage `json:"technician_id"`
		Settings     *struct {
			Email      bool   `json:"email"`
			WebhookURL string `json:"webhook_url"`
			InConsole  bool   `json:"in_console"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(data, &v1); err != nil {
		return "", nil, err
	}
	v2 := struct {
		TechnicianID json.RawMessage `json:"technician_id,omitempty"`
		Email        bool            `json:"email"`
		Webhook      bool            `json:"webhook"`
		InConsole    bool            `json:"in_console"`
	}{TechnicianID: v1.TechnicianID}
	if s := v1.Settings; s != nil {
		v2.Email, v2.Webhook, v2.InConsole = s.Email, s.WebhookURL != "", s.InConsole
	}
	out, err := json.Marshal(v2)
	if err != nil {
		return "", nil, err
	}
	return (*NotificationSettingsChanged).EventType(nil), out, nil
}

// PasswordChanged says that a technician's password was set; the hash lives outside the log.
type PasswordChanged struct {
	TechnicianID uuid.UUID `json:"technician_id"`
}

// AuditorRegistered starts an auditor's stream. The password is never in the log.
type AuditorRegistered struct {
	AuditorID uuid.UUID `json:"auditor_id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
}

// AuditorAccessGranted lets an auditor read one company's requests ({company_id}) or every
// company's ({all_companies: true}).
type AuditorAccessGranted struct {
	AuditorID    uuid.UUID `json:"auditor_id"`
	CompanyID    uuid.UUID `json:"company_id,omitzero"`
	AllCompanies bool      `json:"all_companies,omitempty"`
}

// AuditorAccessRevoked takes a grant back: one company's, or that of every company.
type AuditorAccessRevoked struct {
	AuditorID    uuid.UUID `json:"auditor_id"`
	CompanyID    uuid.UUID `json:"company_id,omitzero"`
	AllCompanies bool      `json:"all_companies,omitempty"`
}

// AuditorPasswordChanged says that an auditor's password was set; the hash lives outside the log.
type AuditorPasswordChanged struct {
	AuditorID uuid.UUID `json:"auditor_id"`
}

func (*CompanyCreated) EventType() string       { return "company.created.v1" }
func (*PortalCreated) EventType() string        { return "company.portal_created.v1" }
func (*TechnicianRegistered) EventType() string { return "technician.registered.v1" }
func (*AccessGranted) EventType() string        { return "technician.access_granted.v1" }
func (*AccessRevoked) EventType() string        { return "technician.access_revoked.v1" }
func (*AvailabilityChanged) EventType() string  { return "technician.availability_changed.v1" }
func (*NotificationSettingsChanged) EventType() string {
	return "technician.notification_settings_changed.v2"
}
func (*PasswordChanged) EventType() string        { return "technician.password_changed.v1" }
func (*AuditorRegistered) EventType() string      { return "auditor.registered.v1" }
func (*AuditorAccessGranted) EventType() string   { return "auditor.access_granted.v1" }
func (*AuditorAccessRevoked) EventType() string   { return "auditor.access_revoked.v1" }
func (*AuditorPasswordChanged) EventType() string { return "auditor.password_changed.v1" }

// Codec reads and writes every directory event: companies', technicians' and auditors'.
func Codec() *eventlog.Codec {
	return eventlog.NewCodec(
		func() eventlog.Event { return &CompanyCreated{} },
		func() eventlog.Event { return &PortalCreated{} },
		func() eventlog.Event { return &CompanyTimeZoneSet{} },
		func() eventlog.Event { return &CannedResponseSaved{} },
		func() eventlog.Event { return &CannedResponseRemoved{} },
		func() eventlog.Event { return &TechnicianRegistered{} },
		func() eventlog.Event { return &AccessGranted{} },
		func() eventlog.Event { return &AccessRevoked{} },
		func() eventlog.Event { return &AvailabilityChanged{} },
		func() eventlog.Event { return &NotificationSettingsChanged{} },
		func() eventlog.Event { return &PasswordChanged{} },
		func() eventlog.Event { return &AuditorRegistered{} },
		func() eventlog.Event { return &AuditorAccessGranted{} },
		func() eventlog.Event { return &AuditorAccessRevoked{} },
		func() eventlog.Event { return &AuditorPasswordChanged{} },
	).WithUpcaster(NotificationSettingsChangedV1, upcastNotificationSettingsV1)
}

// CompanyStream is the stream of a company and its portals.
func CompanyStream(id uuid.UUID) string { return "company-" + id.String() }

// TechnicianStream is the stream of a technician.
func TechnicianStream(id uuid.UUID) string { return "technician-" + id.String() }

// AuditorStream is the stream of an auditor.
func AuditorStream(id uuid.UUID) string { return "auditor-" + id.String() }
