package e2e_test

import (
	"bytes"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestScreenshots takes the README's pictures: the console (the list and a request's details
// with its chat) at 1280×800 and the portal's request page at 390×844. With
// HELPSTREAM_SCREENSHOTS=1 it writes them to docs/screenshots/console.png and portal.png;
// otherwise to a temporary directory, checking only that they are PNGs of the right size.
func TestScreenshots(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	if os.Getenv("HELPSTREAM_SCREENSHOTS") == "1" {
		out = filepath.Join("..", "..", "..", "docs", "screenshots")
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, br := shared(t)
	srv := newServer(t) // a server of its own: only these requests in the pictures
	alice := br.actor(t, "alice", srv.URL, consoleSize)
	customer := br.actor(t, "customer", srv.URL, phoneSize)

	// The scene is set through the API; TestLifecycle goes through the same steps on the pages.
	// A few requests in the list, in each state.
	bob := srv.apiLogin(t, srv.Bob)
	bob.call(http.MethodPut, "/me/availability", map[string]string{"availability": "available"}, nil)
	done := srv.apiSubmit(t, srv.Portal1, "Charles Babbage", "charles@example.com", "The difference engine jams on column 3", "mac")
	for _, step := range []string{"assign", "join", "end-chat", "close"} {
		bob.call(http.MethodPost, "/requests/"+done.RequestID+"/"+step, nil, nil)
	}
	active := srv.apiSubmit(t, srv.Portal1, "Margaret Hamilton", "margaret@example.com", "VPN drops every ten minutes", "windows")
	bob.call(http.MethodPost, "/requests/"+active.RequestID+"/assign", nil, nil)
	bob.call(http.MethodPost, "/requests/"+active.RequestID+"/join", nil, nil)
	srv.apiSubmit(t, srv.Portal1, "Katherine Johnson", "katherine@example.com", "Cannot print the launch window charts", "android")

	// Ada submits in the browser; her page's cookie is her customer token.
	id := customer.submit(srv.Portal1.String(), submission{
		name: "Ada Lovelace", email: "ada@example.com", description: "My printer is on fire", device: "windows",
	})
	ada := srv.customerAPI(t, submitted{RequestID: id, CustomerToken: customer.customerToken(id)})
	srv.apiSubmit(t, srv.Portal1, "Alan Turing", "alan@example.com", "Outlook asks for my password again and again", "windows")

	api := srv.apiLogin(t, srv.Alice)
	api.call(http.MethodPut, "/me/availability", map[string]string{"availability": "available"}, nil)
	api.call(http.MethodPost, "/requests/"+id+"/assign", nil, nil)
	api.call(http.MethodPost, "/requests/"+id+"/join", nil, nil)
	ada.call(http.MethodPost, "/customer/requests/"+id+"/messages", map[string]string{"body": "Hello, the printer smells of burnt toner and shows error E-52."}, nil)
	api.call(http.MethodPost, "/requests/"+id+"/messages", map[string]string{"body": "Hi Ada, I am on it. Please switch it off at the wall first."}, nil)
	ada.call(http.MethodPost, "/customer/requests/"+id+"/messages", map[string]string{"body": "Done, it is off now."}, nil)
	picture, err := os.ReadFile(writePNG(t, t.TempDir(), "printer-panel.png"))
	if err != nil {
		t.Fatal(err)
	}
	ada.upload("/customer/requests/"+id+"/files", "printer-panel.png", picture)
	api.call(http.MethodPost, "/requests/"+id+"/notes", map[string]string{"body": "Known fault on this model: fuser unit, batch 42."}, nil)
	api.command(http.MethodPost, "/requests/"+id+"/screen-sharing", nil) // and wait for the read models

	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console/requests/" + id)
	alice.waitFor("the details with the chat", exists("ol#chat li.entry[data-kind=note]"))
	customer.open("/portal/requests/" + id)
	customer.waitFor("the portal page with the chat", exists("ol#chat li.entry a[download]"))
	customer.waitFor("the screen-sharing prompt", exists("#screen-sharing button[data-action=accept_screen_sharing]"))
	// No focus ring or caret in the pictures, and the top of each page.
	for _, a := range []*actor{alice, customer} {
		eval[bool](a, "settle", "(document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0), true)")
	}

	for _, shot := range []struct {
		a             *actor
		file          string
		width, height int
	}{{alice, "console.png", 1280, 800}, {customer, "portal.png", 390, 844}} {
		b := run(shot.a, "screenshot "+shot.file, chromedp.CaptureScreenshot())
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			shot.a.fail("screenshot "+shot.file, "not a PNG: %v", err)
		}
		if cfg.Width != shot.width || cfg.Height != shot.height {
			shot.a.fail("screenshot "+shot.file, "%d×%d, want %d×%d", cfg.Width, cfg.Height, shot.width, shot.height)
		}
		path := filepath.Join(out, shot.file)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Fatalf("%s: empty or missing (%v)", path, err)
		}
		t.Logf("wrote %s (%d bytes)", path, len(b))
	}
}
