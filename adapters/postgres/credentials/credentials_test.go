package credentials_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
)

func newStore(t *testing.T) (*credentials.Store, *pgxpool.Pool) {
	t.Helper()
	pool, _ := pgtest.NewDatabase(t)
	return credentials.New(pool), pool
}

// wantErr fails unless err matches target and carries this package's context.
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
	if !strings.HasPrefix(err.Error(), "credentials: ") {
		t.Errorf("err %q is not wrapped with context", err)
	}
}

// wantAuthenticated fails unless email and password authenticate technician want.
func wantAuthenticated(t *testing.T, s *credentials.Store, email, password string, want uuid.UUID) {
	t.Helper()
	if got, err := s.Authenticate(context.Background(), email, password); err != nil || got != want {
		t.Fatalf("Authenticate(%q) = %v, %v; want %v", email, got, err, want)
	}
}

// reserved returns a technician with a reserved e-mail address and, if password is set, a
// password.
func reserved(t *testing.T, s *credentials.Store, email, password string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	if err := s.Reserve(ctx, id, email); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if password != "" {
		if err := s.SetPassword(ctx, id, password); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
	}
	return id
}

func TestReserve(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	alice := uuid.New()
	if err := s.Reserve(ctx, alice, "Alice@Example.com"); err != nil {
		t.Fatalf("Reserve: %v", err)
	}

	t.Run("same technician and address again is a no-op", func(t *testing.T) {
		if err := s.Reserve(ctx, alice, "Alice@Example.com"); err != nil {
			t.Fatalf("Reserve again: %v", err)
		}
	})
	t.Run("another technician, any letter case", func(t *testing.T) {
		wantErr(t, s.Reserve(ctx, uuid.New(), "alice@example.COM"), credentials.ErrEmailTaken)
	})
	t.Run("empty address", func(t *testing.T) {
		wantErr(t, s.Reserve(ctx, uuid.New(), "  "), credentials.ErrInvalidEmail)
	})
	t.Run("reserving again keeps the password", func(t *testing.T) {
		id := reserved(t, s, "keep@example.com", "correct horse")
		if err := s.Reserve(ctx, id, "keep@example.com"); err != nil {
			t.Fatalf("Reserve again: %v", err)
		}
		wantAuthenticated(t, s, "keep@example.com", "correct horse", id)
	})
	t.Run("a technician can change address, freeing the old one", func(t *testing.T) {
		id := reserved(t, s, "old@example.com", "correct horse")
		if err := s.Reserve(ctx, id, "new@example.com"); err != nil {
			t.Fatalf("Reserve new address: %v", err)
		}
		wantAuthenticated(t, s, "new@example.com", "correct horse", id)
		if _, err := s.Authenticate(ctx, "old@example.com", "correct horse"); !errors.Is(err, credentials.ErrBadCredentials) {
			t.Fatalf("Authenticate old address: err = %v, want ErrBadCredentials", err)
		}
		if err := s.Reserve(ctx, uuid.New(), "OLD@example.com"); err != nil {
			t.Fatalf("Reserve the freed address: %v", err)
		}
		wantErr(t, s.Reserve(ctx, id, "alice@example.com"), credentials.ErrEmailTaken)
	})
	t.Run("concurrent reservations of one address", func(t *testing.T) {
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = s.Reserve(ctx, uuid.New(), "race@example.com") })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, credentials.ErrEmailTaken):
				t.Errorf("Reserve: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d reservations succeeded, want 1", ok)
		}
	})
}

func TestSetPassword(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	id := reserved(t, s, "bob@example.com", "")

	for name, pw := range map[string]string{
		"empty":              "",
		"7 characters":       "1234567",
		"7 multibyte chars":  "ééééééé",
		"73 bytes":           strings.Repeat("a", 73),
		"37 multibyte chars": strings.Repeat("é", 37), // 74 bytes
	} {
		t.Run("weak: "+name, func(t *testing.T) {
			wantErr(t, s.SetPassword(ctx, id, pw), credentials.ErrWeakPassword)
		})
	}
	for name, pw := range map[string]string{
		"8 characters":      "12345678",
		"8 multibyte chars": "éééééééé",
		"72 bytes":          strings.Repeat("b", 72),
	} {
		t.Run("accepted: "+name, func(t *testing.T) {
			if err := s.SetPassword(ctx, id, pw); err != nil {
				t.Fatalf("SetPassword: %v", err)
			}
			wantAuthenticated(t, s, "bob@example.com", pw, id)
		})
	}
	t.Run("unknown technician", func(t *testing.T) {
		wantErr(t, s.SetPassword(ctx, uuid.New(), "long enough"), credentials.ErrUnknownTechnician)
	})
}

