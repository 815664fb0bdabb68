package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestIdempotencyKey: the same command twice with one Idempotency-Key answers the first
// response again and writes nothing; the same key with a different body is refused.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
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
	_, w := newWorld(t)
	id, _ := w.inChat(t, uaWindows)
	const n = 16
	results := make([]*response, n)
	atOnce(n, func(i int) {
		results[i] = w.techA.post(t, reqPath(id, "messages"), map[string]any{"body": "only once"}, idemKey("same"))
	})
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

// One Idempotency-Key sent with every command route in turn, each after all the others: a
// command's identity is its actor, route and body with the key, so every one of them is a new
// command that writes its own events, none is answered as a replay of another, and none is
// lost (the join after the assign with the same key used to answer 200 and store nothing).
func TestOneKeyAcrossEveryCommandRoute(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	const key = "one-key-for-everything"
	k := idemKey(key)
	colleague := e.technician(t, "Carol Colleague", w.companyA)

	windows, customer := e.submit(t, w.portalA, uaWindows)
	other, _ := e.submit(t, w.portalA, uaWindows)
	toTransfer, _ := e.submit(t, w.portalA, uaWindows)
	phone, _ := e.submit(t, w.portalA, uaIOS)

	// Each step sends its command with the shared key.
	put := func(who *client, path string, body any) func() *response {
		return func() *response { return who.json(t, http.MethodPut, path, body, k) }
	}
	post := func(who *client, path string, body any) func() *response {
		return func() *response { return who.post(t, path, body, k) }
	}
	upload := func(who *client, path string) func() *response {
		return func() *response { return who.upload(t, path, "steps.txt", []byte("one two three"), k) }
	}
	hello := map[string]any{"body": "Hello"}
	steps := []struct {
		name string
		send func() *response
		want int
	}{
		{"notifications", put(w.techA, "/api/v1/me/notifications", map[string]any{"email": true, "in_console": true}), http.StatusOK},
		{"assign", post(w.techA, reqPath(other, "assign"), nil), http.StatusOK},
		{"unassign", post(w.techA, reqPath(other, "unassign"), nil), http.StatusOK},
		{"assign another", post(w.techA, reqPath(toTransfer, "assign"), nil), http.StatusOK},
		{"transfer", post(w.techA, reqPath(toTransfer, "transfer"), map[string]any{"technician_id": colleague.id.String()}), http.StatusOK},
		{"assign the chat", post(w.techA, reqPath(windows, "assign"), nil), http.StatusOK},
		{"join", post(w.techA, reqPath(windows, "join"), nil), http.StatusOK},
		{"message", post(w.techA, reqPath(windows, "messages"), hello), http.StatusCreated},
		{"note", post(w.techA, reqPath(windows, "notes"), hello), http.StatusCreated},
		{"technician file", upload(w.techA, reqPath(windows, "files")), http.StatusCreated},
		{"customer message", post(customer, custPath(windows, "messages"), hello), http.StatusCreated},
		{"customer file", upload(customer, custPath(windows, "files")), http.StatusCreated},
		{"screen sharing", post(w.techA, reqPath(windows, "screen-sharing"), nil), http.StatusOK},
		{"accept", post(customer, custPath(windows, "screen-sharing", "accept"), nil), http.StatusOK},
		{"end chat", post(w.techA, reqPath(windows, "end-chat"), nil), http.StatusOK},
		{"close", post(w.techA, reqPath(windows, "close"), nil), http.StatusOK},
		{"assign the phone", post(w.techA, reqPath(phone, "assign"), nil), http.StatusOK},
		{"join the phone", post(w.techA, reqPath(phone, "join"), nil), http.StatusOK},
		{"mobile profile", post(w.techA, reqPath(phone, "mobile-profiles"), map[string]any{"profile": "Wi-Fi"}), http.StatusOK},
		{"availability", put(w.techA, "/api/v1/me/availability", map[string]any{"availability": "away"}), http.StatusOK},
	}
	for _, s := range steps {
		before := e.tail(t)
		res := s.send()
		if res.Status != s.want {
			t.Fatalf("%s with the shared key: %s, want %d", s.name, res, s.want)
		}
		if res.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("%s was answered as a replay of an earlier command: %s", s.name, res)
		}
		var r struct {
			Written bool `json:"written"`
		}
		res.decode(t, &r)
		if !r.Written {
			t.Fatalf("%s says it wrote nothing: %s", s.name, res)
		}
		if after := e.tail(t); after == before {
			t.Fatalf("%s answered %d but stored no event", s.name, res.Status)
		}
	}

	want := map[uuid.UUID]map[string]int{
		windows: {"request.assigned.v1": 1, "request.chat_joined.v1": 1, "request.message_sent.v1": 2, "request.note_added.v1": 1,
			"request.file_shared.v1": 2, "request.screen_sharing_requested.v1": 1, "request.screen_sharing_accepted.v1": 1,
			"request.chat_ended.v1": 1, "request.closed.v1": 1},
		other:      {"request.assigned.v1": 1, "request.unassigned.v1": 1},
		toTransfer: {"request.assigned.v1": 1, "request.transferred.v1": 1},
		phone:      {"request.assigned.v1": 1, "request.chat_joined.v1": 1, "request.mobile_profile_sent.v1": 1},
	}
	for id, types := range want {
		viewer := w.techA
		if id == toTransfer {
			viewer = colleague
		}
		h := viewer.history(t, id)
		if !h.Verified {
			t.Errorf("request %s: history does not verify: %s", id, h.Problem)
		}
		for typ, n := range types {
			if got := countType(h, typ); got != n {
				t.Errorf("request %s: %d %s, want %d", id, got, typ, n)
			}
		}
	}

	// Sent again, each command is the same command: answered from memory, nothing written.
	before := e.tail(t)
	for _, s := range steps {
		res := s.send()
		if res.Status != s.want || res.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("%s sent again: %s, want a replay of %d", s.name, res, s.want)
		}
	}
	e.unchanged(t, before, "commands sent again with their key")
}

// A command that appends to one stream twice (registering a technician records them, then
// their password) with an Idempotency-Key stores both events, and a retry stores neither again.
func TestKeyedCommandWithTwoAppendsToOneStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := map[string]any{"name": "Dana Scully", "email": "dana@example.com", "password": password}
	first := e.admin().post(t, "/api/v1/admin/technicians", body, idemKey("register-dana")).want(t, http.StatusCreated)
	var created commandResult
	first.decode(t, &created)
	if created.Version != 1 {
		t.Errorf("registered at version %d, want 1 (registered, then password set)", created.Version)
	}
	var n int
	if err := e.pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE stream_id = $1`, "technician-"+created.ID.String()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d events in the technician's stream, want 2", n)
	}
	before := e.tail(t)
	e.admin().post(t, "/api/v1/admin/technicians", body, idemKey("register-dana")).want(t, http.StatusCreated)
	e.unchanged(t, before, "a registration sent again")
	e.login(t, "dana@example.com")
}
