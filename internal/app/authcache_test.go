package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/internal/app"
)

// A server trusts a session it looked up for the cache's TTL: sessions it ends itself end at
// once; sessions another server ends stop working here within the TTL; customer tokens are
// answered from the cache too.
func TestAuthCache(t *testing.T) {
	w := newWorld(t, 0)
	ctx := context.Background()
	creds := credentials.New(w.pool)
	const ttl = 300 * time.Millisecond
	here := app.NewAccounts(w.app, creds, 0).WithAuthCache(ttl)
	elsewhere := app.NewAccounts(w.otherProcess(t, app.Config{}), creds, 0).WithAuthCache(ttl)
	admin := app.Meta{Actor: app.Admin}
	id := uuid.New()
	if _, err := here.RegisterTechnicianWithPassword(ctx, admin, app.RegisterTechnician{TechnicianID: id, Name: "Cached", Email: "cached@example.com"}, "first password"); err != nil {
		t.Fatal(err)
	}
	open := func(a *app.Accounts) app.Session {
		t.Helper()
		s, err := a.Login(ctx, "cached@example.com", "first password")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	lookup := func(a *app.Accounts, s app.Session) error {
		_, err := a.Credentials().LookupSession(ctx, s.Token)
		return err
	}

	// Ended here: refused here at once.
	s := open(here)
	if err := lookup(here, s); err != nil {
		t.Fatal(err)
	}
	if err := here.Credentials().DeleteSession(ctx, s.Token); err != nil {
		t.Fatal(err)
	}
	if err := lookup(here, s); !errors.Is(err, app.ErrNoSession) {
		t.Fatalf("a session ended here: %v, want ErrNoSession at once", err)
	}
	s = open(here)
	if err := lookup(here, s); err != nil {
		t.Fatal(err)
	}
	if _, err := here.SetPassword(ctx, admin, id, "second password"); err != nil {
		t.Fatal(err)
	}
	if err := lookup(here, s); !errors.Is(err, app.ErrNoSession) {
		t.Fatalf("after a password change here: %v, want ErrNoSession at once", err)
	}

	// Ended elsewhere: still trusted here until the TTL runs out, then refused.
	s, err := here.Login(ctx, "cached@example.com", "second password")
	if err != nil {
		t.Fatal(err)
	}
	if err := lookup(here, s); err != nil {
		t.Fatal(err)
	}
	ended := time.Now()
	if _, err := elsewhere.SetPassword(ctx, admin, id, "third password"); err != nil {
		t.Fatal(err)
	}
	if err := lookup(elsewhere, s); !errors.Is(err, app.ErrNoSession) {
		t.Fatalf("on the server that ended it: %v, want ErrNoSession", err)
	}
	for lookup(here, s) == nil {
		if time.Since(ended) > ttl+200*time.Millisecond {
			t.Fatalf("a session ended elsewhere still works here %s later (TTL %s)", time.Since(ended), ttl)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Customer tokens: looked up once, then answered without the database.
	requestID := uuid.New()
	token, err := creds.IssueCustomerToken(ctx, requestID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := here.Credentials().CustomerRequest(ctx, token)
	if err != nil || got != requestID {
		t.Fatalf("customer token: %s, %v", got, err)
	}
	if _, err := w.pool.Exec(ctx, `DELETE FROM customer_tokens`); err != nil {
		t.Fatal(err)
	}
	if got, err := here.Credentials().CustomerRequest(ctx, token); err != nil || got != requestID {
		t.Fatalf("customer token within the TTL: %s, %v; want it from the cache", got, err)
	}
	if _, err := app.NewAccounts(w.app, creds, 0).WithAuthCache(0).Credentials().CustomerRequest(ctx, token); !errors.Is(err, app.ErrNoCustomerToken) {
		t.Fatalf("without a cache: %v, want ErrNoCustomerToken", err)
	}
}