func TestAuthenticate(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	id := reserved(t, s, "Carol@Example.com", "s3cret-passw0rd")
	reserved(t, s, "nopassword@example.com", "")

	t.Run("right password, any letter case of the address", func(t *testing.T) {
		for _, email := range []string{"Carol@Example.com", "carol@example.com", "CAROL@EXAMPLE.COM"} {
			got, err := s.Authenticate(ctx, email, "s3cret-passw0rd")
			if err != nil || got != id {
				t.Fatalf("Authenticate(%q) = %v, %v; want %v", email, got, err, id)
			}
		}
	})
	for name, c := range map[string]struct{ email, password string }{
		"wrong password":              {"carol@example.com", "s3cret-passw0rD"},
		"empty password":              {"carol@example.com", ""},
		"password with extra bytes":   {"carol@example.com", "s3cret-passw0rd!"},
		"unknown address":             {"dave@example.com", "s3cret-passw0rd"},
		"technician with no password": {"nopassword@example.com", ""},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := s.Authenticate(ctx, c.email, c.password)
			wantErr(t, err, credentials.ErrBadCredentials)
			if got != uuid.Nil {
				t.Errorf("Authenticate returned %v with an error", got)
			}
		})
	}
	t.Run("a password over 72 bytes never matches", func(t *testing.T) {
		pw := strings.Repeat("x", 72)
		long := reserved(t, s, "long@example.com", pw)
		wantAuthenticated(t, s, "long@example.com", pw, long)
		_, err := s.Authenticate(ctx, "long@example.com", pw+"y")
		wantErr(t, err, credentials.ErrBadCredentials)
	})
	t.Run("replacing the password", func(t *testing.T) {
		if err := s.SetPassword(ctx, id, "another-password"); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		_, err := s.Authenticate(ctx, "carol@example.com", "s3cret-passw0rd")
		wantErr(t, err, credentials.ErrBadCredentials)
		wantAuthenticated(t, s, "carol@example.com", "another-password", id)
	})
	t.Run("an unknown address costs a bcrypt comparison too", func(t *testing.T) {
		// Loose bound: a cost-10 bcrypt comparison takes tens of milliseconds; a bare query
		// takes well under one.
		start := time.Now()
		_, err := s.Authenticate(ctx, "nobody@example.com", "whatever-password")
		wantErr(t, err, credentials.ErrBadCredentials)
		if d := time.Since(start); d < 5*time.Millisecond {
			t.Fatalf("Authenticate of an unknown address took %v: no bcrypt comparison ran", d)
		}
	})
}

