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

// Session is a technician's login (app.Session): Token is the console's session cookie and the
// API's bearer token; CSRFToken is what the console must echo in state-changing requests (see
// CheckCSRF); ExpiresAt is by the database's clock.
type Session = app.Session

// CreateSession starts a session for the technician, valid for ttl. Only the token's SHA-256 is
// stored. It returns ErrUnknownTechnician if the technician has no reserved e-mail address.
func (s *Store) CreateSession(ctx context.Context, technicianID uuid.UUID, ttl time.Duration) (Session, error) {
	op := "create session for technician " + technicianID.String()
	if ttl <= 0 {
		return Session{}, wrap(op, ErrInvalidTTL)
	}
	token, raw, hash := newToken()
	var expiresAt time.Time
	err := s.pool.QueryRow(ctx, `
		INSERT INTO sessions (token_hash, technician_id, expires_at)
		VALUES ($1, $2, now() + $3 * interval '1 microsecond')
		RETURNING expires_at`, hash, technicianID, ttl.Microseconds()).Scan(&expiresAt)
	if isViolation(err, foreignKeyViolation, "") {
		return Session{}, wrap(op, ErrUnknownTechnician)
	}
	if err != nil {
		return Session{}, wrap(op, err)
	}
	return Session{Token: token, CSRFToken: csrfToken(raw), TechnicianID: technicianID, ExpiresAt: expiresAt}, nil
}

// LookupSession returns the live session of a token, with Token and CSRFToken filled, or
// ErrNoSession if the token is malformed, unknown or expired.
func (s *Store) LookupSession(ctx context.Context, token string) (Session, error) {
	raw, hash, ok := decodeToken(token)
	if !ok {
		return Session{}, wrap("look up session", ErrNoSession)
	}
	sess := Session{Token: token, CSRFToken: csrfToken(raw)}
	err := s.pool.QueryRow(ctx, `
		SELECT technician_id, expires_at FROM sessions
		WHERE token_hash = $1 AND expires_at > now()`, hash).Scan(&sess.TechnicianID, &sess.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, wrap("look up session", ErrNoSession)
	}
	if err != nil {
		return Session{}, wrap("look up session", err)
	}
	return sess, nil
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

// DeleteTechnicianSessions ends every session of a technician (after a password change, or when
// the technician is deactivated) and returns how many there were.
func (s *Store) DeleteTechnicianSessions(ctx context.Context, technicianID uuid.UUID) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE technician_id = $1`, technicianID)
	if err != nil {
		return 0, wrap("delete sessions of technician "+technicianID.String(), err)
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
