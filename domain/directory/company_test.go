package directory_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
)

var (
	companyID = uuid.MustParse("00000000-0000-0000-0000-0000000000c1")
	portalID  = uuid.MustParse("00000000-0000-0000-0000-0000000000b1")
	portal2ID = uuid.MustParse("00000000-0000-0000-0000-0000000000b2")
	techID    = uuid.MustParse("00000000-0000-0000-0000-000000000001")
	company2  = uuid.MustParse("00000000-0000-0000-0000-0000000000c2")
	company3  = uuid.MustParse("00000000-0000-0000-0000-0000000000c3")
)

// nameCases are shared by every name in the directory: company, portal and technician.
var nameCases = []struct {
	name string
	in   string
	want string // the recorded name; "" means ErrInvalidName
}{
	{name: "plain", in: "Acme", want: "Acme"},
	{name: "trimmed", in: "  Acme Corp\t\n", want: "Acme Corp"},
	{name: "inner spaces kept", in: "Acme  Corp", want: "Acme  Corp"},
	{name: "one character", in: "A", want: "A"},
	{name: "200 characters", in: strings.Repeat("a", 200), want: strings.Repeat("a", 200)},
	{name: "200 multi-byte characters", in: strings.Repeat("日", 200), want: strings.Repeat("日", 200)},
	{name: "200 characters padded", in: " " + strings.Repeat("a", 200) + " ", want: strings.Repeat("a", 200)},
	{name: "empty", in: ""},
	{name: "blank", in: " \t\r\n"},
	{name: "201 characters", in: strings.Repeat("a", 201)},
	{name: "201 multi-byte characters", in: strings.Repeat("日", 201)},
	{name: "not UTF-8", in: "Ac\xffme"},
}

func TestCreateCompany(t *testing.T) {
	t.Run("missing ID", func(t *testing.T) {
		c, err := directory.CreateCompany(uuid.Nil, "Acme")
		if !errors.Is(err, directory.ErrMissingID) || c != nil {
			t.Fatalf("CreateCompany(nil ID) = %v, %v; want ErrMissingID", c, err)
		}
	})
	t.Run("missing ID reported before bad name", func(t *testing.T) {
		if _, err := directory.CreateCompany(uuid.Nil, ""); !errors.Is(err, directory.ErrMissingID) {
			t.Fatalf("error = %v, want ErrMissingID", err)
		}
	})
	for _, tt := range nameCases {
		t.Run(tt.name, func(t *testing.T) {
			c, err := directory.CreateCompany(companyID, tt.in)
			if tt.want == "" {
				if !errors.Is(err, directory.ErrInvalidName) || c != nil {
					t.Fatalf("CreateCompany(%q) = %v, %v; want ErrInvalidName", tt.in, c, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateCompany(%q): %v", tt.in, err)
			}
			want := []eventlog.Event{&directory.CompanyCreated{CompanyID: companyID, Name: tt.want}}
			if !reflect.DeepEqual(c.Changes(), want) {
				t.Fatalf("Changes = %#v, want %#v", c.Changes(), want)
			}
			if c.ID() != companyID || c.Name() != tt.want || len(c.Portals()) != 0 {
				t.Fatalf("company = %v %q %v", c.ID(), c.Name(), c.Portals())
			}
		})
	}
}

func newCompany(t *testing.T) *directory.Company {
	t.Helper()
	c, err := directory.CompanyFromHistory([]eventlog.Event{&directory.CompanyCreated{CompanyID: companyID, Name: "Acme"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAddPortal(t *testing.T) {
	for _, tt := range nameCases {
		t.Run("name "+tt.name, func(t *testing.T) {
			c := newCompany(t)
			err := c.AddPortal(portalID, tt.in)
			if tt.want == "" {
				if !errors.Is(err, directory.ErrInvalidName) {
					t.Fatalf("AddPortal(%q) = %v, want ErrInvalidName", tt.in, err)
				}
				if len(c.Changes()) != 0 || len(c.Portals()) != 0 {
					t.Fatal("a refused portal was recorded")
				}
				return
			}
			if err != nil {
				t.Fatalf("AddPortal(%q): %v", tt.in, err)
			}
			want := []eventlog.Event{&directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: tt.want}}
			if !reflect.DeepEqual(c.Changes(), want) {
				t.Fatalf("Changes = %#v, want %#v", c.Changes(), want)
			}
			p, ok := c.Portal(portalID)
			if !ok || p != (directory.Portal{ID: portalID, Name: tt.want}) {
				t.Fatalf("Portal = %+v, %v", p, ok)
			}
		})
	}

	tests := []struct {
		name     string
		existing []eventlog.Event
		id       uuid.UUID
		portal   string
		want     error
	}{
		{"missing ID", nil, uuid.Nil, "Help", directory.ErrMissingID},
		{"missing ID reported before bad name", nil, uuid.Nil, "", directory.ErrMissingID},
		{"first portal", nil, portalID, "Help", nil},
		{"second portal", []eventlog.Event{&directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: "Help"}}, portal2ID, "Support", nil},
		{"second portal with the same name", []eventlog.Event{&directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: "Help"}}, portal2ID, "Help", nil},
		{"same portal ID again", []eventlog.Event{&directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: "Help"}}, portalID, "Other", directory.ErrPortalExists},
		{"same portal ID and name again", []eventlog.Event{&directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: "Help"}}, portalID, "Help", directory.ErrPortalExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			history := append([]eventlog.Event{&directory.CompanyCreated{CompanyID: companyID, Name: "Acme"}}, tt.existing...)
			c, err := directory.CompanyFromHistory(history)
			if err != nil {
				t.Fatal(err)
			}
			before := len(c.Portals())
			err = c.AddPortal(tt.id, tt.portal)
			if !errors.Is(err, tt.want) {
				t.Fatalf("AddPortal error = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if len(c.Changes()) != 0 || len(c.Portals()) != before {
					t.Fatal("a refused portal was recorded")
				}
				return
			}
			want := []eventlog.Event{&directory.PortalCreated{CompanyID: companyID, PortalID: tt.id, Name: tt.portal}}
			if !reflect.DeepEqual(c.Changes(), want) {
				t.Fatalf("Changes = %#v, want %#v", c.Changes(), want)
			}
			if len(c.Portals()) != before+1 {
				t.Fatalf("Portals = %v", c.Portals())
			}
		})
	}
}

