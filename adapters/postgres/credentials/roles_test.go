package credentials_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/internal/app"
)

// Auditors are accounts like technicians': one e-mail address opens one account whatever its
// role, and a session knows whose it is.
func TestAuditorAccounts(t *testing.T) {
	s, pool := newStore(t)
	ctx := context.Background()
	tech := reserved(t, s, "tess@example.com", "correct horse")
	auditor := uuid.New()
	if err := s.ReserveAuditor(ctx, auditor, "Ann@Example.com"); err != nil {
		t.Fatalf("ReserveAuditor: %v", err)
	}
	if err := s.SetPassword(ctx, auditor, "audit horse"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}

	t.Run("e-mail addresses are unique across roles", func(t *testing.T) {
		wantErr(t, s.ReserveAuditor(ctx, uuid.New(), "TESS@example.com"), credentials.ErrEmailTaken)
		wantErr(t, s.Reserve(ctx, uuid.New(), "ann@EXAMPLE.com"), credentials.ErrEmailTaken)
	})
	t.Run("an account never changes role", func(t *testing.T) {
		wantErr(t, s.Reserve(ctx, auditor, "ann@example.com"), credentials.ErrOtherRole)
		wantErr(t, s.Reserve(ctx, auditor, "someone-else@example.com"), credentials.ErrOtherRole)
		wantErr(t, s.ReserveAuditor(ctx, tech, "tess@example.com"), credentials.ErrOtherRole)
		var role string
		if err := pool.QueryRow(ctx, `SELECT role FROM technician_credentials WHERE technician_id = $1`, auditor).Scan(&role); err != nil || role != "auditor" {
			t.Fatalf("the auditor's role is %q (%v)", role, err)
		}
		wantAuthenticated(t, s, "ann@example.com", "audit horse", auditor)
	})
	t.Run("reserving again is a no-op, a new address replaces the old", func(t *testing.T) {
		if err := s.ReserveAuditor(ctx, auditor, "Ann@Example.com"); err != nil {
			t.Fatalf("ReserveAuditor again: %v", err)
		}
		other := uuid.New()
		if err := s.ReserveAuditor(ctx, other, "old-auditor@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := s.ReserveAuditor(ctx, other, "new-auditor@example.com"); err != nil {
			t.Fatalf("ReserveAuditor new address: %v", err)
		}
		if err := s.Reserve(ctx, uuid.New(), "old-auditor@example.com"); err != nil {
			t.Fatalf("the freed address cannot be reserved: %v", err)
		}
	})

	sessions := []struct {
		name    string
		account uuid.UUID
		want    app.Session
	}{
		{"technician", tech, app.Session{Role: app.RoleTechnician, TechnicianID: tech}},
		{"auditor", auditor, app.Session{Role: app.RoleAuditor, AuditorID: auditor}},
	}
	for _, tt := range sessions {
		t.Run("a session of a "+tt.name+" says so", func(t *testing.T) {
			created, err := s.CreateSession(ctx, tt.account, time.Hour)
			if err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			looked, err := s.LookupSession(ctx, created.Token)
			if err != nil {
				t.Fatalf("LookupSession: %v", err)
			}
			for _, got := range []app.Session{created, looked} {
				if got.Role != tt.want.Role || got.TechnicianID != tt.want.TechnicianID || got.AuditorID != tt.want.AuditorID ||
					got.AccountID() != tt.account || got.IsAuditor() != (tt.want.Role == app.RoleAuditor) {
					t.Fatalf("session = %+v, want role %s, technician %v, auditor %v", got, tt.want.Role, tt.want.TechnicianID, tt.want.AuditorID)
				}
			}
			if !s.CheckCSRF(looked, created.CSRFToken) {
				t.Fatal("the session's CSRF token does not check")
			}
			n, err := s.DeleteTechnicianSessions(ctx, tt.account)
			if err != nil || n != 1 {
				t.Fatalf("DeleteTechnicianSessions = %d, %v; want 1", n, err)
			}
			if _, err := s.LookupSession(ctx, created.Token); !errors.Is(err, credentials.ErrNoSession) {
				t.Fatalf("LookupSession after the sessions ended: %v", err)
			}
		})
	}
	t.Run("no session for an account never reserved", func(t *testing.T) {
		_, err := s.CreateSession(ctx, uuid.New(), time.Hour)
		wantErr(t, err, credentials.ErrUnknownTechnician)
	})
}
