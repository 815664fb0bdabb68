package directory_test

import (
	"encoding/json"
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

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means ErrInvalidEmail
	}{
		{"tech@example.com", "tech@example.com"},
		{"Tech.Person@Example.COM", "tech.person@example.com"},
		{"  tech@example.com \n", "tech@example.com"},
		{"tech+help@mail.example.co.uk", "tech+help@mail.example.co.uk"},
		{"a@b", "a@b"},
		{"", ""},
		{"   ", ""},
		{"tech", ""},
		{"tech@", ""},
		{"@example.com", ""},
		{"tech@@example.com", ""},
		{"tech@example..com", ""},
		{"tech @example.com", ""},
		{"Tech <tech@example.com>", ""},
		{"<tech@example.com>", ""},
		{"tech@example.com, other@example.com", ""},
		{"tech@example.com\nBcc: x@example.com", ""},
		{"\"quoted name\"@example.com", ""},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com"}, // 254
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", ""},                                                                // 255
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			checkParse(t, "NormalizeEmail", directory.NormalizeEmail, tt.in, tt.want, directory.ErrInvalidEmail)
		})
	}
}

// checkParse asserts that parse, named name, turns in into want; a zero want means that parse
// must refuse in with refusal and give the zero value. It returns parse's error.
func checkParse[T ~string](t *testing.T, name string, parse func(string) (T, error), in string, want T, refusal error) error {
	t.Helper()
	got, err := parse(in)
	if want == "" {
		if !errors.Is(err, refusal) || got != "" {
			t.Fatalf("%s(%q) = %q, %v; want %v", name, in, got, err, refusal)
		}
		return err
	}
	if err != nil || got != want {
		t.Fatalf("%s(%q) = %q, %v; want %q", name, in, got, err, want)
	}
	return err
}

func TestRegisterTechnician(t *testing.T) {
	tests := []struct {
		name      string
		id        uuid.UUID
		techName  string
		email     string
		want      error
		wantName  string
		wantEmail string
	}{
		{"valid", techID, "Tess Tech", "tess@example.com", nil, "Tess Tech", "tess@example.com"},
		{"name trimmed, e-mail normalized", techID, "  Tess Tech ", " Tess@Example.COM ", nil, "Tess Tech", "tess@example.com"},
		{"name of 200 characters", techID, strings.Repeat("t", 200), "t@example.com", nil, strings.Repeat("t", 200), "t@example.com"},
		{"missing ID", uuid.Nil, "Tess", "tess@example.com", directory.ErrMissingID, "", ""},
		{"missing ID before bad name and e-mail", uuid.Nil, "", "x", directory.ErrMissingID, "", ""},
		{"empty name", techID, "", "tess@example.com", directory.ErrInvalidName, "", ""},
		{"blank name", techID, "  ", "tess@example.com", directory.ErrInvalidName, "", ""},
		{"name of 201 characters", techID, strings.Repeat("t", 201), "tess@example.com", directory.ErrInvalidName, "", ""},
		{"bad name before bad e-mail", techID, "", "x", directory.ErrInvalidName, "", ""},
		{"empty e-mail", techID, "Tess", "", directory.ErrInvalidEmail, "", ""},
		{"bad e-mail", techID, "Tess", "tess.example.com", directory.ErrInvalidEmail, "", ""},
		{"e-mail with display name", techID, "Tess", "Tess <tess@example.com>", directory.ErrInvalidEmail, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tech, err := directory.RegisterTechnician(tt.id, tt.techName, tt.email)
			if !errors.Is(err, tt.want) {
				t.Fatalf("RegisterTechnician error = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if tech != nil {
					t.Fatal("a technician came back with an error")
				}
				return
			}
			want := []eventlog.Event{&directory.TechnicianRegistered{TechnicianID: tt.id, Name: tt.wantName, Email: tt.wantEmail}}
			if !reflect.DeepEqual(tech.Changes(), want) {
				t.Fatalf("Changes = %#v, want %#v", tech.Changes(), want)
			}
			if tech.ID() != tt.id || tech.Name() != tt.wantName || tech.Email() != tt.wantEmail {
				t.Fatalf("technician = %v %q %q", tech.ID(), tech.Name(), tech.Email())
			}
			if tech.Availability() != directory.Offline || tech.IsAvailable() {
				t.Fatalf("a new technician is %q, want offline", tech.Availability())
			}
			if tech.Notifications() != (directory.NotificationSettings{InConsole: true}) {
				t.Fatalf("Notifications = %+v, want in-console only", tech.Notifications())
			}
			if tech.Notifications() != directory.DefaultNotificationSettings() {
				t.Fatal("a new technician does not have the default notification settings")
			}
			if len(tech.Companies()) != 0 || tech.HasAccess(companyID) {
				t.Fatalf("a new technician has access to %v", tech.Companies())
			}
		})
	}
}