func TestCompanyPortals(t *testing.T) {
	c, err := directory.CreateCompany(companyID, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddPortal(portalID, "Help"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddPortal(portal2ID, "Support"); err != nil {
		t.Fatal(err)
	}
	want := []directory.Portal{{ID: portalID, Name: "Help"}, {ID: portal2ID, Name: "Support"}}
	got := c.Portals()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Portals = %v, want %v", got, want)
	}
	got[0].Name = "changed"
	if p, _ := c.Portal(portalID); p.Name != "Help" {
		t.Fatal("changing the returned slice changed the company")
	}
	lookups := []struct {
		id   uuid.UUID
		want directory.Portal
		ok   bool
	}{
		{portalID, want[0], true},
		{portal2ID, want[1], true},
		{uuid.Nil, directory.Portal{}, false},
		{companyID, directory.Portal{}, false},
	}
	for _, l := range lookups {
		if p, ok := c.Portal(l.id); p != l.want || ok != l.ok {
			t.Errorf("Portal(%v) = %+v, %v; want %+v, %v", l.id, p, ok, l.want, l.ok)
		}
	}
	if n := len(c.Changes()); n != 3 {
		t.Fatalf("Changes has %d events, want 3", n)
	}
	// The recorded history rebuilds the same company.
	again, err := directory.CompanyFromHistory(c.Changes())
	if err != nil {
		t.Fatal(err)
	}
	if again.ID() != companyID || again.Name() != "Acme" || !reflect.DeepEqual(again.Portals(), want) || len(again.Changes()) != 0 {
		t.Fatalf("replayed company = %v %q %v", again.ID(), again.Name(), again.Portals())
	}
}

// Each aggregate is rebuilt only from a stream that starts with the event that creates it.
func TestFromHistory(t *testing.T) {
	// Each rebuilds its aggregate and tells its ID and name, "" when none came back.
	company := func(h []eventlog.Event) (string, error) {
		c, err := directory.CompanyFromHistory(h)
		if c == nil {
			return "", err
		}
		return c.ID().String() + " " + c.Name(), err
	}
	technician := func(h []eventlog.Event) (string, error) {
		tech, err := directory.TechnicianFromHistory(h)
		if tech == nil {
			return "", err
		}
		return tech.ID().String() + " " + tech.Name(), err
	}
	tests := []struct {
		name        string
		fromHistory func([]eventlog.Event) (string, error)
		history     []eventlog.Event
		want        error
		wantRebuilt string
	}{
		{"company from nil", company, nil, directory.ErrNotACompanyStream, ""},
		{"company from empty", company, []eventlog.Event{}, directory.ErrNotACompanyStream, ""},
		{"company starting with a portal", company, []eventlog.Event{&directory.PortalCreated{CompanyID: companyID, PortalID: portalID, Name: "Help"}}, directory.ErrNotACompanyStream, ""},
		{"company from a technician stream", company, []eventlog.Event{&directory.TechnicianRegistered{TechnicianID: techID, Name: "T", Email: "t@example.com"}}, directory.ErrNotACompanyStream, ""},
		{"company from a nil first event", company, []eventlog.Event{nil}, directory.ErrNotACompanyStream, ""},
		{"company created", company, []eventlog.Event{&directory.CompanyCreated{CompanyID: companyID, Name: "Acme"}}, nil, companyID.String() + " Acme"},
		{"technician from nil", technician, nil, directory.ErrNotATechnicianStream, ""},
		{"technician from empty", technician, []eventlog.Event{}, directory.ErrNotATechnicianStream, ""},
		{"technician starting with access granted", technician, []eventlog.Event{granted(companyID)}, directory.ErrNotATechnicianStream, ""},
		{"technician from a company stream", technician, []eventlog.Event{&directory.CompanyCreated{CompanyID: companyID, Name: "Acme"}}, directory.ErrNotATechnicianStream, ""},
		{"technician from a nil first event", technician, []eventlog.Event{nil}, directory.ErrNotATechnicianStream, ""},
		{"technician registered", technician, []eventlog.Event{&directory.TechnicianRegistered{TechnicianID: techID, Name: "Tess", Email: "tess@example.com"}}, nil, techID.String() + " Tess"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fromHistory(tt.history)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if got != tt.wantRebuilt {
				t.Fatalf("rebuilt %q, want %q", got, tt.wantRebuilt)
			}
		})
	}
}

func TestStreamNames(t *testing.T) {
	id := uuid.MustParse("6f1c2a7e-3b1d-4c8e-9f0a-1b2c3d4e5f60")
	tests := []struct{ got, want string }{
		{directory.CompanyStream(id), "company-6f1c2a7e-3b1d-4c8e-9f0a-1b2c3d4e5f60"},
		{directory.TechnicianStream(id), "technician-6f1c2a7e-3b1d-4c8e-9f0a-1b2c3d4e5f60"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("stream = %q, want %q", tt.got, tt.want)
		}
	}
}
