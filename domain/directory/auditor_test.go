package directory_test

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
)

var auditorID = uuid.MustParse("00000000-0000-0000-0000-0000000000a1")

func newAuditor(t *testing.T, more ...eventlog.Event) *directory.Auditor {
	t.Helper()
	h := append([]eventlog.Event{&directory.AuditorRegistered{AuditorID: auditorID, Name: "Ann", Email: "ann@example.com"}}, more...)
	a, err := directory.AuditorFromHistory(h)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func auditorGranted(c uuid.UUID) *directory.AuditorAccessGranted {
	return &directory.AuditorAccessGranted{AuditorID: auditorID, CompanyID: c}
}
func auditorRevoked(c uuid.UUID) *directory.AuditorAccessRevoked {
	return &directory.AuditorAccessRevoked{AuditorID: auditorID, CompanyID: c}
}

var (
	allGranted = &directory.AuditorAccessGranted{AuditorID: auditorID, AllCompanies: true}
	allRevoked = &directory.AuditorAccessRevoked{AuditorID: auditorID, AllCompanies: true}
)

func TestRegisterAuditor(t *testing.T) {
	tests := []struct {
		name      string
		id        uuid.UUID
		audName   string
		email     string
		want      error
		wantName  string
		wantEmail string
	}{
		{"valid", auditorID, "Ann Audit", "ann@example.com", nil, "Ann Audit", "ann@example.com"},
		{"name trimmed, e-mail normalized", auditorID, "  Ann Audit ", " Ann@Example.COM ", nil, "Ann Audit", "ann@example.com"},
		{"name of 200 characters", auditorID, strings.Repeat("a", 200), "a@example.com", nil, strings.Repeat("a", 200), "a@example.com"},
		{"missing ID", uuid.Nil, "Ann", "ann@example.com", directory.ErrMissingID, "", ""},
		{"missing ID before bad name and e-mail", uuid.Nil, "", "x", directory.ErrMissingID, "", ""},
		{"empty name", auditorID, "", "ann@example.com", directory.ErrInvalidName, "", ""},
		{"name with a NUL", auditorID, "A\x00nn", "ann@example.com", directory.ErrInvalidName, "", ""},
		{"name of 201 characters", auditorID, strings.Repeat("a", 201), "ann@example.com", directory.ErrInvalidName, "", ""},
		{"bad e-mail", auditorID, "Ann", "ann.example.com", directory.ErrInvalidEmail, "", ""},
		{"e-mail with display name", auditorID, "Ann", "Ann <ann@example.com>", directory.ErrInvalidEmail, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := directory.RegisterAuditor(tt.id, tt.audName, tt.email)
			if !errors.Is(err, tt.want) {
				t.Fatalf("RegisterAuditor error = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if a != nil {
					t.Fatal("an auditor came back with an error")
				}
				return
			}
			want := []eventlog.Event{&directory.AuditorRegistered{AuditorID: tt.id, Name: tt.wantName, Email: tt.wantEmail}}
			if !reflect.DeepEqual(a.Changes(), want) {
				t.Fatalf("Changes = %#v, want %#v", a.Changes(), want)
			}
			if a.ID() != tt.id || a.Name() != tt.wantName || a.Email() != tt.wantEmail {
				t.Fatalf("auditor = %v %q %q", a.ID(), a.Name(), a.Email())
			}
			// A new auditor reads nothing until granted.
			if len(a.Companies()) != 0 || a.AllCompanies() || a.CanRead(companyID) {
				t.Fatalf("a new auditor reads %v (all: %v)", a.Companies(), a.AllCompanies())
			}
		})
	}
}

