// Package credentials keeps Helpstream's secrets and HTTP bookkeeping in PostgreSQL, outside the
// event log (design §6): technicians' and auditors' password hashes (one table of accounts, a
// role telling them apart), sessions, customers' request tokens,
// Idempotency-Key records and the counters of failed logins that throttle logging in.
//
// No secret is stored in the clear. Passwords are bcrypt hashes (cost 10). Every token is 32
// random bytes, handed out base64url-encoded (no padding); only the SHA-256 of its bytes is
// stored, so a copy of the database lets nobody act as a technician or a customer.
//
// A session's CSRF token is not stored either: it is HMAC-SHA256 of a fixed label, keyed with the
// session token's bytes. It can therefore be recomputed and checked whenever the session token is
// presented (which is how a session is found at all), but not derived by anyone who lacks the
// session token — not from the CSRF token's own exposure in pages, and not from the stored hash.
package credentials

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/internal/app"
)

// Store keeps credentials, sessions, customer tokens and idempotency records. It implements
// app.Credentials, and the HTTP layer's idempotency store.
type Store struct {
	pool *pgxpool.Pool
}

var _ app.Credentials = (*Store)(nil)

// New returns a Store on a pool whose database is migrated (schema 002_credentials).
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// tokenBytes is the size of every random token.
const tokenBytes = 32

// tokenEncoding encodes tokens; Strict so that each token has exactly one spelling.
var tokenEncoding = base64.RawURLEncoding.Strict()

// newToken returns a fresh token, its raw bytes and the SHA-256 to store.
func newToken() (token string, raw, hash []byte) {
	raw = make([]byte, tokenBytes)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails; it crashes the program instead
	sum := sha256.Sum256(raw)
	return tokenEncoding.EncodeToString(raw), raw, sum[:]
}

// decodeToken returns a presented token's raw bytes and SHA-256, or ok=false if it cannot be a
// token this package issued.
func decodeToken(token string) (raw, hash []byte, ok bool) {
	if len(token) != tokenEncoding.EncodedLen(tokenBytes) {
		return nil, nil, false
	}
	raw, err := tokenEncoding.DecodeString(token)
	if err != nil || len(raw) != tokenBytes {
		return nil, nil, false
	}
	sum := sha256.Sum256(raw)
	return raw, sum[:], true
}

// csrfLabel separates the CSRF derivation from any other use of a session token's bytes.
const csrfLabel = "helpstream csrf token v1"

// csrfToken derives a session's CSRF token from the session token's raw bytes.
func csrfToken(rawSession []byte) string {
	mac := hmac.New(sha256.New, rawSession)
	mac.Write([]byte(csrfLabel))
	return tokenEncoding.EncodeToString(mac.Sum(nil))
}

// isViolation reports whether err is the PostgreSQL error code on the named constraint (any
// constraint when constraint is empty).
func isViolation(err error, code, constraint string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != code {
		return false
	}
	return constraint == "" || pgErr.ConstraintName == constraint
}

const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

func wrap(op string, err error) error {
	return fmt.Errorf("credentials: %s: %w", op, err)
}
