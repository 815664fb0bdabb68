package request_test

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// TestRestoreEqualsFold walks many random lives of a request. At every step the request
// restored from the folded request's State must be the folded request: the same fields, the
// same actions for every technician and for the customer, and the same outcome for every
// command.
func TestRestoreEqualsFold(t *testing.T) {
	peer := technician(t, peerID, directory.Available, companyID)
	type techCommand func(r *request.Request, t *directory.Technician) error
	techCommands := []techCommand{
		func(r *request.Request, t *directory.Technician) error { return r.Assign(t) },
		func(r *request.Request, t *directory.Technician) error { return r.Unassign(t) },
		func(r *request.Request, t *directory.Technician) error { return r.Transfer(t, peer) },
		func(r *request.Request, t *directory.Technician) error { return r.JoinChat(t) },
		func(r *request.Request, t *directory.Technician) error {
			return r.SendTechnicianMessage(t, messageID, "hi")
		},
		func(r *request.Request, t *directory.Technician) error { return r.AddNote(t, noteID, "n") },
		func(r *request.Request, t *directory.Technician) error { return r.ShareTechnicianFile(t, pdf) },
		func(r *request.Request, t *directory.Technician) error { return r.RequestScreenSharing(t) },
		func(r *request.Request, t *directory.Technician) error { return r.SendMobileProfile(t, "profile") },
		func(r *request.Request, t *directory.Technician) error { return r.EndChat(t) },
		func(r *request.Request, t *directory.Technician) error { return r.Close(t) },
		func(r *request.Request, _ *directory.Technician) error { return r.SendCustomerMessage(messageID, "hi") },
		func(r *request.Request, _ *directory.Technician) error { return r.ShareCustomerFile(png) },
		func(r *request.Request, _ *directory.Technician) error { return r.AcceptScreenSharing() },
		func(r *request.Request, _ *directory.Technician) error { return r.DeclineScreenSharing() },
	}
	techs := []*directory.Technician{peer}
	for _, a := range actors {
		techs = append(techs, a.tech(t))
	}
	states := 0
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		p := request.Platforms[rng.IntN(len(request.Platforms))]
		events := []eventlog.Event{submitted(p)}
		for step := 0; step < 40; step++ {
			folded, err := request.FromHistory(events)
			if err != nil {
				t.Fatal(err)
			}
			restored := request.Restore(folded.State())
			states++
			if !reflect.DeepEqual(restored, folded) {
				t.Fatalf("seed %d step %d: restored %+v, folded %+v", seed, step, restored.State(), folded.State())
			}
			if restored.Status() != folded.Status() || !slices.Equal(restored.CustomerActions(), folded.CustomerActions()) {
				t.Fatalf("seed %d step %d: status or customer actions differ", seed, step)
			}
			for _, tech := range techs {
				if !slices.Equal(restored.TechnicianActions(tech), folded.TechnicianActions(tech)) {
					t.Fatalf("seed %d step %d: actions for %s differ", seed, step, tech.Name())
				}
			}
			// Every command does the same to both.
			for i, cmd := range techCommands {
				tech := techs[rng.IntN(len(techs))]
				f, _ := request.FromHistory(events)
				r := request.Restore(f.State())
				errF, errR := cmd(f, tech), cmd(r, tech)
				if (errF == nil) != (errR == nil) || (errF != nil && errF.Error() != errR.Error()) {
					t.Fatalf("seed %d step %d command %d: folded %v, restored %v", seed, step, i, errF, errR)
				}
				if !reflect.DeepEqual(f.Changes(), r.Changes()) {
					t.Fatalf("seed %d step %d command %d: changes differ", seed, step, i)
				}
			}
			// Move on with a command that succeeds, if a few random tries find one.
			for try := 0; try < 20; try++ {
				f, _ := request.FromHistory(events)
				if techCommands[rng.IntN(len(techCommands))](f, techs[rng.IntN(len(techs))]) == nil && len(f.Changes()) > 0 {
					events = append(events, f.Changes()...)
					break
				}
			}
		}
	}
	if states < 1000 {
		t.Fatalf("only %d states checked", states)
	}
}

func TestRestoreZeroState(t *testing.T) {
	r := request.Restore(request.State{})
	if r.Status() != request.StatusNew || len(r.Changes()) != 0 {
		t.Fatalf("zero state: status %s, changes %v", r.Status(), r.Changes())
	}
}
