package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestIdempotencyKey: the same command twice with one Idempotency-Key answers the first
// response again and writes nothing; the same key with a different body is refused.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(t, e)
	id, customer := w.inChat(t, uaWindows)

	t.Run("technician message", func(t *testing.T) {
		msg := map[string]any{"body": "Have you tried turning it off and on again?"}
		first := w.techA.post(t, reqPath(id, "messages"), msg, idemKey("msg-1")).want(t, http.StatusCreated)
		if first.Header.Get("Idempotent-Replayed") != "" {
			t.Error("the first response says it is a replay")
		}
		before := e.tail(t)
		second := w.techA.post(t, reqPath(id, "messages"), msg, idemKey("msg-1")).want(t, http.StatusCreated)
		if !bytes.Equal(first.Body, second.Body) {
			t.Errorf("replay differs:\n%s\n%s", first.Body, second.Body)
		}
		if second.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("Idempotent-Replayed: %q", second.Header.Get("Idempotent-Replayed"))
		}
		e.unchanged(t, before, "a replayed message")
		d := w.techA.details(t, reqPath(id))
		n := 0
		for _, en := range d.Entries {
			if en.Kind == "message" && en.Body == msg["body"] {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d copies of the message, want 1", n)
		}

		// The same key with another body is a different request.
		w.techA.post(t, reqPath(id, "messages"), map[string]any{"body": "something else"}, idemKey("msg-1")).
			wantErr(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
		e.unchanged(t, before, "a reused key")
		// The key belongs to this route and caller: the customer may use the same string.
		customer.post(t, custPath(id, "messages"), msg, idemKey("msg-1")).want(t, http.StatusCreated)
	})

	t.Run("customer message", func(t *testing.T) {
		msg := map[string]any{"body": "It beeps now"}
		first := customer.post(t, custPath(id, "messages"), msg, idemKey("c-1")).want(t, http.StatusCreated)
		before := e.tail(t)
		second := customer.post(t, custPath(id, "messages"), msg, idemKey("c-1")).want(t, http.StatusCreated)
		if !bytes.Equal(first.Body, second.Body) || second.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("not replayed: %s / %s", first, second)
		}
		e.unchanged(t, before, "a replayed customer message")
	})

	t.Run("submission", func(t *testing.T) {
		body := map[string]any{"customer_name": "Eve", "customer_email": "eve@example.com", "description": "Screen is blue", "device_type": "mac"}
		path := "/api/v1/portals/" + w.portalA.String() + "/requests"
		anon := e.anonymous()
		first := anon.post(t, path, body, idemKey("submit-1")).want(t, http.StatusCreated)
		before := e.tail(t)
		second := anon.post(t, path, body, idemKey("submit-1")).want(t, http.StatusCreated)
		if second.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("submission not replayed: %s", second)
		}
		e.unchanged(t, before, "a replayed submission")
		// The customer token is a secret that the idempotency table never keeps: the replay
		// names the same request with a fresh token; everything else is the first response.
		var s, s2 submission
		first.decode(t, &s)
		second.decode(t, &s2)
		if s2.CustomerToken == "" || s2.CustomerToken == s.CustomerToken {
			t.Errorf("replayed customer token %q", s2.CustomerToken)
		}
		s2.CustomerToken = s.CustomerToken
		if s != s2 {
			t.Errorf("replay differs: %+v / %+v", s, s2)
		}
		for _, token := range []string{s.CustomerToken, second.tokenOf(t)} {
			c := &client{e: e, bearer: token}
			if d := c.details(t, custPath(s.RequestID)); d.ID != s.RequestID {
				t.Errorf("token opens %s, want %s", d.ID, s.RequestID)
			}
		}
		if p := w.techA.list(t, "view=new"); p.Total != 1 || !p.has(s.RequestID) {
			t.Errorf("view new after a replayed submission: %+v", p)
		}
		body["description"] = "Screen is green"
		anon.post(t, path, body, idemKey("submit-1")).wantErr(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
		e.unchanged(t, before, "a submission with a reused key")
	})

	t.Run("refused command", func(t *testing.T) {
		// A refused command is remembered too: its replay is the same refusal, still no write.
		before := e.tail(t)
		first := w.techB.post(t, reqPath(id, "assign"), nil, idemKey("steal")).wantErr(t, http.StatusNotFound, "not_found")
		_ = first
		second := w.techB.post(t, reqPath(id, "assign"), nil, idemKey("steal"))
		second.wantErr(t, http.StatusNotFound, "not_found")
		e.unchanged(t, before, "a refused command and its replay")
	})

	t.Run("key too long", func(t *testing.T) {
		before := e.tail(t)
		w.techA.post(t, reqPath(id, "notes"), map[string]any{"body": "x"}, idemKey(strings.Repeat("k", 201))).
			wantErr(t, http.StatusBadRequest, "bad_idempotency_key")
		e.unchanged(t, before, "a command with a bad key")
	})

	t.Run("admin", func(t *testing.T) {
		admin := e.admin()
		first := admin.post(t, "/api/v1/admin/companies", map[string]any{"name": "Initech"}, idemKey("co-1")).want(t, http.StatusCreated)
		before := e.tail(t)
		second := admin.post(t, "/api/v1/admin/companies", map[string]any{"name": "Initech"}, idemKey("co-1")).want(t, http.StatusCreated)
		if !bytes.Equal(first.Body, second.Body) {
			t.Errorf("company creation not replayed: %s / %s", first, second)
		}
		e.unchanged(t, before, "a replayed company creation")
	})
}

func (r *response) tokenOf(t testing.TB) string {
	var s submission
	r.decode(t, &s)
	return s.CustomerToken
}

// TestIdempotencyKeyConcurrent: the same command sent 16 times at once with one key is run
// once; the others are replays of it or told that it is still running.
func TestIdempotencyKeyConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(t, e)
	id, _ := w.inChat(t, uaWindows)
	const n = 16
	results := make([]*response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = w.techA.post(t, reqPath(id, "messages"), map[string]any{"body": "only once"}, idemKey("same"))
		}()
	}
	close(start)
	wg.Wait()
	firsts := 0
	for _, r := range results {
		switch {
		case r.Status == http.StatusCreated && r.Header.Get("Idempotent-Replayed") == "":
			firsts++
		case r.Status == http.StatusCreated:
		case r.Status == http.StatusConflict:
			r.wantErr(t, http.StatusConflict, "idempotency_in_progress")
		default:
			t.Errorf("unexpected %s", r)
		}
	}
	if firsts != 1 {
		t.Errorf("%d requests ran the command, want 1", firsts)
	}
	if got := countType(w.techA.history(t, id), "request.message_sent.v1"); got != 1 {
		t.Errorf("%d messages written, want 1", got)
	}
}
