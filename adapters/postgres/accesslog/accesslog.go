// Package accesslog keeps the auditors' access log in PostgreSQL (app.AccessLog): one row per
// read an auditor made, in the table auditor_access_log (migration 010_auditors.sql), which
// refuses UPDATE, DELETE and TRUNCATE by trigger. The rows name what was read by IDs and query
// parameters only; the application never hands this package a request's content.
package accesslog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/helpstream/helpstream/internal/app"
)

// DB is what the log needs of a pool: a statement and a query.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Log is the access log on a migrated database.
type Log struct {
	db DB
}

var _ app.AccessLog = (*Log)(nil)

// New returns the access log on db (usually the pool).
func New(db DB) *Log { return &Log{db: db} }

// ErrIncompleteEntry is returned by Record for an entry without an auditor or a kind, or one
// that names a company without a request (or the reverse).
var ErrIncompleteEntry = errors.New("an access log entry needs an auditor, a kind, and a request with its company or neither")

// Record implements app.AccessLog: it inserts the entry, stamped by the database's clock.
func (l *Log) Record(ctx context.Context, e app.AccessEntry) error {
	if e.AuditorID == uuid.Nil || e.Kind == "" || (e.RequestID == uuid.Nil) != (e.CompanyID == uuid.Nil) {
		return fmt.Errorf("access log: record: %w", ErrIncompleteEntry)
	}
	params := e.Params
	if params == nil {
		params = map[string]string{}
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("access log: record: params: %w", err)
	}
	_, err = l.db.Exec(ctx, `INSERT INTO auditor_access_log (auditor_id, kind, request_id, company_id, file_id, params, client_ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.AuditorID, string(e.Kind), nullable(e.RequestID), nullable(e.CompanyID), nullable(e.FileID), raw, e.ClientIP)
	if err != nil {
		return fmt.Errorf("access log: record %s of auditor %s: %w", e.Kind, e.AuditorID, err)
	}
	return nil
}

func nullable(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// List implements app.AccessLog: the entries f keeps, newest first, by the index on seq.
func (l *Log) List(ctx context.Context, f app.AccessLogFilter) ([]app.AccessEntry, error) {
	if f.Limit < 1 {
		return nil, fmt.Errorf("access log: list: %w", app.ErrInvalidLimit)
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.AuditorID != uuid.Nil {
		where = append(where, "auditor_id = "+arg(f.AuditorID))
	}
	if f.RequestID != uuid.Nil {
		where = append(where, "request_id = "+arg(f.RequestID))
	}
	if !f.AllCompanies {
		companies := f.Companies
		if companies == nil {
			companies = []uuid.UUID{}
		}
		where = append(where, "(company_id IS NULL OR company_id = ANY("+arg(companies)+"::uuid[]))")
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= "+arg(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < "+arg(f.Until))
	}
	if f.Before > 0 {
		where = append(where, "seq < "+arg(f.Before))
	}
	sql := `SELECT seq, at, auditor_id, kind, request_id, company_id, file_id, params, client_ip FROM auditor_access_log`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY seq DESC LIMIT " + arg(f.Limit)
	rows, err := l.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("access log: list: %w", err)
	}
	defer rows.Close()
	var out []app.AccessEntry
	for rows.Next() {
		var e app.AccessEntry
		var kind string
		var request, company, file *uuid.UUID
		var params []byte
		if err := rows.Scan(&e.Seq, &e.At, &e.AuditorID, &kind, &request, &company, &file, &params, &e.ClientIP); err != nil {
			return nil, fmt.Errorf("access log: list: %w", err)
		}
		e.Kind, e.At = app.AccessKind(kind), e.At.UTC()
		e.RequestID, e.CompanyID, e.FileID = deref(request), deref(company), deref(file)
		if err := json.Unmarshal(params, &e.Params); err != nil {
			return nil, fmt.Errorf("access log: list: entry %d's params: %w", e.Seq, err)
		}
		if len(e.Params) == 0 {
			e.Params = nil
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("access log: list: %w", err)
	}
	return out, nil
}

func deref(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}
