package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// postWith sends a form as the page's script does (fetch) when headers are given, or as a plain
// form without them.
func (b *browser) postWith(path string, form url.Values, headers map[string]string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.w.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

// TestComposerAnswersFetch: the send-message and note routes answer the composer's fetch with
// JSON (the position written, or the one error shape with the words the page would show), a
// plain form with the redirect as before, and refuse a missing or forged CSRF token either way
// without writing anything.
func TestComposerAnswersFetch(t *testing.T) {
	w := newWorld(t)
	customer, id := w.newRequest(t)
	alice := w.login(t, "alice@example.com")
	carol := w.login(t, "carol@example.com")
	details := "/console/requests/" + id.String()
	req := "/portal/requests/" + id.String()
	alice.submitForm(details, details+"/assign", nil)
	alice.submitForm(details, details+"/join", nil)
	aliceToken := csrfOf(t, alice.mustGet(details).body)
	carolToken := csrfOf(t, carol.mustGet("/console").body)
	customerToken := csrfOf(t, customer.mustGet(req).body)

	fetchHeader := map[string]string{"X-Requested-With": "fetch"}
	acceptJSON := map[string]string{"Accept": "application/json"}
	browserNav := map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

	for _, tc := range []struct {
		name     string
		b        *browser
		path     string
		form     url.Values
		headers  map[string]string
		status   int
		code     string // the JSON error's code; "" for a success or an HTML answer
		json     bool
		location string
		written  string // text that the chat must show afterwards
		absent   string // text that must never be written
	}{
		{name: "message by fetch (X-Requested-With)", b: alice, path: details + "/messages", headers: fetchHeader,
			form: url.Values{"csrf_token": {aliceToken}, "body": {"sent by fetch"}}, status: 200, json: true, written: "sent by fetch"},
		{name: "note by fetch (Accept: application/json)", b: alice, path: details + "/notes", headers: acceptJSON,
			form: url.Values{"csrf_token": {aliceToken}, "body": {"note by fetch"}}, status: 200, json: true, written: "note by fetch"},
		{name: "message as a plain form", b: alice, path: details + "/messages", headers: browserNav,
			form: url.Values{"csrf_token": {aliceToken}, "body": {"sent plainly"}}, status: http.StatusSeeOther, location: details, written: "sent plainly"},
		{name: "fetch without a token", b: alice, path: details + "/messages", headers: fetchHeader,
			form: url.Values{"body": {"no token fetch"}}, status: http.StatusForbidden, code: "forbidden", json: true, absent: "no token fetch"},
		{name: "fetch with a forged token", b: alice, path: details + "/notes", headers: acceptJSON,
			form: url.Values{"csrf_token": {"forged-forged-forged-forged-forged-forged"}, "body": {"forged fetch"}}, status: http.StatusForbidden, code: "forbidden", json: true, absent: "forged fetch"},
		{name: "plain form without a token", b: alice, path: details + "/messages", headers: browserNav,
			form: url.Values{"body": {"no token plain"}}, status: http.StatusForbidden, absent: "no token plain"},
		{name: "fetch with another session's token", b: alice, path: details + "/messages", headers: fetchHeader,
			form: url.Values{"csrf_token": {carolToken}, "body": {"carol token"}}, status: http.StatusForbidden, code: "forbidden", json: true, absent: "carol token"},
		{name: "fetch of an empty message", b: alice, path: details + "/messages", headers: fetchHeader,
			form: url.Values{"csrf_token": {aliceToken}, "body": {""}}, status: http.StatusUnprocessableEntity, code: "invalid", json: true},
		{name: "fetch to a request of another company", b: carol, path: details + "/messages", headers: fetchHeader,
			form: url.Values{"csrf_token": {carolToken}, "body": {"not carol's"}}, status: http.StatusNotFound, code: "not_found", json: true, absent: "not carol's"},
		{name: "customer message by fetch", b: customer, path: req + "/messages", headers: fetchHeader,
			form: url.Values{"csrf_token": {customerToken}, "body": {"customer by fetch"}}, status: 200, json: true, written: "customer by fetch"},
		{name: "customer message as a plain form", b: customer, path: req + "/messages", headers: browserNav,
			form: url.Values{"csrf_token": {customerToken}, "body": {"customer plainly"}}, status: http.StatusSeeOther, location: req, written: "customer plainly"},
		{name: "customer fetch with a forged token", b: customer, path: req + "/messages", headers: fetchHeader,
			form: url.Values{"csrf_token": {"forged-forged-forged-forged-forged-forged"}, "body": {"customer forged"}}, status: http.StatusForbidden, code: "forbidden", json: true, absent: "customer forged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.b.postWith(tc.path, tc.form, tc.headers)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", p.status, tc.status, p.body)
			}
			if tc.location != "" && p.location != tc.location {
				t.Errorf("redirect to %q, want %q", p.location, tc.location)
			}
			ct := p.header.Get("Content-Type")
			if tc.json != strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q; JSON wanted: %v", ct, tc.json)
			}
			if tc.json {
				var body struct {
					Position string `json:"position"`
					Error    *struct {
						Code    string `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				if err := json.Unmarshal([]byte(p.body), &body); err != nil {
					t.Fatalf("answer is not JSON: %v\n%s", err, p.body)
				}
				switch {
				case tc.code == "" && (body.Position == "" || body.Error != nil):
					t.Errorf("success answers %s, want a position and no error", p.body)
				case tc.code != "" && (body.Error == nil || body.Error.Code != tc.code || body.Error.Message == ""):
					t.Errorf("refusal answers %s, want the error code %q with a message", p.body, tc.code)
				}
			}
			if tc.written != "" {
				contains(t, alice.mustGet(details), tc.written)
			}
			if tc.absent != "" {
				lacks(t, alice.mustGet(details), tc.absent)
			}
		})
	}
}
