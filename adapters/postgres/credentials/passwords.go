package credentials

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/helpstream/helpstream/internal/app"
)

// The errors of the app.Credentials port are app's own sentinels, so that errors.Is matches
// them wherever the port is used.
var (
	// ErrEmailTaken is returned by Reserve when another technician has the e-mail address
	// (compared case-insensitively).
	ErrEmailTaken = app.ErrEmailTaken
	// ErrWeakPassword is returned by SetPassword for a password shorter than MinPasswordLength
	// characters or longer than MaxPasswordBytes bytes.
	ErrWeakPassword = app.ErrWeakPassword
	// ErrUnknownTechnician is returned by SetPassword and CreateSession for a technician whose
	// e-mail address was never reserved.
	ErrUnknownTechnician = app.ErrUnknownTechnician
	// ErrBadCredentials is returned by Authenticate for an unknown e-mail address, a technician
	// without a password, and a wrong password alike.
	ErrBadCredentials = app.ErrBadCredentials
)

// ErrInvalidEmail is returned by Reserve for an empty e-mail address.
var ErrInvalidEmail = errors.New("the e-mail address is empty")

const (
	// MinPasswordLength is the fewest characters (runes) a password may have.
	MinPasswordLength = 8
	// MaxPasswordBytes is the most bytes a password may have: bcrypt ignores the rest.
	MaxPasswordBytes = 72
	// bcryptCost is the bcrypt work factor.
	bcryptCost = 10
)

// dummyHash is a bcrypt hash (cost 10) of a random password nobody knows. Authenticate compares
// against it when there is no real hash, so the time it takes does not reveal whether an e-mail
// address is known.
var dummyHash = []byte("$2a$10$BdQ/Xt2Geo0jjr8PXVme/eFnHIuhldt8zcLciP8SqyNVYQeT8nvDa")

// Reserve gives email to technicianID for logging in. Reserving the same address for the same
// technician again does nothing (its password is kept); reserving a different address for a
// technician changes their address. It returns ErrEmailTaken if another account (a technician
// or an auditor) has the address in any letter case, and ErrOtherRole if technicianID is an
// auditor's.
func (s *Store) Reserve(ctx context.Context, technicianID uuid.UUID, email string) error {
	return s.reserve(ctx, app.RoleTechnician, technicianID, email)
}

// ReserveAuditor is Reserve for an auditor: the address opens an auditor's account, whose
// sessions are auditors' sessions.
func (s *Store) ReserveAuditor(ctx context.Context, auditorID uuid.UUID, email string) error {
	return s.reserve(ctx, app.RoleAuditor, auditorID, email)
}

// ErrOtherRole is returned by Reserve and ReserveAuditor for an ID whose account has the other
// role: an account never changes role.
var ErrOtherRole = errors.New("that ID is an account of another role")

func (s *Store) reserve(ctx context.Context, role app.Role, id uuid.UUID, email string) error {
	op := "reserve e-mail for " + string(role) + " " + id.String()
	if strings.TrimSpace(email) == "" {
		return wrap(op, ErrInvalidEmail)
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO technician_credentials (technician_id, email, role) VALUES ($1, $2, $3)
		ON CONFLICT (technician_id) DO UPDATE SET email = EXCLUDED.email, updated_at = now()
		WHERE technician_credentials.email IS DISTINCT FROM EXCLUDED.email
			AND technician_credentials.role = EXCLUDED.role`,
		id, email, string(role))
	if isViolation(err, uniqueViolation, "technician_credentials_email_key") {
		return wrap(op, ErrEmailTaken)
	}
	if err != nil {
		return wrap(op, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Nothing changed: the same address again, or an account of the other role.
	var stored string
	if err := s.pool.QueryRow(ctx, `SELECT role FROM technician_credentials WHERE technician_id = $1`, id).Scan(&stored); err != nil {
		return wrap(op, err)
	}
	if app.Role(stored) != role {
		return wrap(op, ErrOtherRole)
	}
	return nil
}

// SetPassword sets (or replaces) a technician's or an auditor's password. It returns ErrWeakPassword for a
// password of fewer than MinPasswordLength characters or more than MaxPasswordBytes bytes, and
// ErrUnknownTechnician if the technician has no reserved e-mail address. Existing sessions are
// kept; call DeleteTechnicianSessions to end them.
func (s *Store) SetPassword(ctx context.Context, technicianID uuid.UUID, password string) error {
	op := "set password of technician " + technicianID.String()
	if utf8.RuneCountInString(password) < MinPasswordLength || len(password) > MaxPasswordBytes {
		return wrap(op, ErrWeakPassword)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return wrap(op, fmt.Errorf("hash: %w", err))
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE technician_credentials SET password_hash = $2, updated_at = now()
		WHERE technician_id = $1`, technicianID, string(hash))
	if err != nil {
		return wrap(op, err)
	}
	if tag.RowsAffected() == 0 {
		return wrap(op, ErrUnknownTechnician)
	}
	return nil
}

// Authenticate returns the technician or auditor whose e-mail address (any letter case) and password these
// are, or ErrBadCredentials. It runs a bcrypt comparison in every case, so that its duration does
// not tell a known address from an unknown one.
func (s *Store) Authenticate(ctx context.Context, email, password string) (uuid.UUID, error) {
	var (
		id   uuid.UUID
		hash *string
	)
	err := s.pool.QueryRow(ctx, `
		SELECT technician_id, password_hash FROM technician_credentials
		WHERE lower(email) = lower($1)`, email).Scan(&id, &hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, wrap("authenticate", err)
	}
	known := err == nil && hash != nil && len(password) <= MaxPasswordBytes
	compareWith := dummyHash
	if known {
		compareWith = []byte(*hash)
	}
	if cmpErr := bcrypt.CompareHashAndPassword(compareWith, []byte(password)); cmpErr != nil || !known {
		return uuid.Nil, wrap("authenticate", ErrBadCredentials)
	}
	return id, nil
}
