package directory

import (
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Auditor reads the complete history of the requests of the companies they were granted (or of
// every company) and changes nothing: no command of the request aggregate takes an auditor.
// Their stream holds who they are and what they may read; their reads are recorded elsewhere,
// in an access log, since a read is not a change of anything the log keeps.
type Auditor struct {
	// state is all the aggregate knows: what its events set, and what RestoreAuditor puts back.
	state AuditorState
	eventlog.Recorder
}

// AuditorState is everything the aggregate knows about an auditor, in plain fields: what a read
// model stores so that it can put the auditor back together.
type AuditorState struct {
	ID    uuid.UUID
	Name  string
	Email string
	// Companies are the companies granted one by one, in the order they were granted. They
	// are kept while AllCompanies is set, so that taking "every company" back leaves them.
	Companies []uuid.UUID
	// AllCompanies grants every company, present and future.
	AllCompanies bool
}

// Errors of the auditor's commands.
var (
	// ErrNotAnAuditorStream is returned when a history does not start with AuditorRegistered.
	ErrNotAnAuditorStream = errors.New("history does not start with auditor.registered")
	// ErrAuditorNoAccess is returned when revoking a grant the auditor does not hold.
	ErrAuditorNoAccess = errors.New("the auditor holds no such grant")
)

// RegisterAuditor starts a new auditor, who may read nothing until granted a company.
func RegisterAuditor(id uuid.UUID, name, email string) (*Auditor, error) {
	if id == uuid.Nil {
		return nil, fmt.Errorf("register auditor: %w", ErrMissingID)
	}
	name, err := validName(name)
	if err != nil {
		return nil, fmt.Errorf("register auditor: %w", err)
	}
	email, err = NormalizeEmail(email)
	if err != nil {
		return nil, fmt.Errorf("register auditor: %w", err)
	}
	a := &Auditor{}
	a.record(&AuditorRegistered{AuditorID: id, Name: name, Email: email})
	return a, nil
}

// AuditorFromHistory rebuilds an auditor from their stream.
func AuditorFromHistory(history []eventlog.Event) (*Auditor, error) {
	return eventlog.Replay[*AuditorRegistered](&Auditor{}, history, ErrNotAnAuditorStream)
}

// Clone returns a copy of the auditor's state without uncommitted changes: a command decides on
// the copy while other goroutines may still read the original.
func (a *Auditor) Clone() *Auditor { return &Auditor{state: a.state.clone()} }

// Fold brings the auditor up to date with events recorded after those they were built from.
func (a *Auditor) Fold(later []eventlog.Event) {
	for _, e := range later {
		a.apply(e)
	}
}

func (a *Auditor) ID() uuid.UUID          { return a.state.ID }
func (a *Auditor) Name() string           { return a.state.Name }
func (a *Auditor) Email() string          { return a.state.Email }
func (a *Auditor) Companies() []uuid.UUID { return slices.Clone(a.state.Companies) }
func (a *Auditor) AllCompanies() bool     { return a.state.AllCompanies }

// CanRead reports whether the auditor may read the requests of a company: a request of any
// other company does not exist for them, as for a technician (R2).
func (a *Auditor) CanRead(companyID uuid.UUID) bool {
	return companyID != uuid.Nil && (a.state.AllCompanies || slices.Contains(a.state.Companies, companyID))
}

// GrantAccess lets the auditor read a company's requests. Granting it again changes nothing.
func (a *Auditor) GrantAccess(companyID uuid.UUID) error {
	if companyID == uuid.Nil {
		return fmt.Errorf("grant auditor access: %w", ErrMissingID)
	}
	if !slices.Contains(a.state.Companies, companyID) {
		a.record(&AuditorAccessGranted{AuditorID: a.state.ID, CompanyID: companyID})
	}
	return nil
}

// GrantAllCompanies lets the auditor read every company's requests, those of companies created
// later too. Granting it again changes nothing.
func (a *Auditor) GrantAllCompanies() {
	if !a.state.AllCompanies {
		a.record(&AuditorAccessGranted{AuditorID: a.state.ID, AllCompanies: true})
	}
}

// RevokeAccess takes back a company granted one by one. While the auditor holds every company,
// they still read it.
func (a *Auditor) RevokeAccess(companyID uuid.UUID) error {
	if !slices.Contains(a.state.Companies, companyID) {
		return fmt.Errorf("revoke auditor access to company %s: %w", companyID, ErrAuditorNoAccess)
	}
	a.record(&AuditorAccessRevoked{AuditorID: a.state.ID, CompanyID: companyID})
	return nil
}

// RevokeAllCompanies takes back the grant of every company; the companies granted one by one
// stay.
func (a *Auditor) RevokeAllCompanies() error {
	if !a.state.AllCompanies {
		return fmt.Errorf("revoke auditor access to every company: %w", ErrAuditorNoAccess)
	}
	a.record(&AuditorAccessRevoked{AuditorID: a.state.ID, AllCompanies: true})
	return nil
}

// RecordPasswordChange notes that the password changed; the hash itself is kept elsewhere.
func (a *Auditor) RecordPasswordChange() {
	a.record(&AuditorPasswordChanged{AuditorID: a.state.ID})
}

func (a *Auditor) record(e eventlog.Event) { a.Record(a.apply, e) }

// apply folds an event as it is stored: a grant that names both a company and every company
// grants both, one that names neither grants nothing, so that no stored payload stops a load.
func (a *Auditor) apply(e eventlog.Event) {
	switch e := e.(type) {
	case *AuditorRegistered:
		a.state.ID, a.state.Name, a.state.Email = e.AuditorID, e.Name, e.Email
	case *AuditorAccessGranted:
		if e.AllCompanies {
			a.state.AllCompanies = true
		}
		if e.CompanyID != uuid.Nil && !slices.Contains(a.state.Companies, e.CompanyID) {
			a.state.Companies = append(a.state.Companies, e.CompanyID)
		}
	case *AuditorAccessRevoked:
		if e.AllCompanies {
			a.state.AllCompanies = false
		}
		if e.CompanyID != uuid.Nil {
			a.state.Companies = slices.DeleteFunc(a.state.Companies, func(id uuid.UUID) bool { return id == e.CompanyID })
		}
	}
}

// State returns the auditor's state.
func (a *Auditor) State() AuditorState { return a.state.clone() }

// RestoreAuditor puts an auditor back together from a stored state, as AuditorFromHistory would
// from the events that led to it. The restored auditor has no pending changes.
func RestoreAuditor(s AuditorState) *Auditor { return &Auditor{state: s.clone()} }

// clone returns a copy that shares no slice with s.
func (s AuditorState) clone() AuditorState {
	s.Companies = slices.Clone(s.Companies)
	return s
}