func TestSessions(t *testing.T) {
	s, pool := newStore(t)
	ctx := context.Background()
	tech := reserved(t, s, "erin@example.com", "")

	sess, err := s.CreateSession(ctx, tech, time.Hour)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	t.Run("created", func(t *testing.T) {
		raw, err := base64.RawURLEncoding.DecodeString(sess.Token)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q is not 32 bytes base64url: %v", sess.Token, err)
		}
		if sess.CSRFToken == "" || sess.CSRFToken == sess.Token {
			t.Fatalf("CSRF token %q", sess.CSRFToken)
		}
		if sess.TechnicianID != tech {
			t.Fatalf("TechnicianID = %v, want %v", sess.TechnicianID, tech)
		}
		if d := time.Until(sess.ExpiresAt); d < 59*time.Minute || d > 61*time.Minute {
			t.Fatalf("ExpiresAt is %v away, want about an hour", d)
		}
	})
	t.Run("looked up", func(t *testing.T) {
		got, err := s.LookupSession(ctx, sess.Token)
		if err != nil {
			t.Fatalf("LookupSession: %v", err)
		}
		if got.Token != sess.Token || got.CSRFToken != sess.CSRFToken || got.TechnicianID != tech || !got.ExpiresAt.Equal(sess.ExpiresAt) {
			t.Fatalf("LookupSession = %+v, want %+v", got, sess)
		}
	})
	t.Run("tokens are unique", func(t *testing.T) {
		other, err := s.CreateSession(ctx, tech, time.Hour)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if other.Token == sess.Token || other.CSRFToken == sess.CSRFToken {
			t.Fatal("two sessions share a token")
		}
	})
	t.Run("CSRF", func(t *testing.T) {
		other, err := s.CreateSession(ctx, tech, time.Hour)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		looked, err := s.LookupSession(ctx, sess.Token)
		if err != nil {
			t.Fatalf("LookupSession: %v", err)
		}
		if !s.CheckCSRF(sess, sess.CSRFToken) || !s.CheckCSRF(looked, sess.CSRFToken) {
			t.Fatal("the session's own CSRF token is refused")
		}
		tampered := []byte(sess.CSRFToken)
		tampered[0] ^= 1
		forged := sess
		forged.CSRFToken = other.CSRFToken
		for name, c := range map[string]struct {
			session   credentials.Session
			presented string
		}{
			"empty":                          {sess, ""},
			"another session's token":        {sess, other.CSRFToken},
			"tampered":                       {sess, string(tampered)},
			"the session token itself":       {sess, sess.Token},
			"CSRFToken field is not trusted": {forged, other.CSRFToken},
			"session without a token":        {credentials.Session{CSRFToken: "x"}, "x"},
		} {
			if s.CheckCSRF(c.session, c.presented) {
				t.Errorf("%s: CheckCSRF accepted", name)
			}
		}
	})
	t.Run("unknown or malformed token", func(t *testing.T) {
		unknown := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
		for _, tok := range []string{"", "garbage", unknown, sess.Token + "A", sess.CSRFToken, strings.ToUpper(sess.Token)} {
			if tok == sess.Token {
				continue
			}
			_, err := s.LookupSession(ctx, tok)
			wantErr(t, err, credentials.ErrNoSession)
		}
	})
	t.Run("unknown technician", func(t *testing.T) {
		_, err := s.CreateSession(ctx, uuid.New(), time.Hour)
		wantErr(t, err, credentials.ErrUnknownTechnician)
	})
	t.Run("lifetime must be positive", func(t *testing.T) {
		for _, ttl := range []time.Duration{0, -time.Second} {
			_, err := s.CreateSession(ctx, tech, ttl)
			wantErr(t, err, credentials.ErrInvalidTTL)
		}
	})
	t.Run("expired session refused", func(t *testing.T) {
		short, err := s.CreateSession(ctx, tech, 50*time.Millisecond)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if _, err := s.LookupSession(ctx, short.Token); err != nil {
			t.Fatalf("LookupSession before expiry: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
		_, err = s.LookupSession(ctx, short.Token)
		wantErr(t, err, credentials.ErrNoSession)

		// And one moved into the past in the table.
		old, err := s.CreateSession(ctx, tech, time.Hour)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if _, err := pool.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, tokenHash(t, old.Token)); err != nil {
			t.Fatalf("expire session: %v", err)
		}
		_, err = s.LookupSession(ctx, old.Token)
		wantErr(t, err, credentials.ErrNoSession)

		n, err := s.PurgeExpiredSessions(ctx)
		if err != nil || n != 2 {
			t.Fatalf("PurgeExpiredSessions = %d, %v; want 2", n, err)
		}
		if _, err := s.LookupSession(ctx, sess.Token); err != nil {
			t.Fatalf("live session purged: %v", err)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		doomed, err := s.CreateSession(ctx, tech, time.Hour)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if err := s.DeleteSession(ctx, doomed.Token); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		_, err = s.LookupSession(ctx, doomed.Token)
		wantErr(t, err, credentials.ErrNoSession)
		for _, tok := range []string{doomed.Token, "garbage", ""} {
			if err := s.DeleteSession(ctx, tok); err != nil {
				t.Fatalf("DeleteSession(%q) of a missing session: %v", tok, err)
			}
		}
		if _, err := s.LookupSession(ctx, sess.Token); err != nil {
			t.Fatalf("another session was deleted: %v", err)
		}
	})
	t.Run("all of a technician's sessions deleted", func(t *testing.T) {
		other := reserved(t, s, "frank@example.com", "")
		keep, err := s.CreateSession(ctx, other, time.Hour)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		n, err := s.DeleteTechnicianSessions(ctx, tech)
		if err != nil || n < 1 {
			t.Fatalf("DeleteTechnicianSessions = %d, %v", n, err)
		}
		_, err = s.LookupSession(ctx, sess.Token)
		wantErr(t, err, credentials.ErrNoSession)
		if _, err := s.LookupSession(ctx, keep.Token); err != nil {
			t.Fatalf("another technician's session was deleted: %v", err)
		}
	})
}

func TestCustomerTokens(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	req := uuid.New()
	first := issuedCustomerToken(t, s, req)
	second := issuedCustomerToken(t, s, req)
	otherReq := uuid.New()
	other := issuedCustomerToken(t, s, otherReq)
	if first == second || first == other {
		t.Fatal("two customer tokens are equal")
	}
	if raw, err := base64.RawURLEncoding.DecodeString(first); err != nil || len(raw) != 32 {
		t.Fatalf("token %q is not 32 bytes base64url: %v", first, err)
	}
	for tok, want := range map[string]uuid.UUID{first: req, second: req, other: otherReq} {
		got, err := s.CustomerRequest(ctx, tok)
		if err != nil || got != want {
			t.Fatalf("CustomerRequest = %v, %v; want %v", got, err, want)
		}
	}
	unknown := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	for _, tok := range []string{"", "garbage", unknown, first[:42], first + "A"} {
		got, err := s.CustomerRequest(ctx, tok)
		wantErr(t, err, credentials.ErrNoCustomerToken)
		if got != uuid.Nil {
			t.Errorf("CustomerRequest returned %v with an error", got)
		}
	}
}

// issuedCustomerToken issues a customer token for request req.
func issuedCustomerToken(t *testing.T, s *credentials.Store, req uuid.UUID) string {
	t.Helper()
	token, err := s.IssueCustomerToken(context.Background(), req)
	if err != nil {
		t.Fatalf("IssueCustomerToken(%v): %v", req, err)
	}
	return token
}

// tokenHash is what the table should hold for a token.
func tokenHash(t *testing.T, token string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("decode token: %v", err)
	}
	sum := sha256.Sum256(raw)
	return sum[:]
}

