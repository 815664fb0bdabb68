package directory

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/text"
)

// Availability is a technician's chat status. Only Available technicians see unassigned
// requests and take new ones (R2).
type Availability string

const (
	Available Availability = "available"
	Busy      Availability = "busy"
	Away      Availability = "away"
	Offline   Availability = "offline"
)

// ErrInvalidAvailability is returned for a status other than available, busy, away or offline.
var ErrInvalidAvailability = errors.New("availability must be available, busy, away or offline")

// ParseAvailability reads a status, case-insensitively.
func ParseAvailability(s string) (Availability, error) {
	a := Availability(strings.ToLower(strings.TrimSpace(s)))
	switch a {
	case Available, Busy, Away, Offline:
		return a, nil
	}
	return "", fmt.Errorf("%w, not %q", ErrInvalidAvailability, s)
}

// NotificationSettings says how a technician hears of new requests for their companies (R5):
// which channels are on. A webhook's URL and the secret that signs what is posted to it are
// secrets (a URL carries its receiver's token), so they never enter the log (design §6): the
// application keeps them in its webhook endpoints, and the technician knows only that the
// channel is on.
type NotificationSettings struct {
	// Email sends a message to the technician's address.
	Email bool `json:"email"`
	// Webhook POSTs to the technician's endpoint (a text-message gateway, a chat tool).
	Webhook bool `json:"webhook"`
	// InConsole shows a notification in the web console.
	InConsole bool `json:"in_console"`
}

// DefaultNotificationSettings are a new technician's: in the console only.
func DefaultNotificationSettings() NotificationSettings {
	return NotificationSettings{InConsole: true}
}

// Technician serves the requests of the companies they have access to.
type Technician struct {
	// state is all the aggregate knows: what its events set, and what RestoreTechnician puts
	// back.
	state TechnicianState
	eventlog.Recorder
}

// ErrInvalidEmail is returned for an address that is not a plain e-mail address.
var ErrInvalidEmail = errors.New("a valid e-mail address is required")

// NormalizeEmail validates an e-mail address and returns it trimmed and lower-cased.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if err := text.Line(email); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidEmail, err)
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		return "", ErrInvalidEmail
	}
	return strings.ToLower(email), nil
}

// RegisterTechnician starts a new technician, Offline, with no company access.
func RegisterTechnician(id uuid.UUID, name, email string) (*Technician, error) {
	if id == uuid.Nil {
		return nil, fmt.Errorf("register technician: %w", ErrMissingID)
	}
	name, err := validName(name)
	if err != nil {
		return nil, fmt.Errorf("register technician: %w", err)
	}
	email, err = NormalizeEmail(email)
	if err != nil {
		return nil, fmt.Errorf("register technician: %w", err)
	}
	t := &Technician{}
	t.record(&TechnicianRegistered{TechnicianID: id, Name: name, Email: email})
	return t, nil
}

// ErrNotATechnicianStream is returned when a history does not start with TechnicianRegistered.
var ErrNotATechnicianStream = errors.New("history does not start with technician.registered")

// TechnicianFromHistory rebuilds a technician from their stream.
func TechnicianFromHistory(history []eventlog.Event) (*Technician, error) {
	return eventlog.Replay[*TechnicianRegistered](&Technician{}, history, ErrNotATechnicianStream)
}

// Clone returns a copy of the technician's state without uncommitted changes: a command
// decides on the copy while other goroutines may still read the original.
func (t *Technician) Clone() *Technician {
	return &Technician{state: t.state.clone()}
}

// Fold brings the technician up to date with events recorded after those they were built from.
func (t *Technician) Fold(later []eventlog.Event) {
	for _, e := range later {
		t.apply(e)
	}
}

func (t *Technician) ID() uuid.UUID                       { return t.state.ID }
func (t *Technician) Name() string                        { return t.state.Name }
func (t *Technician) Email() string                       { return t.state.Email }
func (t *Technician) Availability() Availability          { return t.state.Availability }
func (t *Technician) IsAvailable() bool                   { return t.state.Availability == Available }
func (t *Technician) Notifications() NotificationSettings { return t.state.Notifications }
func (t *Technician) Companies() []uuid.UUID              { return slices.Clone(t.state.Companies) }

// HasAccess reports whether the technician may serve the company's requests (R2).
func (t *Technician) HasAccess(companyID uuid.UUID) bool {
	return slices.Contains(t.state.Companies, companyID)
}

// GrantAccess lets the technician serve a company. Granting it again changes nothing.
func (t *Technician) GrantAccess(companyID uuid.UUID) error {
	if companyID == uuid.Nil {
		return fmt.Errorf("grant access: %w", ErrMissingID)
	}
	if !t.HasAccess(companyID) {
		t.record(&AccessGranted{TechnicianID: t.state.ID, CompanyID: companyID})
	}
	return nil
}

// ErrNoAccess is returned when revoking access the technician does not have.
var ErrNoAccess = errors.New("technician has no access to that company")

// RevokeAccess takes away access to a company.
func (t *Technician) RevokeAccess(companyID uuid.UUID) error {
	if !t.HasAccess(companyID) {
		return ErrNoAccess
	}
	t.record(&AccessRevoked{TechnicianID: t.state.ID, CompanyID: companyID})
	return nil
}

// SetAvailability changes the chat status. Setting the current one again changes nothing.
func (t *Technician) SetAvailability(a Availability) error {
	a, err := ParseAvailability(string(a))
	if err != nil {
		return err
	}
	if a != t.state.Availability {
		t.record(&AvailabilityChanged{TechnicianID: t.state.ID, Availability: a})
	}
	return nil
}

// ChangeNotificationSettings replaces which channels notify the technician. Setting the current
// ones again changes nothing.
func (t *Technician) ChangeNotificationSettings(s NotificationSettings) {
	if s != t.state.Notifications {
		t.record(&NotificationSettingsChanged{TechnicianID: t.state.ID, Email: s.Email, Webhook: s.Webhook, InConsole: s.InConsole})
	}
}

// RecordPasswordChange notes that the password changed; the hash itself is kept elsewhere.
func (t *Technician) RecordPasswordChange() {
	t.record(&PasswordChanged{TechnicianID: t.state.ID})
}

func (t *Technician) record(e eventlog.Event) { t.Record(t.apply, e) }

func (t *Technician) apply(e eventlog.Event) {
	switch e := e.(type) {
	case *TechnicianRegistered:
		t.state.ID, t.state.Name, t.state.Email = e.TechnicianID, e.Name, e.Email
		t.state.Availability = Offline
		t.state.Notifications = DefaultNotificationSettings()
	case *AccessGranted:
		t.state.Companies = append(t.state.Companies, e.CompanyID)
	case *AccessRevoked:
		t.state.Companies = slices.DeleteFunc(t.state.Companies, func(id uuid.UUID) bool { return id == e.CompanyID })
	case *AvailabilityChanged:
		t.state.Availability = e.Availability
	case *NotificationSettingsChanged:
		t.state.Notifications = e.Settings()
	}
}