func newTechnician(t *testing.T, more ...eventlog.Event) *directory.Technician {
	t.Helper()
	h := append([]eventlog.Event{&directory.TechnicianRegistered{TechnicianID: techID, Name: "Tess", Email: "tess@example.com"}}, more...)
	tech, err := directory.TechnicianFromHistory(h)
	if err != nil {
		t.Fatal(err)
	}
	return tech
}

func granted(c uuid.UUID) *directory.AccessGranted {
	return &directory.AccessGranted{TechnicianID: techID, CompanyID: c}
}
func revoked(c uuid.UUID) *directory.AccessRevoked {
	return &directory.AccessRevoked{TechnicianID: techID, CompanyID: c}
}

func TestGrantAndRevokeAccess(t *testing.T) {
	grant := func(c uuid.UUID) func(*directory.Technician) error {
		return func(t *directory.Technician) error { return t.GrantAccess(c) }
	}
	revoke := func(c uuid.UUID) func(*directory.Technician) error {
		return func(t *directory.Technician) error { return t.RevokeAccess(c) }
	}
	tests := []struct {
		name          string
		history       []eventlog.Event
		do            func(t *directory.Technician) error
		want          error
		wantEvents    []eventlog.Event
		wantCompanies []uuid.UUID
	}{
		{"grant first company", nil,
			grant(companyID),
			nil, []eventlog.Event{granted(companyID)}, []uuid.UUID{companyID}},
		{"grant second company", []eventlog.Event{granted(companyID)},
			grant(company2),
			nil, []eventlog.Event{granted(company2)}, []uuid.UUID{companyID, company2}},
		{"grant again changes nothing", []eventlog.Event{granted(companyID)},
			grant(companyID),
			nil, nil, []uuid.UUID{companyID}},
		{"grant twice in a row records once", nil,
			func(t *directory.Technician) error {
				if err := t.GrantAccess(companyID); err != nil {
					return err
				}
				return t.GrantAccess(companyID)
			},
			nil, []eventlog.Event{granted(companyID)}, []uuid.UUID{companyID}},
		{"grant nil company", nil,
			grant(uuid.Nil),
			directory.ErrMissingID, nil, nil},
		{"revoke", []eventlog.Event{granted(companyID), granted(company2)},
			revoke(companyID),
			nil, []eventlog.Event{revoked(companyID)}, []uuid.UUID{company2}},
		{"revoke without access", []eventlog.Event{granted(company2)},
			revoke(companyID),
			directory.ErrNoAccess, nil, []uuid.UUID{company2}},
		{"revoke twice", []eventlog.Event{granted(companyID), revoked(companyID)},
			revoke(companyID),
			directory.ErrNoAccess, nil, nil},
		{"revoke nil company", nil,
			revoke(uuid.Nil),
			directory.ErrNoAccess, nil, nil},
		{"grant after revoke", []eventlog.Event{granted(companyID), revoked(companyID)},
			grant(companyID),
			nil, []eventlog.Event{granted(companyID)}, []uuid.UUID{companyID}},
		{"revoke the middle of three", []eventlog.Event{granted(companyID), granted(company2), granted(company3)},
			revoke(company2),
			nil, []eventlog.Event{revoked(company2)}, []uuid.UUID{companyID, company3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tech := newTechnician(t, tt.history...)
			err := tt.do(tech)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if len(tech.Changes()) != len(tt.wantEvents) || (len(tt.wantEvents) > 0 && !reflect.DeepEqual(tech.Changes(), tt.wantEvents)) {
				t.Fatalf("Changes = %#v, want %#v", tech.Changes(), tt.wantEvents)
			}
			if got := tech.Companies(); !slices.Equal(got, tt.wantCompanies) && !(len(got) == 0 && len(tt.wantCompanies) == 0) {
				t.Fatalf("Companies = %v, want %v", got, tt.wantCompanies)
			}
			for _, c := range []uuid.UUID{companyID, company2, company3} {
				if tech.HasAccess(c) != slices.Contains(tt.wantCompanies, c) {
					t.Errorf("HasAccess(%v) = %v", c, tech.HasAccess(c))
				}
			}
			if tech.HasAccess(uuid.Nil) {
				t.Error("HasAccess(nil) = true")
			}
		})
	}
	t.Run("Companies returns a copy", func(t *testing.T) {
		tech := newTechnician(t, granted(companyID))
		got := tech.Companies()
		got[0] = company2
		if !tech.HasAccess(companyID) || tech.HasAccess(company2) {
			t.Fatal("changing the returned slice changed the technician")
		}
	})
}