func TestNoSecretStoredInTheClear(t *testing.T) {
	s, pool := newStore(t)
	ctx := context.Background()
	const password = "Pl41ntext-Passw0rd"
	tech := reserved(t, s, "gina@example.com", password)
	sess, err := s.CreateSession(ctx, tech, time.Hour)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	req := uuid.New()
	customer := issuedCustomerToken(t, s, req)

	// The hashes are what is stored.
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE token_hash = $1 AND technician_id = $2`, tokenHash(t, sess.Token), tech).Scan(&n); err != nil || n != 1 {
		t.Fatalf("session rows with the token's SHA-256: %d, %v", n, err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM customer_tokens WHERE token_hash = $1 AND request_id = $2`, tokenHash(t, customer), req).Scan(&n); err != nil || n != 1 {
		t.Fatalf("customer token rows with the token's SHA-256: %d, %v", n, err)
	}
	var hash string
	if err := pool.QueryRow(ctx, `SELECT password_hash FROM technician_credentials WHERE technician_id = $1`, tech).Scan(&hash); err != nil {
		t.Fatalf("read password hash: %v", err)
	}
	if !strings.HasPrefix(hash, "$2a$10$") {
		t.Fatalf("password_hash %q is not a bcrypt cost-10 hash", hash)
	}

	// No column of any table holds a secret, in text or as the hex of its bytes.
	secrets := map[string]string{"password": password, "session token": sess.Token, "CSRF token": sess.CSRFToken, "customer token": customer}
	for _, tok := range []string{sess.Token, sess.CSRFToken, customer} {
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		secrets["hex of "+tok] = hex.EncodeToString(raw)
	}
	secrets["hex of password"] = hex.EncodeToString([]byte(password))
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	checked := 0
	for _, table := range tables {
		rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT row_to_json(t)::text FROM %q t`, table))
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		tableRows, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for _, row := range tableRows {
			checked++
			lower := strings.ToLower(row)
			for what, secret := range secrets {
				if strings.Contains(lower, strings.ToLower(secret)) {
					t.Errorf("table %s holds the %s in the clear: %s", table, what, row)
				}
			}
		}
	}
	if checked < 3 {
		t.Fatalf("only %d rows checked", checked)
	}
}
