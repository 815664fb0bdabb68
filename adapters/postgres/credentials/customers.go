package credentials

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/internal/app"
)

// ErrNoCustomerToken (app.ErrNoCustomerToken) is returned by CustomerRequest for a token that
// names no request.
var ErrNoCustomerToken = app.ErrNoCustomerToken

// IssueCustomerToken returns a new, unguessable token that gives access to the request. Only
// its SHA-256 is stored, so the caller must hand it out now; a request may have several tokens.
func (s *Store) IssueCustomerToken(ctx context.Context, requestID uuid.UUID) (string, error) {
	token, _, hash := newToken()
	if _, err := s.pool.Exec(ctx, `INSERT INTO customer_tokens (token_hash, request_id) VALUES ($1, $2)`, hash, requestID); err != nil {
		return "", wrap("issue customer token for request "+requestID.String(), err)
	}
	return token, nil
}

// CustomerRequest returns the request a customer token gives access to, or ErrNoCustomerToken.
func (s *Store) CustomerRequest(ctx context.Context, token string) (uuid.UUID, error) {
	_, hash, ok := decodeToken(token)
	if !ok {
		return uuid.Nil, wrap("look up customer token", ErrNoCustomerToken)
	}
	var requestID uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT request_id FROM customer_tokens WHERE token_hash = $1`, hash).Scan(&requestID)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, wrap("look up customer token", ErrNoCustomerToken)
	}
	if err != nil {
		return uuid.Nil, wrap("look up customer token", err)
	}
	return requestID, nil
}
