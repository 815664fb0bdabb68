package directory_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// TestRestoreTechnicianEqualsFold walks many random technician histories: at every step the
// technician restored from the folded one's state is the folded one, and answers every
// command the same way.
func TestRestoreTechnicianEqualsFold(t *testing.T) {
	companies := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	availabilities := []directory.Availability{directory.Available, directory.Busy, directory.Away, directory.Offline}
	settings := []directory.NotificationSettings{
		directory.DefaultNotificationSettings(),
		{Email: true},
		{Email: true, WebhookURL: "https://hooks.example.com/x", InConsole: true},
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
			return tech.ChangeNotificationSettings(settings[rng.IntN(len(settings))])
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
