package main_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/privacy"
)

// sealedLog opens the personal fields of events read from the database at dbURL with SQL, under
// the master key in keyFile: serve --demo seals them, and the tests compare what was sent with
// what the log holds.
type sealedLog struct {
	t    *testing.T
	keys *privacy.Keys
}

func openSealedLog(ctx context.Context, t *testing.T, dbURL, keyFile string) sealedLog {
	t.Helper()
	text, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatalf("the demo's master key: %v", err)
	}
	master, err := privacy.ParseMasterKey(string(text))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	keys, err := privacy.NewKeys(privacy.KeysConfig{Pool: pool, Master: master})
	if err != nil {
		t.Fatal(err)
	}
	return sealedLog{t: t, keys: keys}
}

// body returns the opened "body" of a message or note event as stored (data), "" when it has
// none.
func (l sealedLog) body(ctx context.Context, eventID, eventType string, data []byte) string {
	l.t.Helper()
	id, err := uuid.Parse(eventID)
	if err != nil {
		l.t.Fatal(err)
	}
	opened, err := l.keys.Open(ctx, eventlog.RecordedEvent{ID: id, Type: eventType, Data: data})
	if err != nil {
		l.t.Fatalf("open event %s: %v", eventID, err)
	}
	var fields struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(opened.Data, &fields); err != nil {
		l.t.Fatalf("event %s: %v", eventID, err)
	}
	return fields.Body
}
