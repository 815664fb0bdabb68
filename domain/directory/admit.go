package directory

import (
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// ErrImpossibleEvent is matched by every refusal of Company.Admit and Technician.Admit: no
// command of the aggregate could have recorded the event where the stream holds it.
var ErrImpossibleEvent = errors.New("no command could have recorded this event")

// Reasons of Admit's refusals that no command error says.
var (
	errNeverCreated      = errors.New("the stream was never started")
	errCreatedTwice      = errors.New("the stream was started already")
	errOtherAggregate    = errors.New("the event names another company or technician than the stream's")
	errAlreadyGranted    = errors.New("the technician has that access already")
	errUnchanged         = errors.New("it changes nothing")
	errNotDirectoryEvent = errors.New("it is not an event of this stream")
)

// Admit checks that e could follow the company's history, as the command recording it would
// have been allowed, and then folds it in. The zero Company admits CompanyCreated alone. The
// refusal wraps ErrImpossibleEvent.
func (c *Company) Admit(e eventlog.Event) error {
	if err := c.admits(e); err != nil {
		return fmt.Errorf("%w: %s cannot follow: %w", ErrImpossibleEvent, e.EventType(), err)
	}
	c.apply(e)
	return nil
}

func (c *Company) admits(e eventlog.Event) error {
	if _, first := e.(*CompanyCreated); !first && c.id == uuid.Nil {
		return errNeverCreated
	}
	switch e := e.(type) {
	case *CompanyCreated:
		if c.id != uuid.Nil {
			return errCreatedTwice
		}
		_, err := CreateCompany(e.CompanyID, e.Name)
		return err
	case *PortalCreated:
		if e.CompanyID != c.id {
			return errOtherAggregate
		}
		return c.Clone().AddPortal(e.PortalID, e.Name)
	case *CompanyTimeZoneSet:
		return c.admitsTimeZone(e)
	case *CannedResponseSaved, *CannedResponseRemoved:
		return c.admitsCanned(e)
	}
	return errNotDirectoryEvent
}

// Admit checks that e could follow the technician's history, as the command recording it would
// have been allowed (a command that would change nothing records nothing), and then folds it
// in. The zero Technician admits TechnicianRegistered alone. The refusal wraps
// ErrImpossibleEvent.
func (t *Technician) Admit(e eventlog.Event) error {
	if err := t.admits(e); err != nil {
		return fmt.Errorf("%w: %s cannot follow: %w", ErrImpossibleEvent, e.EventType(), err)
	}
	t.apply(e)
	return nil
}

func (t *Technician) admits(e eventlog.Event) error {
	if _, first := e.(*TechnicianRegistered); !first && t.state.ID == uuid.Nil {
		return errNeverCreated
	}
	// named is the technician an event after the first names.
	named := func(id uuid.UUID) error {
		if id != t.state.ID {
			return errOtherAggregate
		}
		return nil
	}
	switch e := e.(type) {
	case *TechnicianRegistered:
		if t.state.ID != uuid.Nil {
			return errCreatedTwice
		}
		_, err := RegisterTechnician(e.TechnicianID, e.Name, e.Email)
		return err
	case *AccessGranted:
		if err := named(e.TechnicianID); err != nil {
			return err
		}
		if e.CompanyID == uuid.Nil {
			return ErrMissingID
		}
		if t.HasAccess(e.CompanyID) {
			return errAlreadyGranted
		}
		return nil
	case *AccessRevoked:
		if err := named(e.TechnicianID); err != nil {
			return err
		}
		if !t.HasAccess(e.CompanyID) {
			return ErrNoAccess
		}
		return nil
	case *AvailabilityChanged:
		if err := named(e.TechnicianID); err != nil {
			return err
		}
		a, err := ParseAvailability(string(e.Availability))
		switch {
		case err != nil:
			return err
		case a != e.Availability:
			return fmt.Errorf("%w: %q is not written as a command writes it", ErrInvalidAvailability, e.Availability)
		case a == t.state.Availability:
			return errUnchanged
		}
		return nil
	case *NotificationSettingsChanged:
		if err := named(e.TechnicianID); err != nil {
			return err
		}
		if e.Settings() == t.state.Notifications {
			return errUnchanged
		}
		return nil
	case *PasswordChanged:
		return named(e.TechnicianID)
	}
	return errNotDirectoryEvent
}

// Admit checks that e could follow the auditor's history, as the command recording it would
// have been allowed (a grant held already records nothing; a grant names one company or every
// company, never both or neither), and then folds it in. The zero Auditor admits
// AuditorRegistered alone. The refusal wraps ErrImpossibleEvent.
func (a *Auditor) Admit(e eventlog.Event) error {
	if err := a.admits(e); err != nil {
		return fmt.Errorf("%w: %s cannot follow: %w", ErrImpossibleEvent, e.EventType(), err)
	}
	a.apply(e)
	return nil
}

func (a *Auditor) admits(e eventlog.Event) error {
	if _, first := e.(*AuditorRegistered); !first && a.state.ID == uuid.Nil {
		return errNeverCreated
	}
	named := func(id uuid.UUID) error {
		if id != a.state.ID {
			return errOtherAggregate
		}
		return nil
	}
	switch e := e.(type) {
	case *AuditorRegistered:
		if a.state.ID != uuid.Nil {
			return errCreatedTwice
		}
		_, err := RegisterAuditor(e.AuditorID, e.Name, e.Email)
		return err
	case *AuditorAccessGranted:
		if err := named(e.AuditorID); err != nil {
			return err
		}
		switch {
		case (e.CompanyID == uuid.Nil) == !e.AllCompanies:
			return errOneGrant
		case e.AllCompanies && a.state.AllCompanies, !e.AllCompanies && slices.Contains(a.state.Companies, e.CompanyID):
			return errAlreadyGranted
		}
		return nil
	case *AuditorAccessRevoked:
		if err := named(e.AuditorID); err != nil {
			return err
		}
		switch {
		case (e.CompanyID == uuid.Nil) == !e.AllCompanies:
			return errOneGrant
		case e.AllCompanies && !a.state.AllCompanies, !e.AllCompanies && !slices.Contains(a.state.Companies, e.CompanyID):
			return ErrAuditorNoAccess
		}
		return nil
	case *AuditorPasswordChanged:
		return named(e.AuditorID)
	}
	return errNotDirectoryEvent
}

// errOneGrant refuses an auditor's grant or revocation that names both a company and every
// company, or neither: no command records one.
var errOneGrant = errors.New("a grant names one company or every company")