func TestParseAvailability(t *testing.T) {
	tests := []struct {
		in   string
		want directory.Availability // "" means ErrInvalidAvailability
	}{
		{"available", directory.Available},
		{"Available", directory.Available},
		{"AVAILABLE", directory.Available},
		{" available\n", directory.Available},
		{"busy", directory.Busy},
		{"Busy", directory.Busy},
		{"away", directory.Away},
		{"AWAY", directory.Away},
		{"offline", directory.Offline},
		{"Offline", directory.Offline},
		{"", ""},
		{" ", ""},
		{"online", ""},
		{"avail", ""},
		{"do not disturb", ""},
		{"off line", ""},
		{"invisible", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := checkParse(t, "ParseAvailability", directory.ParseAvailability, tt.in, tt.want, directory.ErrInvalidAvailability)
			if tt.want == "" && !strings.Contains(err.Error(), `"`+tt.in+`"`) {
				t.Fatalf("error %q does not quote the refused value", err)
			}
		})
	}
}

func TestSetAvailability(t *testing.T) {
	all := []directory.Availability{directory.Available, directory.Busy, directory.Away, directory.Offline}
	for _, from := range all {
		for _, to := range all {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				var h []eventlog.Event
				if from != directory.Offline {
					h = append(h, &directory.AvailabilityChanged{TechnicianID: techID, Availability: from})
				}
				tech := newTechnician(t, h...)
				if err := tech.SetAvailability(to); err != nil {
					t.Fatalf("SetAvailability: %v", err)
				}
				if tech.Availability() != to || tech.IsAvailable() != (to == directory.Available) {
					t.Fatalf("Availability = %q, IsAvailable = %v", tech.Availability(), tech.IsAvailable())
				}
				var want []eventlog.Event
				if from != to {
					want = []eventlog.Event{&directory.AvailabilityChanged{TechnicianID: techID, Availability: to}}
				}
				if len(tech.Changes()) != len(want) || (want != nil && !reflect.DeepEqual(tech.Changes(), want)) {
					t.Fatalf("Changes = %#v, want %#v", tech.Changes(), want)
				}
			})
		}
	}
	spellings := []struct {
		in   directory.Availability
		want directory.Availability // "" means ErrInvalidAvailability
	}{
		{"AVAILABLE", directory.Available},
		{" Busy ", directory.Busy},
		{"", ""},
		{"online", ""},
	}
	for _, tt := range spellings {
		t.Run("spelling "+string(tt.in), func(t *testing.T) {
			tech := newTechnician(t)
			err := tech.SetAvailability(tt.in)
			if tt.want == "" {
				if !errors.Is(err, directory.ErrInvalidAvailability) {
					t.Fatalf("SetAvailability(%q) = %v, want ErrInvalidAvailability", tt.in, err)
				}
				if len(tech.Changes()) != 0 || tech.Availability() != directory.Offline {
					t.Fatal("a refused availability changed the technician")
				}
				return
			}
			want := []eventlog.Event{&directory.AvailabilityChanged{TechnicianID: techID, Availability: tt.want}}
			if err != nil || !reflect.DeepEqual(tech.Changes(), want) {
				t.Fatalf("SetAvailability(%q) = %v, changes %#v; want %#v", tt.in, err, tech.Changes(), want)
			}
		})
	}
}

