package main_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
)

// Two serve processes behind one load balancer, one busy chat (issue 10 item 3): 200 messages
// sent at once to one request through both servers, half by the customer and half by the
// assignee, all land; the answers, the details, the history and the event log agree on one
// order, and no message is stored twice.
func TestTwoServersOneChatEveryMessageLands(t *testing.T) {
	// A few seconds on a quiet machine; the minute is for a loaded one, and bounds every call
	// (the build before the servers start is cached by the other tests of the package).
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	bin, err := buildHelpstream(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, dbURL := pgtest.NewDatabase(t)
	s := newServers(t, bin, dbURL)
	first, second := s.start(), s.start()
	clients := []*client{newClient(first.root), newClient(second.root)}

	token := clients[0].login(ctx, t, "alice@example.com")
	submitted, _ := clients[0].command(ctx, "POST", "/api/v1/portals/"+acmePortal+"/requests", "", map[string]string{
		"customer_name": "Ada", "customer_email": "ada@example.com", "description": "Two servers, one chat"})
	requestID, _ := submitted.object()["request_id"].(string)
	customerToken, _ := submitted.object()["customer_token"].(string)
	if submitted.status != http.StatusCreated || requestID == "" {
		t.Fatalf("submit: %s", submitted)
	}
	for _, step := range []string{"assign", "join"} {
		if a, _ := clients[1].command(ctx, "POST", "/api/v1/requests/"+requestID+"/"+step, token, nil); a.status != http.StatusOK {
			t.Fatalf("%s: %s", step, a)
		}
	}

	const messages = 200
	type landed struct {
		id       string
		version  float64
		position string
	}
	answers := make([]landed, messages)
	var wg sync.WaitGroup
	inFlight := make(chan struct{}, 50)
	for i := range messages {
		wg.Go(func() {
			inFlight <- struct{}{}
			defer func() { <-inFlight }()
			c := clients[i%2]
			path, who := "/api/v1/requests/"+requestID+"/messages", token
			if i%4 < 2 {
				path, who = "/api/v1/customer/requests/"+requestID+"/messages", customerToken
			}
			a := c.call(ctx, "POST", path, who, "", map[string]string{"body": fmt.Sprintf("message %d", i)})
			if a.status != http.StatusCreated {
				t.Errorf("message %d through server %d: %s", i, i%2+1, a) // Errorf, unlike Fatal, may be called from a goroutine
				return
			}
			obj := a.object()
			answers[i].id, _ = obj["id"].(string)
			answers[i].version, _ = obj["version"].(float64)
			answers[i].position, _ = obj["position"].(string)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	slices.SortFunc(answers, func(a, b landed) int { return int(a.version - b.version) })
	answered := make([]string, messages)
	last := ""
	for i, a := range answers {
		if i > 0 && a.version == answers[i-1].version {
			t.Fatalf("two messages answered version %v", a.version)
		}
		answered[i] = a.id
		last = a.position
	}

	// The event log, read directly: exactly the answered messages, in the answers' order, each
	// stored once under its own event ID.
	conn := connect(ctx, t, dbURL)
	rows, err := conn.Query(ctx, `SELECT event_id::text, data->>'message_id' FROM events
		WHERE stream_id = $1 AND event_type = 'request.message_sent.v1' ORDER BY stream_version`, "request-"+requestID)
	if err != nil {
		t.Fatal(err)
	}
	var logged, loggedEvents []string
	for rows.Next() {
		var eventID, messageID string
		if err := rows.Scan(&eventID, &messageID); err != nil {
			t.Fatal(err)
		}
		logged, loggedEvents = append(logged, messageID), append(loggedEvents, eventID)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(logged) != messages {
		t.Fatalf("the log holds %d message events, want %d", len(logged), messages)
	}
	if !slices.Equal(logged, answered) {
		t.Fatal("the log's order of the messages differs from the answers' versions")
	}
	if len(slices.Compact(slices.Sorted(slices.Values(logged)))) != messages {
		t.Fatal("a message is stored twice")
	}
	if len(slices.Compact(slices.Sorted(slices.Values(loggedEvents)))) != messages {
		t.Fatal("two message events share an event ID")
	}

	// The details and the history, through the other server, once it has read the last write.
	for i, c := range clients {
		details := caughtUpDetails(ctx, t, c, requestID, token, last)
		var shown []string
		entries, _ := details.object()["entries"].([]any)
		for _, e := range entries {
			entry, _ := e.(map[string]any)
			if entry["kind"] == "message" {
				id, _ := entry["id"].(string)
				shown = append(shown, id)
			}
		}
		if !slices.Equal(shown, answered) {
			t.Fatalf("details through server %d list %d messages, in another order than the log's", i+1, len(shown))
		}
		history := c.call(ctx, "GET", "/api/v1/requests/"+requestID+"/history", token, "", nil)
		if history.status != http.StatusOK || history.object()["verified"] != true {
			t.Fatalf("history through server %d: %s", i+1, history)
		}
		var told, toldEvents []string
		events, _ := history.object()["events"].([]any)
		for _, e := range events {
			event, _ := e.(map[string]any)
			if event["type"] == "request.message_sent.v1" {
				data, _ := event["data"].(map[string]any)
				id, _ := data["message_id"].(string)
				eventID, _ := event["id"].(string)
				told, toldEvents = append(told, id), append(toldEvents, eventID)
			}
		}
		if !slices.Equal(told, answered) {
			t.Fatalf("the history through server %d tells %d messages, in another order than the log's", i+1, len(told))
		}
		if !slices.Equal(toldEvents, loggedEvents) {
			t.Fatalf("the history through server %d tells other event IDs than the log's", i+1)
		}
	}
	for _, c := range clients {
		c.report(t)
	}
}

// caughtUpDetails gets the request's details once they include the command at position: the API
// waits about 2 s for min_position and then answers what it has with X-Projection-Behind, which
// a loaded machine (or another test's transaction holding the log back) can make happen; the
// client's part is to ask again until ctx ends.
func caughtUpDetails(ctx context.Context, t *testing.T, c *client, requestID, token, position string) answer {
	t.Helper()
	for {
		details := c.call(ctx, "GET", "/api/v1/requests/"+requestID+"?min_position="+url.QueryEscape(position), token, "", nil)
		behind := details.header.Get("X-Projection-Behind") != ""
		if details.status == http.StatusOK && !behind {
			return details
		}
		if details.status != http.StatusOK && !behind {
			t.Fatalf("details at position %s: %s", position, details)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("details still behind position %s when the test's time ran out: %s", position, details)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
