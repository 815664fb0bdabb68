// Package directory holds who serves whom: companies with their customer portals,
// technicians with their company access, chat availability and notification settings, and
// auditors with the companies whose requests they may read.
package directory

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/text"
)

// MaxNameLength bounds company, portal and technician names, in characters.
const MaxNameLength = 200

// ErrInvalidName is returned for an empty or overlong name.
var ErrInvalidName = errors.New("name must be 1 to 200 characters")

// ErrMissingID is returned when an aggregate would be created without an ID.
var ErrMissingID = errors.New("an ID is required")

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := text.Bounded(name, MaxNameLength, text.Line, ErrInvalidName); err != nil {
		return "", err
	}
	return name, nil
}

// Portal is a company's customer portal: the page its customers submit requests through.
type Portal struct {
	ID   uuid.UUID
	Name string
}

// Company is a customer organisation, with the portals its customers use.
type Company struct {
	id      uuid.UUID
	name    string
	portals []Portal
	// timeZone is the zone of the company's days (timezone.go); "" for UTC.
	timeZone string
	// canned are the company's canned responses, by title (canned.go).
	canned []CannedResponse
	eventlog.Recorder
}

// CreateCompany starts a new company.
func CreateCompany(id uuid.UUID, name string) (*Company, error) {
	if id == uuid.Nil {
		return nil, fmt.Errorf("create company: %w", ErrMissingID)
	}
	name, err := validName(name)
	if err != nil {
		return nil, fmt.Errorf("create company: %w", err)
	}
	c := &Company{}
	c.record(&CompanyCreated{CompanyID: id, Name: name})
	return c, nil
}

// ErrNotACompanyStream is returned when a history does not start with CompanyCreated.
var ErrNotACompanyStream = errors.New("history does not start with company.created")

// CompanyFromHistory rebuilds a company from its stream.
func CompanyFromHistory(history []eventlog.Event) (*Company, error) {
	return eventlog.Replay[*CompanyCreated](&Company{}, history, ErrNotACompanyStream)
}

// Clone returns a copy of the company's state without its uncommitted changes: a command
// decides on the copy while other goroutines may still read the original.
func (c *Company) Clone() *Company {
	return &Company{id: c.id, name: c.name, portals: slices.Clone(c.portals), timeZone: c.timeZone, canned: slices.Clone(c.canned)}
}

// Fold brings the company up to date with events recorded after those it was built from.
func (c *Company) Fold(later []eventlog.Event) {
	for _, e := range later {
		c.apply(e)
	}
}

func (c *Company) ID() uuid.UUID     { return c.id }
func (c *Company) Name() string      { return c.name }
func (c *Company) Portals() []Portal { return append([]Portal(nil), c.portals...) }

// Portal returns the company's portal with that ID.
func (c *Company) Portal(id uuid.UUID) (Portal, bool) {
	for _, p := range c.portals {
		if p.ID == id {
			return p, true
		}
	}
	return Portal{}, false
}

// ErrPortalExists is returned when a portal ID is used twice.
var ErrPortalExists = errors.New("portal already exists")

// AddPortal gives the company a new customer portal.
func (c *Company) AddPortal(id uuid.UUID, name string) error {
	if id == uuid.Nil {
		return fmt.Errorf("add portal: %w", ErrMissingID)
	}
	name, err := validName(name)
	if err != nil {
		return fmt.Errorf("add portal: %w", err)
	}
	if _, ok := c.Portal(id); ok {
		return ErrPortalExists
	}
	c.record(&PortalCreated{CompanyID: c.id, PortalID: id, Name: name})
	return nil
}

func (c *Company) record(e eventlog.Event) { c.Record(c.apply, e) }

func (c *Company) apply(e eventlog.Event) {
	switch e := e.(type) {
	case *CompanyCreated:
		c.id, c.name = e.CompanyID, e.Name
	case *PortalCreated:
		c.portals = append(c.portals, Portal{ID: e.PortalID, Name: e.Name})
	case *CompanyTimeZoneSet:
		c.timeZone = e.TimeZone
	case *CannedResponseSaved, *CannedResponseRemoved:
		c.applyCanned(e)
	}
}