func TestChangeNotificationSettings(t *testing.T) {
	changed := func(s directory.NotificationSettings) []eventlog.Event {
		return []eventlog.Event{&directory.NotificationSettingsChanged{TechnicianID: techID, Email: s.Email, Webhook: s.Webhook, InConsole: s.InConsole}}
	}
	webhook := directory.NotificationSettings{Webhook: true}
	tests := []struct {
		name       string
		history    []eventlog.Event
		settings   directory.NotificationSettings
		wantEvents []eventlog.Event
	}{
		{"e-mail and console", nil, directory.NotificationSettings{Email: true, InConsole: true},
			changed(directory.NotificationSettings{Email: true, InConsole: true})},
		{"webhook only", nil, webhook, changed(webhook)},
		{"everything off", nil, directory.NotificationSettings{}, changed(directory.NotificationSettings{})},
		{"same as the default", nil, directory.DefaultNotificationSettings(), nil},
		{"same as the current", changed(webhook), webhook, nil},
		{"back to the default", changed(webhook), directory.DefaultNotificationSettings(), changed(directory.DefaultNotificationSettings())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tech := newTechnician(t, tt.history...)
			tech.ChangeNotificationSettings(tt.settings)
			if len(tech.Changes()) != len(tt.wantEvents) || (tt.wantEvents != nil && !reflect.DeepEqual(tech.Changes(), tt.wantEvents)) {
				t.Fatalf("Changes = %#v, want %#v", tech.Changes(), tt.wantEvents)
			}
			wantNow := tt.settings
			if tech.Notifications() != wantNow {
				t.Fatalf("Notifications = %+v, want %+v", tech.Notifications(), wantNow)
			}
		})
	}
}