func TestAuditorGrantAndRevoke(t *testing.T) {
	grant := func(c uuid.UUID) func(*directory.Auditor) error {
		return func(a *directory.Auditor) error { return a.GrantAccess(c) }
	}
	revoke := func(c uuid.UUID) func(*directory.Auditor) error {
		return func(a *directory.Auditor) error { return a.RevokeAccess(c) }
	}
	grantAll := func(a *directory.Auditor) error { a.GrantAllCompanies(); return nil }
	revokeAll := func(a *directory.Auditor) error { return a.RevokeAllCompanies() }
	tests := []struct {
		name          string
		history       []eventlog.Event
		do            func(a *directory.Auditor) error
		want          error
		wantEvents    []eventlog.Event
		wantCompanies []uuid.UUID
		wantAll       bool
	}{
		{"grant a company", nil, grant(companyID), nil, []eventlog.Event{auditorGranted(companyID)}, []uuid.UUID{companyID}, false},
		{"grant a second company", []eventlog.Event{auditorGranted(companyID)}, grant(company2),
			nil, []eventlog.Event{auditorGranted(company2)}, []uuid.UUID{companyID, company2}, false},
		{"grant again changes nothing", []eventlog.Event{auditorGranted(companyID)}, grant(companyID),
			nil, nil, []uuid.UUID{companyID}, false},
		{"grant the nil company", nil, grant(uuid.Nil), directory.ErrMissingID, nil, nil, false},
		{"grant every company", []eventlog.Event{auditorGranted(companyID)}, grantAll,
			nil, []eventlog.Event{allGranted}, []uuid.UUID{companyID}, true},
		{"grant every company again changes nothing", []eventlog.Event{allGranted}, grantAll, nil, nil, nil, true},
		{"grant a company while holding every company is kept apart", []eventlog.Event{allGranted}, grant(company2),
			nil, []eventlog.Event{auditorGranted(company2)}, []uuid.UUID{company2}, true},
		{"revoke a company", []eventlog.Event{auditorGranted(companyID), auditorGranted(company2)}, revoke(companyID),
			nil, []eventlog.Event{auditorRevoked(companyID)}, []uuid.UUID{company2}, false},
		{"revoke a company never granted", []eventlog.Event{auditorGranted(company2)}, revoke(companyID),
			directory.ErrAuditorNoAccess, nil, []uuid.UUID{company2}, false},
		{"revoke a company only every company covers", []eventlog.Event{allGranted}, revoke(companyID),
			directory.ErrAuditorNoAccess, nil, nil, true},
		{"revoke every company keeps the companies granted one by one", []eventlog.Event{auditorGranted(companyID), allGranted}, revokeAll,
			nil, []eventlog.Event{allRevoked}, []uuid.UUID{companyID}, false},
		{"revoke every company without holding it", []eventlog.Event{auditorGranted(companyID)}, revokeAll,
			directory.ErrAuditorNoAccess, nil, []uuid.UUID{companyID}, false},
		{"revoke every company twice", []eventlog.Event{allGranted, allRevoked}, revokeAll,
			directory.ErrAuditorNoAccess, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuditor(t, tt.history...)
			err := tt.do(a)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if len(a.Changes()) != len(tt.wantEvents) || (len(tt.wantEvents) > 0 && !reflect.DeepEqual(a.Changes(), tt.wantEvents)) {
				t.Fatalf("Changes = %#v, want %#v", a.Changes(), tt.wantEvents)
			}
			if got := a.Companies(); !slices.Equal(got, tt.wantCompanies) && !(len(got) == 0 && len(tt.wantCompanies) == 0) {
				t.Fatalf("Companies = %v, want %v", got, tt.wantCompanies)
			}
			if a.AllCompanies() != tt.wantAll {
				t.Fatalf("AllCompanies = %v, want %v", a.AllCompanies(), tt.wantAll)
			}
			for _, c := range []uuid.UUID{companyID, company2, company3} {
				if want := tt.wantAll || slices.Contains(tt.wantCompanies, c); a.CanRead(c) != want {
					t.Errorf("CanRead(%v) = %v, want %v", c, a.CanRead(c), want)
				}
			}
			if a.CanRead(uuid.Nil) {
				t.Error("CanRead(nil) = true")
			}
		})
	}
	t.Run("Companies returns a copy", func(t *testing.T) {
		a := newAuditor(t, auditorGranted(companyID))
		got := a.Companies()
		got[0] = company2
		if !a.CanRead(companyID) || a.CanRead(company2) {
			t.Fatal("changing the returned slice changed the auditor")
		}
	})
}

// A stored grant is folded as it is, whatever its shape: one that names a company and every
// company grants both, one that names neither grants nothing, and none of them stops a load.
func TestAuditorFoldsOddGrants(t *testing.T) {
	tests := []struct {
		name          string
		history       []eventlog.Event
		wantCompanies []uuid.UUID
		wantAll       bool
	}{
		{"both", []eventlog.Event{&directory.AuditorAccessGranted{AuditorID: auditorID, CompanyID: companyID, AllCompanies: true}}, []uuid.UUID{companyID}, true},
		{"neither", []eventlog.Event{&directory.AuditorAccessGranted{AuditorID: auditorID}}, nil, false},
		{"the same company twice", []eventlog.Event{auditorGranted(companyID), auditorGranted(companyID)}, []uuid.UUID{companyID}, false},
		{"a revocation of nothing", []eventlog.Event{auditorGranted(companyID), &directory.AuditorAccessRevoked{AuditorID: auditorID}}, []uuid.UUID{companyID}, false},
		{"a revocation of both", []eventlog.Event{auditorGranted(companyID), allGranted,
			&directory.AuditorAccessRevoked{AuditorID: auditorID, CompanyID: companyID, AllCompanies: true}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuditor(t, tt.history...)
			if got := a.Companies(); !slices.Equal(got, tt.wantCompanies) || a.AllCompanies() != tt.wantAll {
				t.Fatalf("Companies = %v, AllCompanies = %v; want %v, %v", got, a.AllCompanies(), tt.wantCompanies, tt.wantAll)
			}
		})
	}
}

