package kurrent_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/eventstore/kurrent"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/privacy"
	"github.com/helpstream/helpstream/internal/verify"
)

// TestSealedEventsOnFakeServer runs the application on KurrentDB (the in-memory stand-in, through
// the real client) with personal data sealed (issue 17): the store holds ciphertext under a
// sound hash chain, the reader (which keeps the store's Head) opens it, and after the key is
// destroyed the same events read as erased while the log still verifies without a key.
func TestSealedEventsOnFakeServer(t *testing.T) {
	store, _ := openFake(t, kurrent.Config{})
	pool, _ := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	masterText, err := privacy.NewMasterKeyText()
	if err != nil {
		t.Fatal(err)
	}
	master, err := privacy.ParseMasterKey(masterText)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.NewKeys(privacy.KeysConfig{Pool: pool, Master: master})
	if err != nil {
		t.Fatal(err)
	}
	reader := privacy.Reader(store, keys)
	if _, ok := reader.(eventlog.HeadReader); !ok {
		t.Fatal("the reader lost KurrentDB's Head")
	}
	if _, ok := reader.(eventlog.CheckedAppender); ok {
		t.Fatal("the reader offers a checked append KurrentDB does not have")
	}
	a, err := app.New(app.Config{Store: reader, Protect: privacy.NewProtector(keys).Protect})
	if err != nil {
		t.Fatal(err)
	}
	admin := app.Meta{Actor: app.Admin}
	company, portal, tech, req := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	techMeta := app.Meta{Actor: app.Actor{Kind: "technician", ID: tech}}
	customer := app.Meta{Actor: app.Actor{Kind: "customer", ID: req}}
	for _, step := range []func() (app.Result, error){
		func() (app.Result, error) {
			return a.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: company, Name: "Initech"})
		},
		func() (app.Result, error) {
			return a.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Help"})
		},
		func() (app.Result, error) {
			return a.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: tech, Name: "Dana Scully", Email: "dana@example.com"})
		},
		func() (app.Result, error) {
			return a.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: tech, CompanyID: company})
		},
		func() (app.Result, error) {
			return a.SetAvailability(ctx, techMeta, app.SetAvailability{TechnicianID: tech, Availability: directory.Available})
		},
		func() (app.Result, error) {
			return a.SubmitRequest(ctx, customer, app.SubmitRequest{RequestID: req, PortalID: portal, CompanyID: company,
				Customer: request.Customer{Name: "Ada Lovelace", Email: "ada@example.com"}, Description: "Printer on fire",
				Source: request.Source{IP: "192.0.2.7", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}})
		},
		func() (app.Result, error) { return a.AssignToMe(ctx, techMeta, req) },
		func() (app.Result, error) { return a.JoinChat(ctx, techMeta, req) },
		func() (app.Result, error) {
			return a.SendCustomerMessage(ctx, customer, req, uuid.New(), "purple elephants sing")
		},
		func() (app.Result, error) { return a.AddNote(ctx, techMeta, req, uuid.New(), "a private remark") },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}

	stream := request.Stream(req)
	raw, err := store.ReadStream(ctx, stream, 0, eventlog.ReadOptions{})
	if err != nil || len(raw) != 5 {
		t.Fatalf("the stream as KurrentDB holds it: %d events, %v", len(raw), err)
	}
	for _, e := range raw {
		for _, clear := range []string{"Ada Lovelace", "ada@example.com", "192.0.2.7", "purple elephants", "private remark"} {
			if bytes.Contains(e.Data, []byte(clear)) {
				t.Errorf("%s version %d holds %q in clear", e.Type, e.Version, clear)
			}
		}
	}
	if err := eventlog.VerifyChain(raw); err != nil {
		t.Fatalf("the chain as stored: %v", err)
	}
	opened, err := reader.ReadStream(ctx, stream, 0, eventlog.ReadOptions{})
	if err != nil || !bytes.Contains(opened[0].Data, []byte(`"Ada Lovelace"`)) || !bytes.Contains(opened[3].Data, []byte(`"purple elephants sing"`)) {
		t.Fatalf("the stream opened: %v", err)
	}
	if err := eventlog.VerifyChain(opened); err != nil {
		t.Fatalf("the chain of the opened stream (checked on the stored bytes): %v", err)
	}
	// The subscription opens events too.
	subCtx, stop := context.WithCancel(ctx)
	var seen [][]byte
	_ = reader.Subscribe(subCtx, eventlog.Start(), eventlog.SubscribeOptions{}, func(_ context.Context, batch []eventlog.RecordedEvent) error {
		for _, e := range batch {
			if e.StreamID == stream {
				seen = append(seen, e.Data)
			}
		}
		if len(seen) >= 5 {
			stop()
		}
		return nil
	})
	if len(seen) != 5 || !bytes.Contains(seen[4], []byte(`"a private remark"`)) {
		t.Fatalf("the subscription saw %d events of the request", len(seen))
	}

	if _, err := keys.Destroy(ctx, "ADA@example.com", uuid.New()); err != nil {
		t.Fatal(err)
	}
	erased, err := reader.ReadStream(ctx, stream, 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := request.Codec().Decode(erased[0].Type, erased[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.(*request.Submitted).Customer; c.Name != privacy.Erased || c.Email != privacy.Erased {
		t.Errorf("the erased submission: %+v", c)
	}
	// The aggregate still loads and takes commands; what it writes now is erased at once.
	if _, err := a.SendCustomerMessage(ctx, customer, req, uuid.New(), "after the erasure"); err != nil {
		t.Fatal(err)
	}
	report, err := verify.Log(ctx, verify.Config{Store: store})
	if err != nil || !report.OK() {
		t.Fatalf("audit verify of the log as stored: %v %+v", err, report.Findings)
	}
}
