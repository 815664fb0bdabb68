package directory

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// CompanyTimeZoneSet sets the time zone a company's days are counted in: the analytics job puts
// each request in the day of its submission in its company's time zone (issue 14). A company
// without one counts UTC days.
type CompanyTimeZoneSet struct {
	CompanyID uuid.UUID `json:"company_id"`
	// TimeZone is an IANA time-zone name, "Europe/Paris", or "UTC".
	TimeZone string `json:"time_zone"`
}

func (*CompanyTimeZoneSet) EventType() string { return "company.time_zone_set.v1" }

// ErrInvalidTimeZone is returned for a name that is not an IANA time zone.
var ErrInvalidTimeZone = errors.New("time zone must be an IANA name such as Europe/Paris, or UTC")

// ValidTimeZone checks a time-zone name: an IANA name the Go time package knows ("Local" and the
// empty name, which mean the server's zone or UTC by accident, are refused).
func ValidTimeZone(name string) error {
	if name == "" || name == "Local" || strings.TrimSpace(name) != name || len(name) > 64 {
		return ErrInvalidTimeZone
	}
	if _, err := time.LoadLocation(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTimeZone, err)
	}
	return nil
}

// TimeZone is the company's time zone; "" when none was set (its days are UTC days).
func (c *Company) TimeZone() string { return c.timeZone }

// SetTimeZone sets the time zone of the company's days. Setting the zone it has records nothing.
func (c *Company) SetTimeZone(name string) error {
	if err := ValidTimeZone(name); err != nil {
		return fmt.Errorf("set time zone: %w", err)
	}
	if name == c.timeZone {
		return nil
	}
	c.record(&CompanyTimeZoneSet{CompanyID: c.id, TimeZone: name})
	return nil
}

// admitsTimeZone is Admit's rule for CompanyTimeZoneSet: the company's own, a valid zone, and
// a change (SetTimeZone records nothing otherwise).
func (c *Company) admitsTimeZone(e *CompanyTimeZoneSet) error {
	if e.CompanyID != c.id {
		return errOtherAggregate
	}
	if err := ValidTimeZone(e.TimeZone); err != nil {
		return err
	}
	if e.TimeZone == c.timeZone {
		return errUnchanged
	}
	return nil
}
