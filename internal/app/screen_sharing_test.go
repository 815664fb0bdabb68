package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

func TestParseScreenSharingURL(t *testing.T) {
	tests := []struct {
		template string
		ok       bool
	}{
		{"https://meet.example/{request}", true},
		{"https://meet.example/r/{request}/s/{session}?c={company}", true},
		{"http://127.0.0.1:9000/{session}", true},
		{"https://meet.example/static-room", true},
		{"", false},
		{"meet.example/{request}", false},
		{"/relative/{request}", false},
		{"ftp://meet.example/{request}", false},
		{"javascript:alert(1)//{request}", false},
		{"https://meet.example/{user}", false},
		{"https://meet.example/{request", false},
		{"https://meet.example/}{request}", false},
		{"https://meet.example/{REQUEST}", false},
		{"https://user:pw@meet.example/{request}", false},
		{"https:///{request}", false},
		{"https://meet.example/a b/{request}", false},
		{"https://meet.example/" + strings.Repeat("a", 1001), false},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			p, err := app.ParseScreenSharingURL(tt.template)
			if tt.ok != (err == nil) {
				t.Fatalf("ParseScreenSharingURL(%q) = %v, want ok %v", tt.template, err, tt.ok)
			}
			if err != nil && !errors.Is(err, app.ErrInvalidScreenSharingURL) {
				t.Fatalf("error %v does not match ErrInvalidScreenSharingURL", err)
			}
			if p != nil && p.Template() != tt.template {
				t.Fatalf("Template() = %q", p.Template())
			}
		})
	}
}

func TestScreenSharingLinkFillsPlaceholders(t *testing.T) {
	r, s, c := uuid.MustParse("00000000-0000-0000-0000-0000000000a1"), uuid.MustParse("00000000-0000-0000-0000-0000000000e1"), uuid.MustParse("00000000-0000-0000-0000-0000000000c1")
	tests := []struct{ template, want string }{
		{"https://meet.example/{request}", "https://meet.example/00000000-0000-0000-0000-0000000000a1"},
		{"https://meet.example/{company}/{request}?session={session}&x={session}#{request}",
			"https://meet.example/00000000-0000-0000-0000-0000000000c1/00000000-0000-0000-0000-0000000000a1?session=00000000-0000-0000-0000-0000000000e1&x=00000000-0000-0000-0000-0000000000e1#00000000-0000-0000-0000-0000000000a1"},
		{"https://meet.example/room", "https://meet.example/room"},
	}
	for _, tt := range tests {
		p, err := app.ParseScreenSharingURL(tt.template)
		if err != nil {
			t.Fatal(err)
		}
		got := p.Link(r, s, c)
		if got != tt.want {
			t.Errorf("Link(%q) = %q, want %q", tt.template, got, tt.want)
		}
		if _, err := url.Parse(got); err != nil {
			t.Errorf("Link(%q) is no URL: %v", tt.template, err)
		}
	}
}

// readSessionEvents returns the session events of a request's stream, decoded.
func readSessionEvents(t *testing.T, store eventlog.Store, id uuid.UUID) (started []*request.ScreenSharingSessionStarted, ended []*request.ScreenSharingSessionEnded) {
	t.Helper()
	recs, err := store.ReadStream(context.Background(), request.Stream(id), 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		switch rec.Type {
		case "request.screen_sharing_session_started.v1":
			var e request.ScreenSharingSessionStarted
			if err := json.Unmarshal(rec.Data, &e); err != nil {
				t.Fatal(err)
			}
			started = append(started, &e)
		case "request.screen_sharing_session_ended.v1":
			var e request.ScreenSharingSessionEnded
			if err := json.Unmarshal(rec.Data, &e); err != nil {
				t.Fatal(err)
			}
			ended = append(ended, &e)
		}
	}
	return started, ended
}

