package presence_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/web/presence"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type relay struct {
	mu      sync.Mutex
	reports []presence.Report
}

func (r *relay) Publish(_ context.Context, rep presence.Report) error {
	r.mu.Lock()
	r.reports = append(r.reports, rep)
	r.mu.Unlock()
	return nil
}

func (r *relay) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.reports) }

var (
	company          = uuid.MustParse("00000000-0000-0000-0000-00000000c001")
	req              = uuid.MustParse("00000000-0000-0000-0000-0000000000a1")
	alice, bob, carl = uuid.MustParse("00000000-0000-0000-0000-0000000000aa"), uuid.MustParse("00000000-0000-0000-0000-0000000000bb"), uuid.MustParse("00000000-0000-0000-0000-0000000000cc")
)

func newHub(maxViewers int) (*presence.Hub, *clock, *relay) {
	c := &clock{now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	r := &relay{}
	return presence.New(presence.Config{ViewingTTL: 30 * time.Second, TypingTTL: 5 * time.Second, MaxViewers: maxViewers, Now: c.Now, Relay: r}), c, r
}

func report(t *testing.T, h *presence.Hub, who uuid.UUID, name string, st presence.State) []presence.Viewer {
	t.Helper()
	others, err := h.Report(context.Background(), presence.Report{Technician: who, Name: name, Company: company, Request: req, State: st})
	if err != nil {
		t.Fatal(err)
	}
	return others
}

func names(vs []presence.Viewer) string {
	var out []string
	for _, v := range vs {
		n := v.Name
		if v.Typing {
			n += "*"
		}
		out = append(out, n)
	}
	return strings.Join(out, ",")
}

func TestViewersExpireAfterTheirTTL(t *testing.T) {
	h, c, _ := newHub(0)
	report(t, h, alice, "Alice", presence.Viewing)
	if got := names(report(t, h, bob, "Bob", presence.Viewing)); got != "Alice" {
		t.Fatalf("Bob sees %q, want Alice", got)
	}
	report(t, h, alice, "Alice", presence.Typing)
	if got := names(h.Others(req, bob)); got != "Alice*" {
		t.Fatalf("Bob sees %q, want Alice typing", got)
	}
	c.add(6 * time.Second)
	h.Sweep()
	if got := names(h.Others(req, bob)); got != "Alice" {
		t.Fatalf("after the typing TTL Bob sees %q, want Alice not typing", got)
	}
	c.add(20 * time.Second)
	report(t, h, bob, "Bob", presence.Viewing) // Bob's heartbeat; Alice's stopped
	c.add(5 * time.Second)
	h.Sweep()
	if got := names(h.Others(req, bob)); got != "" {
		t.Fatalf("after the viewing TTL Bob sees %q, want nobody", got)
	}
	if got := names(h.Others(req, alice)); got != "Bob" {
		t.Fatalf("Bob's own heartbeat kept him: Alice would see %q", got)
	}
	report(t, h, bob, "Bob", presence.Left)
	if got := names(h.Others(req, alice)); got != "" {
		t.Fatalf("after Bob left: %q", got)
	}
}

func TestChangesCarryEachChangedRequestOnce(t *testing.T) {
	h, c, _ := newHub(0)
	start := h.Version()
	snaps, v, wake := h.Changes(start)
	if len(snaps) != 0 || v != start {
		t.Fatalf("no change yet: %v %d", snaps, v)
	}
	report(t, h, alice, "Alice <b>", presence.Viewing)
	select {
	case <-wake:
	default:
		t.Fatal("a change did not wake the streams")
	}
	report(t, h, bob, "Bob", presence.Viewing)
	snaps, v2, _ := h.Changes(v)
	if len(snaps) != 1 || snaps[0].Request != req || snaps[0].Company != company || names(snaps[0].Viewers) != "Alice <b>,Bob" {
		t.Fatalf("changes: %+v", snaps)
	}
	msg := string(snaps[0].Message)
	if !strings.HasPrefix(msg, "event: presence\ndata: {") || strings.Contains(msg, "id:") || !strings.Contains(msg, `"name":"Alice \u003cb\u003e"`) {
		t.Fatalf("message %q", msg)
	}
	// Heartbeats that change nothing wake nobody.
	c.add(time.Second)
	report(t, h, alice, "Alice <b>", presence.Viewing)
	if snaps, _, _ := h.Changes(v2); len(snaps) != 0 {
		t.Fatalf("a heartbeat made a change: %+v", snaps)
	}
	// A stream far behind (past the recent log) still gets every changed request.
	for i := range 5000 {
		other := uuid.New()
		if _, err := h.Report(context.Background(), presence.Report{Technician: carl, Name: "Carl", Company: company, Request: other, State: presence.Viewing}); err != nil {
			t.Fatal(i, err)
		}
	}
	all, _, _ := h.Changes(v2)
	if len(all) != 5000 {
		t.Fatalf("%d changed requests, want 5000", len(all))
	}
}

func TestTheRelayCarriesOnlyNews(t *testing.T) {
	h, c, r := newHub(0)
	report(t, h, alice, "Alice", presence.Viewing)
	report(t, h, alice, "Alice", presence.Viewing) // a second tab, same news
	if r.count() != 1 {
		t.Fatalf("relayed %d, want 1", r.count())
	}
	c.add(11 * time.Second) // a third of the TTL: the others' copies must not expire
	report(t, h, alice, "Alice", presence.Viewing)
	report(t, h, alice, "Alice", presence.Typing)
	report(t, h, alice, "Alice", presence.Typing)
	if r.count() != 3 {
		t.Fatalf("relayed %d, want 3", r.count())
	}
	// Another server's hub takes the relayed reports and ignores its own.
	other := presence.New(presence.Config{})
	for _, rep := range r.reports {
		other.Receive(rep)
	}
	if got := names(other.Others(req, bob)); got != "Alice*" {
		t.Fatalf("the other server sees %q", got)
	}
	before := other.Version()
	other.Receive(presence.Report{Server: other.ID(), Technician: bob, Name: "Bob", Company: company, Request: req, State: presence.Viewing})
	other.Receive(presence.Report{Server: "x", Technician: bob, Name: "Bob", Company: company, Request: req, State: "dancing"})
	if other.Version() != before {
		t.Fatal("a hub took its own report back, or a bad state")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	h, _, _ := newHub(2)
	report(t, h, alice, "Alice", presence.Viewing)
	report(t, h, bob, "Bob", presence.Viewing)
	_, err := h.Report(context.Background(), presence.Report{Technician: carl, Name: "Carl", Company: company, Request: req, State: presence.Viewing})
	if !errors.Is(err, presence.ErrFull) {
		t.Fatalf("third viewer: %v", err)
	}
	report(t, h, bob, "Bob", presence.Left)
	report(t, h, carl, "Carl", presence.Viewing)
}

func TestParseState(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want presence.State
		ok   bool
	}{{"viewing", presence.Viewing, true}, {"typing", presence.Typing, true}, {"left", presence.Left, true}, {"", "", false}, {"Viewing", "", false}, {"typing\x00", "", false}} {
		got, err := presence.ParseState(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseState(%q) = %q, %v", tc.in, got, err)
		}
	}
}
