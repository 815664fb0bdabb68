package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/internal/app"
)

// `helpstream admin unlock --email E` lifts a lockout that a server's logins set, through the
// shared database: the technician gets in at once.
func TestAdminUnlock(t *testing.T) {
	_, url := pgtest.NewDatabase(t)
	ctx := context.Background()
	svc := openTestService(t, url)
	t.Cleanup(svc.Close)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	accounts := svc.Accounts.WithLoginPolicy(app.LoginPolicy{Now: func() time.Time { return now }})
	const password = "correct horse battery"
	if _, err := accounts.RegisterTechnicianWithPassword(ctx, adminMeta(), app.RegisterTechnician{TechnicianID: uuid.New(), Name: "Ann Tech", Email: "ann@example.com"}, password); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatal("no lockout after 100 attempts")
		}
		_, err := accounts.Login(ctx, "ann@example.com", "wrong password")
		if errors.Is(err, app.ErrAccountLocked) {
			break
		}
		now = now.Add(15 * time.Minute)
	}
	if _, err := accounts.Login(ctx, "ann@example.com", password); !errors.Is(err, app.ErrAccountLocked) {
		t.Fatalf("the right password while locked: %v", err)
	}

	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"admin", "unlock", "--database-url", url, "--files-dir", t.TempDir()}, args...), &out)
		return strings.TrimSpace(out.String()), err
	}
	for _, c := range []struct {
		args    []string
		want    string
		wantErr string
	}{
		{[]string{"--email", " Ann@Example.com "}, "ann@example.com unlocked (20 failed logins forgotten)", ""},
		{[]string{"--email", "ann@example.com"}, "ann@example.com was not locked and had no failed logins", ""},
		{nil, "", "--email is required"},
	} {
		out, err := cli(c.args...)
		switch {
		case c.wantErr != "" && (err == nil || err.Error() != c.wantErr):
			t.Errorf("admin unlock %q: err %v, want %q", c.args, err, c.wantErr)
		case c.wantErr == "" && (err != nil || out != c.want):
			t.Errorf("admin unlock %q: %q, %v; want %q", c.args, out, err, c.want)
		}
	}
	if _, err := accounts.Login(ctx, "ann@example.com", password); err != nil {
		t.Fatalf("the right password after the unlock: %v", err)
	}
}
