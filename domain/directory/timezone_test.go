package directory_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/codectest"
)

func TestCompanyTimeZone(t *testing.T) {
	for _, tc := range []struct {
		zone string
		ok   bool
	}{
		{"Europe/Paris", true},
		{"UTC", true},
		{"America/Argentina/Buenos_Aires", true},
		{"", false},
		{"Local", false},
		{"Mars/Olympus_Mons", false},
		{" Europe/Paris", false},
		{"../../etc/passwd", false},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			c, err := directory.CreateCompany(uuid.New(), "Acme")
			if err != nil {
				t.Fatal(err)
			}
			err = c.SetTimeZone(tc.zone)
			if tc.ok != (err == nil) {
				t.Fatalf("SetTimeZone(%q) = %v", tc.zone, err)
			}
			if !tc.ok {
				if !errors.Is(err, directory.ErrInvalidTimeZone) {
					t.Errorf("err = %v, want ErrInvalidTimeZone", err)
				}
				if len(c.Changes()) != 1 {
					t.Errorf("a refused zone recorded %d events", len(c.Changes())-1)
				}
				return
			}
			if c.TimeZone() != tc.zone {
				t.Errorf("TimeZone() = %q", c.TimeZone())
			}
			// the same zone again records nothing
			if err := c.SetTimeZone(tc.zone); err != nil || len(c.Changes()) != 2 {
				t.Errorf("setting the zone again: %v, %d changes", err, len(c.Changes()))
			}
			// the history folds back, and Admit takes it
			again, err := directory.CompanyFromHistory(c.Changes())
			if err != nil || again.TimeZone() != tc.zone {
				t.Fatalf("from history: %v, %q", err, again.TimeZone())
			}
			admitted := &directory.Company{}
			for _, e := range c.Changes() {
				if err := admitted.Admit(e); err != nil {
					t.Fatalf("Admit(%s): %v", e.EventType(), err)
				}
			}
		})
	}
}

func TestAdmitRefusesImpossibleTimeZones(t *testing.T) {
	id := uuid.New()
	created := &directory.CompanyCreated{CompanyID: id, Name: "Acme"}
	for name, history := range map[string][]eventlog.Event{
		"another company's":  {created, &directory.CompanyTimeZoneSet{CompanyID: uuid.New(), TimeZone: "UTC"}},
		"not a zone":         {created, &directory.CompanyTimeZoneSet{CompanyID: id, TimeZone: "Nowhere/Else"}},
		"the zone it has":    {created, &directory.CompanyTimeZoneSet{CompanyID: id, TimeZone: "UTC"}, &directory.CompanyTimeZoneSet{CompanyID: id, TimeZone: "UTC"}},
		"before the company": {&directory.CompanyTimeZoneSet{CompanyID: id, TimeZone: "UTC"}},
	} {
		t.Run(name, func(t *testing.T) {
			c := &directory.Company{}
			var err error
			for _, e := range history {
				if err = c.Admit(e); err != nil {
					break
				}
			}
			if !errors.Is(err, directory.ErrImpossibleEvent) {
				t.Errorf("Admit = %v, want ErrImpossibleEvent", err)
			}
		})
	}
}

// company.time_zone_set's stable name and exact JSON (beside TestEventWireFormat's table, which
// another change of the same day rewrites).
func TestTimeZoneWireFormat(t *testing.T) {
	codectest.CheckWireFormat(t, directory.Codec(), []codectest.Wire{
		{Event: &directory.CompanyTimeZoneSet{CompanyID: companyID, TimeZone: "Europe/Paris"}, Type: "company.time_zone_set.v1",
			JSON: `{"company_id":"00000000-0000-0000-0000-0000000000c1","time_zone":"Europe/Paris"}`},
	}, 1)
}
