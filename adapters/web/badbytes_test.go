package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Bytes no person's text holds, sent through the console's and the portal's forms, are
// refused with a message that says what is wrong, never a server error, and nothing reaches
// the log.
func TestFormsRefuseBadBytes(t *testing.T) {
	w := newWorld(t)
	// How many events the log holds, committed: the head ReadAll shows may move later for
	// events written before, while another test's transaction holds the log back.
	head := func() int {
		t.Helper()
		var n int
		if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	customer := w.browser(t, uaWindows)
	id := w.submit(t, customer, w.acmePort, "Ada", "Printer on fire", "")
	bob := w.login(t, "bob@example.com")
	bob.submitForm("/console/requests/"+id.String(), "/console/requests/"+id.String()+"/assign", nil)
	bob.submitForm("/console/requests/"+id.String(), "/console/requests/"+id.String()+"/join", nil)

	bad := map[string]string{"NUL": "ab\x00cd", "invalid UTF-8": "ab\xff\xfecd", "escape": "ab\x1b[2Jcd"}
	for name, v := range bad {
		t.Run("portal "+name, func(t *testing.T) {
			portal := "/portal/" + w.acmePort.String()
			for _, field := range []string{"customer_name", "customer_email", "description"} {
				form := url.Values{"customer_name": {"Ada"}, "customer_email": {"ada@example.com"}, "description": {"help"},
					"csrf_token": {csrfOf(t, customer.mustGet(portal).body)}}
				form.Set(field, v)
				before := head()
				p := customer.post(portal, form)
				if p.status != http.StatusUnprocessableEntity {
					t.Fatalf("%s in %s: %d, want 422\n%s", name, field, p.status, p.body)
				}
				if !strings.Contains(p.body, "character") && !strings.Contains(p.body, "UTF-8") {
					t.Errorf("%s in %s: the page does not say what is wrong", name, field)
				}
				if head() != before {
					t.Errorf("%s in %s was written to the log", name, field)
				}
			}
		})
		t.Run("console message "+name, func(t *testing.T) {
			page := "/console/requests/" + id.String()
			before := head()
			form := url.Values{"body": {v}, "csrf_token": {csrfOf(t, bob.mustGet(page).body)}}
			p := bob.post(page+"/messages", form)
			if p.status != http.StatusSeeOther {
				t.Fatalf("%d, want 303 back to the page with a message\n%s", p.status, p.body)
			}
			if after := bob.mustGet(page); !strings.Contains(after.body, "character") && !strings.Contains(after.body, "UTF-8") {
				t.Errorf("the page does not say what was wrong with the message")
			}
			if head() != before {
				t.Errorf("a message with %s was written to the log", name)
			}
		})
		t.Run("login "+name, func(t *testing.T) {
			b := w.browser(t, uaWindows)
			form := url.Values{"email": {"bob" + v + "@example.com"}, "password": {password}, "csrf_token": {csrfOf(t, b.mustGet("/console/login").body)}}
			if p := b.post("/console/login", form); p.status >= 500 || p.status == http.StatusSeeOther {
				t.Fatalf("login with %s in the e-mail: %d\n%s", name, p.status, p.body)
			}
		})
	}
}
