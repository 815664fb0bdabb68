package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// Streams opened together beat at their own phases (each beat reloads the viewer's profile:
// a thousand consoles reconnecting at once must not reload a thousand profiles in the same
// instant), and a burst of changes reaches every stream, each change once, whole.
func TestManyStreamsBurstAndHeartbeats(t *testing.T) {
	w := newWorld(t)
	alice := w.login(t, "alice@example.com")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const streams = 30
	lines := make([]<-chan string, streams)
	firstBeat := make([]time.Duration, streams)
	beaten := make(chan struct{}, streams)
	for i := range lines {
		openedAt := time.Now()
		raw := alice.events(ctx, "/console/events")
		relay := make(chan string, 1000)
		lines[i] = relay
		go func() {
			defer close(relay)
			beat := false
			for l := range raw {
				if !beat && strings.HasPrefix(l, ": heartbeat") {
					beat, firstBeat[i] = true, time.Since(openedAt)
					beaten <- struct{}{}
				}
				relay <- l
			}
		}()
	}

	// The time from each stream's opening to its first heartbeat: spread over the heartbeat's
	// interval (200 ms here: 100–300 ms), not the same for all.
	for range streams {
		select {
		case <-beaten:
		case <-time.After(10 * time.Second):
			t.Fatal("a stream never beat")
		}
	}
	slices.Sort(firstBeat)
	if spread := firstBeat[len(firstBeat)-1] - firstBeat[0]; spread < 80*time.Millisecond {
		t.Fatalf("%d streams opened together first beat %s to %s after opening: all at the same phase", streams, firstBeat[0], firstBeat[len(firstBeat)-1])
	}

	// A burst: every stream gets every submission's change.
	const burst = 25
	want := map[string]bool{}
	for i := range burst {
		id := uuid.New()
		want[id.String()] = true
		if _, err := w.app.SubmitRequest(context.Background(), app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{
			RequestID: id, PortalID: w.acmePort, CompanyID: w.acme, Description: fmt.Sprintf("burst %d", i),
			Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}, Source: request.Source{Platform: request.Windows},
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i, l := range lines {
		seen := map[string]int{}
		for len(seen) < burst {
			line := waitLine(t, l, "data: ")
			for id := range want {
				if strings.Contains(line, `"request_id":"`+id+`"`) && strings.Contains(line, `"type":"request.submitted.v1"`) {
					seen[id]++
				}
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("stream %d got the change of %s %d times", i, id, n)
			}
		}
	}
}