func TestRecordPasswordChange(t *testing.T) {
	tech := newTechnician(t)
	tech.RecordPasswordChange()
	tech.RecordPasswordChange()
	want := []eventlog.Event{&directory.PasswordChanged{TechnicianID: techID}, &directory.PasswordChanged{TechnicianID: techID}}
	if !reflect.DeepEqual(tech.Changes(), want) {
		t.Fatalf("Changes = %#v, want %#v", tech.Changes(), want)
	}
	// The event says that the password changed, never what it is (§6).
	data, err := json.Marshal(tech.Changes()[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"technician_id":"00000000-0000-0000-0000-000000000001"}` {
		t.Fatalf("PasswordChanged payload = %s", data)
	}
}

// Everything decided on a technician replays to the same technician.
func TestTechnicianReplay(t *testing.T) {
	tech, err := directory.RegisterTechnician(techID, "Tess", "Tess@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	settings := directory.NotificationSettings{Email: true, Webhook: true}
	steps := []func() error{
		func() error { return tech.GrantAccess(companyID) },
		func() error { return tech.GrantAccess(company2) },
		func() error { return tech.GrantAccess(companyID) },
		func() error { return tech.RevokeAccess(companyID) },
		func() error { return tech.SetAvailability(directory.Available) },
		func() error { return tech.SetAvailability(directory.Available) },
		func() error { tech.ChangeNotificationSettings(settings); return nil },
		func() error { tech.RecordPasswordChange(); return nil },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if n := len(tech.Changes()); n != 7 {
		t.Fatalf("recorded %d events, want 7", n)
	}
	again, err := directory.TechnicianFromHistory(tech.Changes())
	if err != nil {
		t.Fatal(err)
	}
	if again.ID() != techID || again.Name() != "Tess" || again.Email() != "tess@example.com" ||
		!slices.Equal(again.Companies(), []uuid.UUID{company2}) || again.Availability() != directory.Available ||
		again.Notifications() != settings || len(again.Changes()) != 0 {
		t.Fatalf("replayed technician: %v %q %q %v %q %+v", again.ID(), again.Name(), again.Email(), again.Companies(), again.Availability(), again.Notifications())
	}
}

func TestAvailabilityNames(t *testing.T) {
	for a, want := range map[directory.Availability]string{
		directory.Available: "available", directory.Busy: "busy", directory.Away: "away", directory.Offline: "offline",
	} {
		if string(a) != want {
			t.Errorf("%q, want %q", a, want)
		}
	}
}

// TestRestoreTechnicianEqualsFold walks many random technician histories: at every step the
// technician restored from the folded one's state is the folded one, and answers every
// command the same way.
func TestRestoreTechnicianEqualsFold(t *testing.T) {
	companies := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	availabilities := []directory.Availability{directory.Available, directory.Busy, directory.Away, directory.Offline}
	settings := []directory.NotificationSettings{
		directory.DefaultNotificationSettings(),
		{Email: true},
		{Email: true, Webhook: true, InConsole: true},
	}
	commands := []func(rng *rand.Rand, tech *directory.Technician) error{
		func(rng *rand.Rand, tech *directory.Technician) error {
			return tech.GrantAccess(companies[rng.IntN(len(companies))])
		},
		func(rng *rand.Rand, tech *directory.Technician) error {
			return tech.RevokeAccess(companies[rng.IntN(len(companies))])
		},
		func(rng *rand.Rand, tech *directory.Technician) error {
			return tech.SetAvailability(availabilities[rng.IntN(len(availabilities))])
		},
		func(rng *rand.Rand, tech *directory.Technician) error {
			tech.ChangeNotificationSettings(settings[rng.IntN(len(settings))])
			return nil
		},
		func(_ *rand.Rand, tech *directory.Technician) error { tech.RecordPasswordChange(); return nil },
	}
	checked := 0
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 11))
		start, err := directory.RegisterTechnician(uuid.New(), "Tech", "tech@example.com")
		if err != nil {
			t.Fatal(err)
		}
		history := append([]eventlog.Event(nil), start.Changes()...)
		for step := 0; step < 30; step++ {
			folded, err := directory.TechnicianFromHistory(history)
			if err != nil {
				t.Fatal(err)
			}
			restored := directory.RestoreTechnician(folded.State())
			checked++
			if !reflect.DeepEqual(restored.State(), folded.State()) {
				t.Fatalf("seed %d step %d: restored %+v, folded %+v", seed, step, restored.State(), folded.State())
			}
			for _, c := range companies {
				if restored.HasAccess(c) != folded.HasAccess(c) {
					t.Fatalf("seed %d step %d: access to %s differs", seed, step, c)
				}
			}
			if restored.IsAvailable() != folded.IsAvailable() || len(restored.Changes()) != 0 {
				t.Fatalf("seed %d step %d: availability or changes differ", seed, step)
			}
			cmd := commands[rng.IntN(len(commands))]
			cmdSeed := rng.Uint64()
			errF := cmd(rand.New(rand.NewPCG(cmdSeed, 0)), folded)
			errR := cmd(rand.New(rand.NewPCG(cmdSeed, 0)), restored)
			if (errF == nil) != (errR == nil) || !reflect.DeepEqual(folded.Changes(), restored.Changes()) {
				t.Fatalf("seed %d step %d: folded %v %v, restored %v %v", seed, step, errF, folded.Changes(), errR, restored.Changes())
			}
			history = append(history, folded.Changes()...)
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d states checked", checked)
	}
}

// The restored technician does not share its companies with the state it came from.
func TestRestoreTechnicianCopiesCompanies(t *testing.T) {
	c := uuid.New()
	s := directory.TechnicianState{ID: uuid.New(), Name: "T", Email: "t@example.com", Companies: []uuid.UUID{c}, Availability: directory.Available}
	tech := directory.RestoreTechnician(s)
	s.Companies[0] = uuid.New()
	if !tech.HasAccess(c) || !tech.IsAvailable() {
		t.Fatal("restored technician changed with its state")
	}
}
