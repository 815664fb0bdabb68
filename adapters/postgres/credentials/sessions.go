package credentials

import (
	"context"
	"crypto/hmac"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/internal/app"
)

// ErrNoSession (app.ErrNoSession) is returned by LookupSession for a token that names no
// session, or an expired one.
var ErrNoSession = app.ErrNoSession

// ErrInvalidTTL is returned by CreateSession for a lifetime that is not positive.
var ErrInvalidTTL = errors.New("a session's lifetime must be positive")

// Session is a technician's or an auditor's login (app.Session): Token is the console's session cookie and the
// API's bearer token; CSRFToken is what the console must echo in state-changing requests (see
// CheckCSRF); ExpiresAt is by the database's clock.
type Session = app.Session

// CreateSession starts a session for the technician or auditor, valid for ttl, of their
// account's role. Only the token's SHA-256 is stored. It returns ErrUnknownTechnician if the
// account has no reserved e-mail address.
func (s *Store) CreateSession(ctx context.Context, accountID uuid.UUID, ttl time.Duration) (Session, error) {
	op := "create session for account " + accountID.String()
	if ttl <= 0 {
		return Session{}, wrap(op, ErrInvalidTTL)
	}
	token, raw, hash := newToken()
	var expiresAt time.Time
	var role string
	err := s.pool.QueryRow(ctx, `
		INSERT INTO sessions (token_hash, technician_id, role, expires_at)
		SELECT $1, c.technician_id, c.role, now() + $3 * interval '1 microsecond'
		FROM technician_credentials c WHERE c.technician_id = $2
		RETURNING expires_at, role`, hash, accountID, ttl.Microseconds()).Scan(&expiresAt, &role)
	if errors.Is(err, pgx.ErrNoRows) || isViolation(err, foreignKeyViolation, "") {
		return Session{}, wrap(op, ErrUnknownTechnician)
	}
	if err != nil {
		return Session{}, wrap(op, err)
	}
	return withAccount(Session{Token: token, CSRFToken: csrfToken(raw), ExpiresAt: expiresAt}, accountID, role), nil
}

// withAccount fills the session's role and the ID of its technician or auditor.
func withAccount(sess Session, id uuid.UUID, role string) Session {
	sess.Role = app.Role(role)
	if sess.Role == app.RoleAuditor {
		sess.AuditorID = id
	} else {
		sess.TechnicianID = id
	}
	return sess
}

// LookupSession returns the live session of a token, with Token and CSRFToken filled, or
// ErrNoSession if the token is malformed, unknown or expired.
func (s *Store) LookupSession(ctx context.Context, token string) (Session, error) {
	raw, hash, ok := decodeToken(token)
	if !ok {
		return Session{}, wrap("look up session", ErrNoSession)
	}
	sess := Session{Token: token, CSRFToken: csrfToken(raw)}
	var id uuid.UUID
	var role string
	err := s.pool.QueryRow(ctx, `
		SELECT technician_id, role, expires_at FROM sessions
		WHERE token_hash = $1 AND expires_at > now()`, hash).Scan(&id, &role, &sess.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, wrap("look up session", ErrNoSession)
	}
	if err != nil {
		return Session{}, wrap("look up session", err)
	}
	return withAccount(sess, id, role), nil
}

// CheckCSRF reports whether presented is the CSRF token of session. It recomputes the token from
// session.Token (the CSRFToken field is not trusted) and compares in constant time.
func (s *Store) CheckCSRF(session Session, presented string) bool {
	raw, _, ok := decodeToken(session.Token)
	if !ok || presented == "" {
		return false
	}
	return hmac.Equal([]byte(csrfToken(raw)), []byte(presented))
}

// DeleteSession ends the session of a token (logging out). An unknown or malformed token is not
// an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, hash, ok := decodeToken(token)
	if !ok {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash); err != nil {
		return wrap("delete session", err)
	}
	return nil
}

// DeleteTechnicianSessions ends every session of a technician or an auditor (after a password
// change, or when their access shrinks) and returns how many there were.
func (s *Store) DeleteTechnicianSessions(ctx context.Context, accountID uuid.UUID) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE technician_id = $1`, accountID)
	if err != nil {
		return 0, wrap("delete sessions of account "+accountID.String(), err)
	}
	return tag.RowsAffected(), nil
}

// PurgeExpiredSessions deletes the sessions that have expired and returns how many there were.
// LookupSession refuses them anyway; this only reclaims space.
func (s *Store) PurgeExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= now()`)
	if err != nil {
		return 0, wrap("purge expired sessions", err)
	}
	return tag.RowsAffected(), nil
}
