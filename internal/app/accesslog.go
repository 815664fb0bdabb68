package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/text"
)

// Every read an auditor makes of a request (its details, its history, a file) and every list
// they query is recorded in the access log before it is answered: who, what, when and from
// where. A read that cannot be recorded is not answered. The log names what was read by IDs
// and query parameters, never by its content, and only ever grows (the PostgreSQL table
// refuses UPDATE, DELETE and TRUNCATE).

// AccessKind is what an auditor read.
type AccessKind string

const (
	AccessDetails AccessKind = "details"
	AccessHistory AccessKind = "history"
	AccessFile    AccessKind = "file"
	AccessList    AccessKind = "list"
)

// AccessEntry is one read an auditor made.
type AccessEntry struct {
	// Seq orders the entries (a later entry has a greater one) and At is when the entry was
	// recorded, by the database's clock: the log sets both.
	Seq       int64      `json:"seq"`
	At        time.Time  `json:"at"`
	AuditorID uuid.UUID  `json:"auditor_id"`
	Kind      AccessKind `json:"kind"`
	// RequestID and CompanyID name the request read and its company; zero for a list.
	RequestID uuid.UUID `json:"request_id,omitzero"`
	CompanyID uuid.UUID `json:"company_id,omitzero"`
	// FileID names the file downloaded.
	FileID uuid.UUID `json:"file_id,omitzero"`
	// Params are the parameters of a list query (view, sort, order, filters by ID, page size)
	// or of a read as of a moment. A search's text and a page's cursor are not kept, since
	// both can hold a customer's name: only that there was one.
	Params   map[string]string `json:"params,omitempty"`
	ClientIP string            `json:"client_ip,omitempty"`
}

// AccessLog keeps the auditors' reads, append-only. The PostgreSQL access log implements it.
type AccessLog interface {
	// Record adds an entry (its Seq and At are the log's).
	Record(ctx context.Context, e AccessEntry) error
	// List returns the entries f keeps, newest first, at most f.Limit of them.
	List(ctx context.Context, f AccessLogFilter) ([]AccessEntry, error)
}

// AccessLogFilter says which entries AccessLog.List returns.
type AccessLogFilter struct {
	// AuditorID keeps one auditor's reads; zero keeps everyone's.
	AuditorID uuid.UUID
	// RequestID keeps the reads of one request (and no list query); zero keeps all.
	RequestID uuid.UUID
	// Companies keeps the reads of these companies' requests, and every list query; with
	// AllCompanies, the reads of every company's requests. Neither keeps the list queries only.
	Companies    []uuid.UUID
	AllCompanies bool
	// Since keeps the entries recorded at or after it; Until those recorded before it. Zero
	// bounds nothing.
	Since, Until time.Time
	// Before keeps the entries whose Seq is below it (keyset paging, newest first); zero starts
	// at the newest.
	Before int64
	// Limit is the most entries returned, 1 to MaxAccessLogPage.
	Limit int
}

// MaxAccessLogPage bounds a page of the access log.
const MaxAccessLogPage = 200

// ErrNoAccessLog is returned for an auditor's read when the App has no access log: a wiring
// mistake, and no read goes unrecorded because of it.
var ErrNoAccessLog = errors.New("no access log is configured: an auditor's read cannot be recorded")

// ErrInvalidAccessCursor is returned for a cursor the access log did not give.
var ErrInvalidAccessCursor = errors.New("cursor is not one the access log gave; start again without it")

// ErrInvalidTimeRange is returned for an access log query whose since is not before its until.
var ErrInvalidTimeRange = errors.New("since must be before until")

// AccessLogQuery asks for one page of the access log.
type AccessLogQuery struct {
	// AuditorID and RequestID, when set, keep one auditor's or one request's entries.
	AuditorID uuid.UUID
	RequestID uuid.UUID
	// Since and Until bound when the entries were recorded (Since included, Until not).
	Since, Until time.Time
	// Limit is the page size, 1–200; 50 when zero.
	Limit int
	// Cursor, from the previous page's NextCursor, starts the page after it.
	Cursor string
}

