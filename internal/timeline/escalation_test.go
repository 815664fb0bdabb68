package timeline_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/timeline"
)

// The timeline says what the screen-sharing session and mobile profile file events did, and
// the state it shows follows the session; the verdict stays clean.
func TestTimelineOfEscalations(t *testing.T) {
	w := newWorld(t)
	w.submit()
	session := uuid.MustParse("00000000-0000-0000-0000-0000000000e1")
	w.add(techActor(ada), &request.Assigned{TechnicianID: ada})
	w.add(techActor(ada), &request.ChatJoined{TechnicianID: ada})
	w.add(techActor(ada), &request.ScreenSharingRequested{TechnicianID: ada})
	w.add(w.customer(), &request.ScreenSharingAccepted{})
	w.add(w.customer(), &request.ScreenSharingSessionStarted{SessionID: session, Link: "https://meet.example/x"})
	w.add(techActor(ada), &request.ScreenSharingSessionEnded{SessionID: session, TechnicianID: ada, Reason: request.SessionEndedByTechnician})
	w.add(techActor(ada), &request.ScreenSharingRequested{TechnicianID: ada})
	w.add(w.customer(), &request.ScreenSharingAccepted{})
	w.add(w.customer(), &request.ScreenSharingSessionStarted{SessionID: session, Link: "https://meet.example/y"})
	w.add(techActor(ada), &request.ScreenSharingSessionEnded{SessionID: session, TechnicianID: ada, Reason: request.SessionEndedWithChat})
	w.add(techActor(ada), &request.ChatEnded{TechnicianID: ada})
	tl := build(t, w, timeline.End())
	if !tl.Verdict.OK {
		t.Fatalf("verdict %+v", tl.Verdict)
	}
	want := map[int]struct {
		summary string
		screen  request.ScreenSharing
	}{
		5:  {"screen sharing session 00000000-0000-0000-0000-0000000000e1 started (https://meet.example/x)", request.ScreenSharingInSession},
		6:  {"Ada Lovelace ended the screen sharing session 00000000-0000-0000-0000-0000000000e1", request.ScreenSharingNone},
		10: {"the screen sharing session 00000000-0000-0000-0000-0000000000e1 ended with the chat", request.ScreenSharingNone},
	}
	for i, wt := range want {
		s := tl.Steps[i]
		if s.Summary != wt.summary || s.State.ScreenSharing != wt.screen {
			t.Errorf("step %d (%s): %q, %s; want %q, %s", i, s.Type, s.Summary, s.State.ScreenSharing, wt.summary, wt.screen)
		}
	}
}
