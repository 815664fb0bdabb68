package privacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/erasure"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/privacy"
)

func newKeys(t testing.TB, pool *pgxpool.Pool) *privacy.Keys {
	t.Helper()
	text, err := privacy.NewMasterKeyText()
	if err != nil {
		t.Fatal(err)
	}
	master, err := privacy.ParseMasterKey(text)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.NewKeys(privacy.KeysConfig{Pool: pool, Master: master})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func encode(t testing.TB, e eventlog.Event) eventlog.EventData {
	t.Helper()
	typ, data, err := request.Codec().Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return eventlog.EventData{ID: uuid.New(), Type: typ, Data: data}
}

func recorded(stream string, d eventlog.EventData) eventlog.RecordedEvent {
	return eventlog.RecordedEvent{ID: d.ID, StreamID: stream, Type: d.Type, Data: d.Data}
}

// Sealing and opening: every personal field and only those; a ciphertext changed or moved to
// another event does not open; a request from before encryption stays as written.
func TestProtectAndOpen(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	keys := newKeys(t, pool)
	protect := privacy.NewProtector(keys)
	ctx := context.Background()
	req := uuid.New()
	stream := request.Stream(req)
	submitted := &request.Submitted{RequestID: req, CompanyID: uuid.New(), PortalID: uuid.New(), Description: "Printer <on> fire",
		Customer: request.Customer{Name: "Ada Lovelace", Email: "Ada@Example.com"},
		Source:   request.Source{IP: "192.0.2.7", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}}
	events := []eventlog.EventData{
		encode(t, submitted),
		encode(t, &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "purple elephants"}),
		encode(t, &request.NoteAdded{NoteID: uuid.New(), TechnicianID: uuid.New(), Body: "a remark"}),
		encode(t, &request.FileShared{FileID: uuid.New(), From: request.CustomerSide, Name: "passport.png", Size: 3, ContentType: "image/png", SHA256: strings.Repeat("a", 64)}),
		encode(t, &request.ChatEnded{TechnicianID: uuid.New()}),
	}
	plain := make([][]byte, len(events))
	for i := range events {
		plain[i] = bytes.Clone(events[i].Data)
	}
	if err := protect.Protect(ctx, stream, events); err != nil {
		t.Fatal(err)
	}
	for i, e := range events[:4] {
		for _, clear := range []string{"Ada Lovelace", "Ada@Example.com", "192.0.2.7", "purple elephants", "a remark", "passport.png"} {
			if bytes.Contains(e.Data, []byte(clear)) {
				t.Errorf("event %d holds %q in clear: %s", i, clear, e.Data)
			}
		}
	}
	if !bytes.Contains(events[0].Data, []byte("Printer \\u003con\\u003e fire")) && !bytes.Contains(events[0].Data, []byte("Printer <on> fire")) {
		t.Errorf("the description changed: %s", events[0].Data)
	}
	if !bytes.Equal(events[4].Data, plain[4]) {
		t.Errorf("an event with no personal field changed: %s", events[4].Data)
	}
	for i, e := range events {
		opened, err := keys.Open(ctx, recorded(stream, e))
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, opened.Data, plain[i]) {
			t.Errorf("event %d opens as %s, want %s", i, opened.Data, plain[i])
		}
	}

	// What is not a field sealed here for this event reads as written, never as an error
	// that would stall a reader: a changed ciphertext, a ciphertext moved to another event
	// (audit verify finds both by the chain), and an envelope naming a key that does not exist
	// (text a customer typed).
	var doc map[string]any
	if err := json.Unmarshal(events[1].Data, &doc); err != nil {
		t.Fatal(err)
	}
	env, err := privacy.ParseEnvelope(doc["body"].(string))
	if err != nil {
		t.Fatal(err)
	}
	env.Sealed[len(env.Sealed)-1] ^= 1
	unknownKey := privacy.Envelope{KeyID: uuid.New(), Sealed: env.Sealed}.String()
	for name, e := range map[string]eventlog.RecordedEvent{
		"changed":     {ID: events[1].ID, StreamID: stream, Type: events[1].Type, Data: withBody(t, events[1].Data, env.String())},
		"moved":       {ID: uuid.New(), StreamID: stream, Type: events[2].Type, Data: events[2].Data},
		"unknown key": {ID: events[1].ID, StreamID: stream, Type: events[1].Type, Data: withBody(t, events[1].Data, unknownKey)},
	} {
		opened, err := keys.Open(ctx, e)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !jsonEqual(t, opened.Data, e.Data) {
			t.Errorf("%s: opens as %s, want it as written", name, opened.Data)
		}
	}

	// A request submitted before encryption: later events stay as decided.
	old := request.Stream(uuid.New())
	msg := []eventlog.EventData{encode(t, &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "written in clear"})}
	if err := protect.Protect(ctx, old, msg); err != nil || !bytes.Contains(msg[0].Data, []byte("written in clear")) {
		t.Errorf("a message of a request without a key: %v %s", err, msg[0].Data)
	}
	// Other streams are never touched.
	other := []eventlog.EventData{{ID: uuid.New(), Type: "request.message_sent.v1", Data: []byte(`{"body":"x"}`)}}
	if err := protect.Protect(ctx, "company-"+uuid.NewString(), other); err != nil || string(other[0].Data) != `{"body":"x"}` {
		t.Errorf("another stream's event: %v %s", err, other[0].Data)
	}

	// The same customer (another spelling of the address) gets the same key.
	req2 := uuid.New()
	second := []eventlog.EventData{encode(t, &request.Submitted{RequestID: req2, Customer: request.Customer{Name: "Ada", Email: " ada@example.COM"}})}
	if err := protect.Protect(ctx, request.Stream(req2), second); err != nil {
		t.Fatal(err)
	}
	d, err := keys.CustomerRequests(ctx, "ada@example.com")
	if err != nil || len(d.Requests) != 2 {
		t.Fatalf("the customer's requests: %+v, %v", d, err)
	}

	// Destroyed: every field reads as erased; later events are written erased.
	if _, err := keys.Destroy(ctx, "ADA@example.com", uuid.New()); err != nil {
		t.Fatal(err)
	}
	opened, err := keys.Open(ctx, recorded(stream, events[0]))
	if err != nil {
		t.Fatal(err)
	}
	var s request.Submitted
	if err := json.Unmarshal(opened.Data, &s); err != nil {
		t.Fatal(err)
	}
	if s.Customer.Name != privacy.Erased || s.Customer.Email != privacy.Erased || s.Source.IP != privacy.Erased || s.Source.Browser != "Edge" {
		t.Errorf("the erased submission: %+v", s)
	}
	if !bytes.Equal(opened.StoredData, events[0].Data) {
		t.Error("the stored bytes are not kept for the chain")
	}
	later := []eventlog.EventData{encode(t, &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "still here?"})}
	if err := protect.Protect(ctx, stream, later); err != nil || !bytes.Contains(later[0].Data, []byte(`"body":"[erased]"`)) {
		t.Errorf("a message after the erasure: %v %s", err, later[0].Data)
	}
	if !erasure.Withheld(privacy.Erased) || erasure.Withheld("Ada") {
		t.Error("Withheld")
	}
	if _, err := keys.Destroy(ctx, "ada@example.com", uuid.New()); !errors.Is(err, privacy.ErrNoSuchCustomer) {
		t.Errorf("destroying twice: %v", err)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// The cache of other servers: a key destroyed elsewhere is used until its TTL runs out.
func TestKeyTTL(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	text, _ := privacy.NewMasterKeyText()
	master, _ := privacy.ParseMasterKey(text)
	now := time.Now()
	here, err := privacy.NewKeys(privacy.KeysConfig{Pool: pool, Master: master})
	if err != nil {
		t.Fatal(err)
	}
	there, err := privacy.NewKeys(privacy.KeysConfig{Pool: pool, Master: master, TTL: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	req := uuid.New()
	events := []eventlog.EventData{encode(t, &request.Submitted{RequestID: req, Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}})}
	if err := privacy.NewProtector(here).Protect(ctx, request.Stream(req), events); err != nil {
		t.Fatal(err)
	}
	name := func() string {
		t.Helper()
		e, err := there.Open(ctx, recorded(request.Stream(req), events[0]))
		if err != nil {
			t.Fatal(err)
		}
		var s request.Submitted
		_ = json.Unmarshal(e.Data, &s)
		return s.Customer.Name
	}
	if got := name(); got != "Ada" {
		t.Fatalf("before: %q", got)
	}
	if _, err := here.Destroy(ctx, "ada@example.com", uuid.New()); err != nil {
		t.Fatal(err)
	}
	if got := name(); got != "Ada" {
		t.Fatalf("within the TTL: %q", got)
	}
	now = now.Add(time.Minute)
	if got := name(); got != privacy.Erased {
		t.Fatalf("after the TTL: %q", got)
	}
	if _, err := privacy.NewKeys(privacy.KeysConfig{Pool: pool}); err == nil {
		t.Error("keys without a master key")
	}
	if _, err := privacy.NewKeys(privacy.KeysConfig{Master: master}); err == nil {
		t.Error("keys without a pool")
	}
}

// withBody returns data, an event's JSON, with its "body" set to body.
func withBody(t *testing.T, data []byte, body string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["body"] = body
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