// AccessLogPage is one page of the access log, newest entry first.
type AccessLogPage struct {
	Entries []AccessEntry `json:"entries"`
	// NextCursor starts the next (older) page; empty after the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// AuditorAccessLog returns what an auditor may read of the access log: the reads, by any
// auditor, of the requests of the companies the auditor may read, and every auditor's list
// queries (which name no request). An unknown auditor is ErrNotFound.
func (qs *Queries) AuditorAccessLog(ctx context.Context, auditorID uuid.UUID, q AccessLogQuery) (AccessLogPage, error) {
	au, _, err := qs.auditors.load(ctx, qs.store, auditorID)
	if err != nil {
		return AccessLogPage{}, err
	}
	f, err := q.filter()
	if err != nil {
		return AccessLogPage{}, err
	}
	f.Companies, f.AllCompanies = au.Companies(), au.AllCompanies()
	return qs.listAccess(ctx, f)
}

// AccessLog returns every entry of the access log that q keeps, whoever made the read: what an
// operator reads from the command line (`helpstream audit access-log`), never an auditor.
func (qs *Queries) AccessLog(ctx context.Context, q AccessLogQuery) (AccessLogPage, error) {
	f, err := q.filter()
	if err != nil {
		return AccessLogPage{}, err
	}
	f.AllCompanies = true
	return qs.listAccess(ctx, f)
}

func (q AccessLogQuery) filter() (AccessLogFilter, error) {
	f := AccessLogFilter{AuditorID: q.AuditorID, RequestID: q.RequestID, Since: q.Since, Until: q.Until, Limit: positiveOr(q.Limit, 50)}
	if q.Limit < 0 || f.Limit > MaxAccessLogPage {
		return AccessLogFilter{}, ErrInvalidLimit
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return AccessLogFilter{}, ErrInvalidTimeRange
	}
	if q.Cursor != "" {
		before, err := parseAccessCursor(q.Cursor)
		if err != nil {
			return AccessLogFilter{}, err
		}
		f.Before = before
	}
	return f, nil
}

func (qs *Queries) listAccess(ctx context.Context, f AccessLogFilter) (AccessLogPage, error) {
	if qs.accessLog == nil {
		return AccessLogPage{}, fmt.Errorf("list the access log: %w", ErrNoAccessLog)
	}
	limit := f.Limit
	f.Limit++ // one more tells whether a next page exists
	entries, err := qs.accessLog.List(ctx, f)
	if err != nil {
		return AccessLogPage{}, fmt.Errorf("list the access log: %w", err)
	}
	page := AccessLogPage{Entries: entries}
	if len(entries) > limit {
		page.Entries = entries[:limit]
		page.NextCursor = accessCursor(entries[limit-1].Seq)
	}
	if page.Entries == nil {
		page.Entries = []AccessEntry{}
	}
	return page, nil
}

// accessCursor is the opaque text of a page's end: the Seq its next page starts below.
func accessCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a" + strconv.FormatInt(seq, 10)))
}

func parseAccessCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || len(b) > 21 || b[0] != 'a' {
		return 0, ErrInvalidAccessCursor
	}
	seq, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil || seq <= 0 || accessCursor(seq) != s {
		return 0, ErrInvalidAccessCursor
	}
	return seq, nil
}

// RecordAccess records a read by v before it is answered, when v is an auditor (anyone else's
// reads are not recorded: it returns nil): for a read the App's own queries do not record, such
// as a view of the requests as they were at a moment. e names what was read — its Kind, the
// request and its company, or the query's Params — never its content; its AuditorID and
// ClientIP are v's. An error means the read must not be answered.
func (qs *Queries) RecordAccess(ctx context.Context, v Viewer, e AccessEntry) error {
	if !v.IsAuditor() {
		return nil
	}
	return qs.recordAccess(ctx, v, e)
}

// recordAccess records an auditor's read before it is answered; when it cannot, the read
// fails.
func (qs *Queries) recordAccess(ctx context.Context, v Viewer, e AccessEntry) error {
	if qs.accessLog == nil {
		return fmt.Errorf("auditor %s reads %s: %w", v.AuditorID, e.Kind, ErrNoAccessLog)
	}
	e.AuditorID, e.ClientIP = v.AuditorID, loggedIP(v.ClientIP)
	if err := qs.accessLog.Record(ctx, e); err != nil {
		return fmt.Errorf("record auditor %s's read (%s): %w", v.AuditorID, e.Kind, err)
	}
	return nil
}

// loggedIP is the client address as the access log keeps it: an IP address in its canonical
// form, or, for what does not parse, the text when it is short printable ASCII, else nothing.
func loggedIP(ip string) string {
	if addr, err := netip.ParseAddr(ip); err == nil {
		return addr.String()
	}
	if len(ip) > 64 || text.Header(ip) != nil {
		return ""
	}
	return ip
}