func TestScreenSharingSessionLifecycle(t *testing.T) {
	provider, err := app.ParseScreenSharingURL("https://meet.example/{request}?s={session}")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, 1, func(c *service.Config) { c.ScreenSharing = provider })
	ctx := context.Background()
	me := tech(w.techs[0])
	id := w.submit(t, request.Windows)
	must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, me, id) })
	must(t, func() (app.Result, error) { return w.app.JoinChat(ctx, me, id) })
	must(t, func() (app.Result, error) { return w.app.RequestScreenSharing(ctx, me, id) })
	must(t, func() (app.Result, error) { return w.app.AcceptScreenSharing(ctx, customer(id), id) })

	started, _ := readSessionEvents(t, w.store, id)
	if len(started) != 1 || started[0].SessionID == uuid.Nil {
		t.Fatalf("session started events: %+v", started)
	}
	wantLink := "https://meet.example/" + id.String() + "?s=" + started[0].SessionID.String()
	if started[0].Link != wantLink {
		t.Fatalf("link %q, want %q", started[0].Link, wantLink)
	}
	for _, v := range []app.Viewer{{TechnicianID: w.techs[0]}, {CustomerOf: id}} {
		d, err := w.app.Queries().RequestDetails(ctx, v, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.ScreenSharing != request.ScreenSharingInSession || d.Session == nil || d.Session.Link != wantLink {
			t.Fatalf("details for %+v: screen sharing %s, session %+v", v, d.ScreenSharing, d.Session)
		}
	}
	if _, err := w.app.RequestScreenSharing(ctx, me, id); !errors.Is(err, request.ErrScreenSharingSessionRunning) {
		t.Fatalf("request while running: %v", err)
	}
	if _, err := w.app.EndScreenSharingSession(ctx, customer(id), id); err == nil {
		t.Fatal("a customer ended the session")
	}
	must(t, func() (app.Result, error) { return w.app.EndScreenSharingSession(ctx, me, id) })
	if _, err := w.app.EndScreenSharingSession(ctx, me, id); !errors.Is(err, request.ErrNoScreenSharingSession) {
		t.Fatalf("second end: %v", err)
	}
	// Again, and this time the chat's end ends it.
	must(t, func() (app.Result, error) { return w.app.RequestScreenSharing(ctx, me, id) })
	must(t, func() (app.Result, error) { return w.app.AcceptScreenSharing(ctx, customer(id), id) })
	must(t, func() (app.Result, error) { return w.app.EndChat(ctx, me, id) })

	started, ended := readSessionEvents(t, w.store, id)
	if len(started) != 2 || len(ended) != 2 || started[0].SessionID == started[1].SessionID {
		t.Fatalf("started %+v ended %+v", started, ended)
	}
	for i, reason := range []string{request.SessionEndedByTechnician, request.SessionEndedWithChat} {
		if ended[i].SessionID != started[i].SessionID || ended[i].Reason != reason || ended[i].TechnicianID != w.techs[0] {
			t.Errorf("ended[%d] = %+v, want session %s reason %s", i, ended[i], started[i].SessionID, reason)
		}
	}
}

// Without a provider, accepting records the acceptance alone, as before.
func TestAcceptWithoutProviderStartsNoSession(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	me := tech(w.techs[0])
	id := w.submit(t, request.Mac)
	must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, me, id) })
	must(t, func() (app.Result, error) { return w.app.JoinChat(ctx, me, id) })
	must(t, func() (app.Result, error) { return w.app.RequestScreenSharing(ctx, me, id) })
	must(t, func() (app.Result, error) { return w.app.AcceptScreenSharing(ctx, customer(id), id) })
	if started, _ := readSessionEvents(t, w.store, id); len(started) != 0 {
		t.Fatalf("a session started without a provider: %+v", started)
	}
	if n := countType(t, w.store, id, "request.screen_sharing_accepted.v1"); n != 1 {
		t.Fatalf("%d acceptances", n)
	}
}