func TestAuditorHistoryMustStartWithRegistration(t *testing.T) {
	for name, h := range map[string][]eventlog.Event{
		"empty":             nil,
		"grant first":       {auditorGranted(companyID)},
		"technician stream": {&directory.TechnicianRegistered{TechnicianID: techID, Name: "Tess", Email: "tess@example.com"}},
	} {
		t.Run(name, func(t *testing.T) {
			if a, err := directory.AuditorFromHistory(h); !errors.Is(err, directory.ErrNotAnAuditorStream) || a != nil {
				t.Fatalf("AuditorFromHistory = %v, %v; want ErrNotAnAuditorStream", a, err)
			}
		})
	}
}

// Everything decided on an auditor replays to the same auditor, and the password never enters
// the log.
func TestAuditorReplay(t *testing.T) {
	a, err := directory.RegisterAuditor(auditorID, "Ann", "Ann@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { return a.GrantAccess(companyID) },
		func() error { return a.GrantAccess(company2) },
		func() error { return a.RevokeAccess(companyID) },
		func() error { a.GrantAllCompanies(); return nil },
		func() error { a.RecordPasswordChange(); return nil },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if n := len(a.Changes()); n != 6 {
		t.Fatalf("recorded %d events, want 6", n)
	}
	if got := a.Changes()[5]; !reflect.DeepEqual(got, &directory.AuditorPasswordChanged{AuditorID: auditorID}) {
		t.Fatalf("last event = %#v, want the password change alone", got)
	}
	again, err := directory.AuditorFromHistory(a.Changes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.State(), a.State()) || len(again.Changes()) != 0 {
		t.Fatalf("replayed auditor %+v, want %+v", again.State(), a.State())
	}
	if want := (directory.AuditorState{ID: auditorID, Name: "Ann", Email: "ann@example.com", Companies: []uuid.UUID{company2}, AllCompanies: true}); !reflect.DeepEqual(again.State(), want) {
		t.Fatalf("replayed auditor %+v, want %+v", again.State(), want)
	}
}

// TestRestoreAuditorEqualsFold walks random auditor histories: at every step the auditor
// restored from the folded one's state is the folded one, and answers every command the same
// way; a clone decides like the original and leaves it unchanged.
func TestRestoreAuditorEqualsFold(t *testing.T) {
	companies := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	commands := []func(rng *rand.Rand, a *directory.Auditor) error{
		func(rng *rand.Rand, a *directory.Auditor) error {
			return a.GrantAccess(companies[rng.IntN(len(companies))])
		},
		func(rng *rand.Rand, a *directory.Auditor) error {
			return a.RevokeAccess(companies[rng.IntN(len(companies))])
		},
		func(_ *rand.Rand, a *directory.Auditor) error { a.GrantAllCompanies(); return nil },
		func(_ *rand.Rand, a *directory.Auditor) error { return a.RevokeAllCompanies() },
		func(_ *rand.Rand, a *directory.Auditor) error { a.RecordPasswordChange(); return nil },
	}
	checked := 0
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 13))
		start, err := directory.RegisterAuditor(uuid.New(), "Auditor", "auditor@example.com")
		if err != nil {
			t.Fatal(err)
		}
		history := slices.Clone(start.Changes())
		for step := 0; step < 20; step++ {
			folded, err := directory.AuditorFromHistory(history)
			if err != nil {
				t.Fatal(err)
			}
			restored, clone := directory.RestoreAuditor(folded.State()), folded.Clone()
			checked++
			if !reflect.DeepEqual(restored.State(), folded.State()) || !reflect.DeepEqual(clone.State(), folded.State()) {
				t.Fatalf("seed %d step %d: restored %+v, clone %+v, folded %+v", seed, step, restored.State(), clone.State(), folded.State())
			}
			for _, c := range companies {
				if restored.CanRead(c) != folded.CanRead(c) {
					t.Fatalf("seed %d step %d: access to %s differs", seed, step, c)
				}
			}
			cmd, cmdSeed := commands[rng.IntN(len(commands))], rng.Uint64()
			before := folded.State()
			errC := cmd(rand.New(rand.NewPCG(cmdSeed, 0)), clone)
			if !reflect.DeepEqual(folded.State(), before) {
				t.Fatalf("seed %d step %d: deciding on the clone changed the original", seed, step)
			}
			errF := cmd(rand.New(rand.NewPCG(cmdSeed, 0)), folded)
			errR := cmd(rand.New(rand.NewPCG(cmdSeed, 0)), restored)
			if (errF == nil) != (errR == nil) || (errF == nil) != (errC == nil) ||
				!reflect.DeepEqual(folded.Changes(), restored.Changes()) || !reflect.DeepEqual(folded.Changes(), clone.Changes()) {
				t.Fatalf("seed %d step %d: folded %v %v, restored %v %v, clone %v %v", seed, step, errF, folded.Changes(), errR, restored.Changes(), errC, clone.Changes())
			}
			history = append(history, folded.Changes()...)
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d states checked", checked)
	}
}

func TestAuditorStreamName(t *testing.T) {
	if got := directory.AuditorStream(auditorID); got != "auditor-00000000-0000-0000-0000-0000000000a1" {
		t.Fatalf("AuditorStream = %q", got)
	}
}
