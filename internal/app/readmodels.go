package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/collation"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// The query side's ports. The read models in PostgreSQL (tables kept by projections/…, read by
// adapters/postgres/readmodels) implement them; queries answer from them only. Commands never
// use them: an App without read models runs commands and refuses queries (ErrNoReadModel).

// RequestListReadModel answers the Support Requests panel (R2–R4).
type RequestListReadModel interface {
	ListRequests(ctx context.Context, q RequestListQuery) (RequestPage, error)
}

// RequestDetailsReadModel answers the Details panel (R14).
type RequestDetailsReadModel interface {
	// RequestDetails returns the request as q.Viewer may see it, or an error matching
	// ErrNotFound when it does not exist for them (R2).
	RequestDetails(ctx context.Context, q RequestDetailsQuery) (RequestDetails, error)
}

// DirectoryReadModel answers who serves whom: companies, portals, technicians, their access
// and availability (the facts R2 filters with).
type DirectoryReadModel interface {
	// PortalCompany returns the company a portal belongs to, or ErrUnknownPortal.
	PortalCompany(ctx context.Context, portalID uuid.UUID) (companyID uuid.UUID, companyName string, err error)
	// Technician returns a technician put back together from the read model, or ErrNotFound.
	Technician(ctx context.Context, id uuid.UUID) (*directory.Technician, error)
	// Companies maps every company's ID to its name.
	Companies(ctx context.Context) (map[uuid.UUID]string, error)
	// Technicians maps every technician's ID to their name.
	Technicians(ctx context.Context) (map[uuid.UUID]string, error)
	// Auditors returns every auditor, ordered by name.
	Auditors(ctx context.Context) ([]directory.AuditorState, error)
}

// RequestListQuery is a list query after the App has resolved the caller: every filter is
// explicit, and R2 is already folded into Companies and IncludeNew.
type RequestListQuery struct {
	// Companies are the companies whose requests may be listed: the caller's access, narrowed
	// to one company when the caller asked for it. Empty lists nothing.
	Companies []uuid.UUID
	// IncludeNew lists unassigned requests; R2: only while the caller is Available.
	IncludeNew bool
	View       View
	// Assignee, when set, keeps the open requests assigned to that technician (R4).
	Assignee uuid.UUID
	// Search, when set, keeps the requests whose customer name, customer e-mail or description
	// contains it, ignoring case.
	Search     string
	Sort       SortColumn
	Descending bool
	// Limit is the page size, 1–200.
	Limit int
	// After, when set, starts the page after that row (keyset pagination). Its Sort and
	// Descending are those of the query.
	After *ListCursor

	// backward says the query walks the opposite order to find the page before a cursor
	// (ListRequests.Before): listPage turns the rows around. Read models never see it set
	// to anything they must act on.
	backward bool
}

// Statuses returns the statuses the query may list, in the order of their names.
func (q RequestListQuery) Statuses() []string {
	var out []string
	for _, s := range []string{"active", "completed", "new"} {
		if s == "new" && !q.IncludeNew {
			continue
		}
		if q.View != ViewAll && q.View != "" && string(q.View) != s {
			continue
		}
		if q.Assignee != uuid.Nil && s != "active" {
			continue // assigned and open
		}
		out = append(out, s)
	}
	return out
}

// RequestDetailsQuery asks for one request's details as a viewer sees them.
type RequestDetailsQuery struct {
	RequestID uuid.UUID
	Viewer    Viewer
	// Technician is the viewing technician, for R2 and their actions; nil for the others.
	Technician *directory.Technician
	// Auditor is the viewing auditor, for R2; nil for the others.
	Auditor *directory.Auditor
}

// ListCursor marks where a page of the list ended: the sort key and ID of its last row. Its
// text form is opaque to clients.
type ListCursor struct {
	Sort       SortColumn `json:"s"`
	Descending bool       `json:"d,omitempty"`
	// Key is the last row's SortKey.
	Key string    `json:"k,omitempty"`
	ID  uuid.UUID `json:"i"`
}

// ErrInvalidCursor is returned for a cursor this server did not issue, or one issued for
// another sort order.
var ErrInvalidCursor = errors.New("cursor is not valid for this sort and order; start again without it")

// ErrNoReadModel is returned by a query of an App configured without the read model that
// answers it: a wiring mistake, not the caller's.
var ErrNoReadModel = errors.New("no read model is configured for this query")

// ErrInvalidSearch is returned for a search term that is too long or holds control characters.
var ErrInvalidSearch = errors.New("search must be 1 to 200 characters, without control characters")

// ErrInvalidFilter is returned for contradictory filters (mine=true with someone else as assignee).
var ErrInvalidFilter = errors.New("mine=true and another assignee cannot be combined")

// MaxSearchLength bounds a search term, in characters.
const MaxSearchLength = 200

// String encodes the cursor.
func (c ListCursor) String() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseListCursor decodes a cursor written by ListCursor.String.
func ParseListCursor(s string) (ListCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 1024 {
		return ListCursor{}, ErrInvalidCursor
	}
	var c ListCursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == uuid.Nil || !validSort(c.Sort) || !utf8.ValidString(c.Key) {
		return ListCursor{}, ErrInvalidCursor
	}
	switch c.Sort {
	case SortSubmitted, SortLastActivity:
		if _, err := c.Time(); err != nil {
			return ListCursor{}, ErrInvalidCursor
		}
	case SortID:
		if c.Key != "" {
			return ListCursor{}, ErrInvalidCursor
		}
	case SortBreach:
		if len(c.Key) != 1 || c.Key[0] < '0' || c.Key[0] > '9' {
			return ListCursor{}, ErrInvalidCursor
		}
	}
	return c, nil
}

// Time reads the key of a cursor on a time column.
func (c ListCursor) Time() (time.Time, error) {
	return time.Parse(time.RFC3339Nano, c.Key)
}

// CursorAfter is the cursor that starts the page after row.
func CursorAfter(sort SortColumn, descending bool, row RequestSummary) ListCursor {
	return ListCursor{Sort: sort, Descending: descending, Key: SortKey(sort, row), ID: row.ID}
}

// SortKey is the value a row sorts by in a column, before its ID breaks ties: names by their
// collation key (collation.Key: accents and case ordered as people expect, an unassigned
// request's assignee ""), statuses by their place in the lifecycle (StatusSortKey), times in
// RFC 3339 UTC. Keys of one column compare byte by byte like the rows do (times compare as
// times); the read models store the same keys, so that they order rows as this does.
func SortKey(col SortColumn, s RequestSummary) string {
	switch col {
	case SortCustomer:
		return collation.Key(s.CustomerName)
	case SortCompany:
		return collation.Key(s.CompanyName)
	case SortStatus:
		return StatusSortKey(s.Status)
	case SortAssignee:
		if s.Assignee == nil {
			return ""
		}
		return collation.Key(s.Assignee.Name)
	case SortLastActivity:
		return s.LastActivity.UTC().Format(time.RFC3339Nano)
	case SortID:
		return ""
	case SortBreach:
		return request.BreachSortKey(len(s.Breaches))
	default:
		return s.SubmittedAt.UTC().Format(time.RFC3339Nano)
	}
}

// statusSortKeys order the statuses by the lifecycle (new < active < completed), not by name.
var statusSortKeys = map[request.Status]string{
	request.StatusNew: "1-new", request.StatusActive: "2-active", request.StatusCompleted: "3-completed",
}

// StatusSortKey is the key a status sorts by: its place in the lifecycle, then its name.
func StatusSortKey(s request.Status) string {
	if k, ok := statusSortKeys[s]; ok {
		return k
	}
	return "9-" + string(s)
}

// StatusSortKeys maps each status to its StatusSortKey, for read models that compute the key
// in SQL.
func StatusSortKeys() map[request.Status]string { return maps.Clone(statusSortKeys) }

func validSort(s SortColumn) bool {
	switch s {
	case SortSubmitted, SortID, SortCustomer, SortCompany, SortStatus, SortAssignee, SortLastActivity, SortBreach:
		return true
	}
	return false
}

func validSearch(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxSearchLength {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// MaxProjectionWait bounds how long a query waits for the read models to reach a position.
const MaxProjectionWait = 2 * time.Second

// WaitForPosition waits, at most MaxProjectionWait (or Config.MaxProjectionWait), until what
// the queries read includes every event up to pos: the read models when configured, the
// in-memory catalog otherwise. It reports false when the time ran out first; the caller then
// answers with what is there and says so.
func (qs *Queries) WaitForPosition(ctx context.Context, pos eventlog.Position) (bool, error) {
	if pos.IsStart() {
		return true, nil
	}
	deadline := qs.now().Add(qs.maxProjectionWait)
	if b, ok := ctx.Value(waitBudgetKey{}).(time.Time); ok && b.Before(deadline) {
		deadline = b
	}
	if !qs.now().Before(deadline) {
		return false, nil // the answer's budget is spent: answer with what is there
	}
	waitCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if qs.waitFor == nil {
		return false, nil // nothing can tell how far the read models are
	}
	ok, err := qs.waitFor(waitCtx, pos)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("wait for the read models: %w", err)
	}
	if ok {
		qs.noteReached(pos)
	}
	return ok, nil
}

// waitBudgetKey carries, in a context, when the waits for the read models of one answer must
// end (see WithWaitBudget).
type waitBudgetKey struct{}

// WithWaitBudget bounds the waits for the read models made under ctx, all together, to
// MaxProjectionWait from now: one answer may wait for the caller's min_position, for this
// process's own writes and for a row not found yet, and without a shared budget each wait
// would take the whole bound again (a list answered 8 s late while a transaction held the log
// back). Front ends call it once per request.
func (qs *Queries) WithWaitBudget(ctx context.Context) context.Context {
	if _, ok := ctx.Value(waitBudgetKey{}).(time.Time); ok {
		return ctx
	}
	return context.WithValue(ctx, waitBudgetKey{}, qs.now().Add(qs.maxProjectionWait))
}

// ErrReadModelNotReady is returned by a read model whose tables do not exist yet (the projection
// runner creates them when it first leads).
var ErrReadModelNotReady = errors.New("the read models are not built yet; try again shortly")

// fromReadModel runs a read-model query, the way every query of a configured read model runs:
//
//   - With Config.ReadOwnWrites, it first waits (bounded) until the read models include every
//     event this process appended: a client of one server reads its own writes without passing
//     min_position.
//   - When it finds nothing (an error matching notFound) while the read models may not have
//     applied the whole log yet (this process's own appends, or the log's head as it is now:
//     a server started on a restored or copied log builds its read models while it already
//     answers), it waits for them, bounded, and asks once more: a request submitted through a
//     portal the same server just created, or that the log holds, is not refused.
func fromReadModel[T any](ctx context.Context, qs *Queries, query func() (T, error), notFound ...error) (T, error) {
	if qs.readOwnWrites {
		qs.awaitOwnWrites(ctx)
	}
	v, err := query()
	if err == nil || !anyIs(err, notFound) {
		return v, err
	}
	pos := qs.written.get()
	if heads, ok := qs.store.(eventlog.HeadReader); ok {
		if head, headErr := heads.Head(ctx); headErr == nil && head.Compare(pos) > 0 {
			pos = head
		}
	}
	if pos.IsStart() || qs.reachedOwn(pos) {
		return v, err
	}
	if ok, waitErr := qs.WaitForPosition(ctx, pos); waitErr != nil || !ok {
		return v, err
	}
	return query()
}

// awaitOwnWrites waits, bounded, until the read models have applied this process's last write.
func (qs *Queries) awaitOwnWrites(ctx context.Context) {
	pos := qs.written.get()
	if pos.IsStart() || qs.reachedOwn(pos) {
		return
	}
	_, _ = qs.WaitForPosition(ctx, pos) // on a timeout the query answers with what is there
}

// reachedOwn reports whether the read models are known to have applied pos.
func (qs *Queries) reachedOwn(pos eventlog.Position) bool {
	qs.reachedMu.Lock()
	defer qs.reachedMu.Unlock()
	return pos.Compare(qs.reached) <= 0
}

func (qs *Queries) noteReached(pos eventlog.Position) {
	qs.reachedMu.Lock()
	defer qs.reachedMu.Unlock()
	if pos.Compare(qs.reached) > 0 {
		qs.reached = pos
	}
}

func anyIs(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// writeMark is the furthest position this process's commands appended: the App moves it, its
// Queries wait for it (Config.ReadOwnWrites).
type writeMark struct {
	mu  sync.Mutex
	pos eventlog.Position
}

func (w *writeMark) note(pos eventlog.Position) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if pos.Compare(w.pos) > 0 {
		w.pos = pos
	}
}

func (w *writeMark) get() eventlog.Position {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pos
}

// Written is the furthest position this App's commands appended: what its own queries wait
// for (Config.ReadOwnWrites).
func (a *App) Written() eventlog.Position { return a.written.get() }

// viewerTechnician returns the technician who asks, from the directory read model when there
// is one (falling back to their stream while the read model has not seen them yet).
func (qs *Queries) viewerTechnician(ctx context.Context, id uuid.UUID) (*directory.Technician, error) {
	if qs.directoryRM != nil {
		t, err := qs.directoryRM.Technician(ctx, id)
		if err == nil {
			return t, nil
		}
		if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrReadModelNotReady) {
			return nil, err
		}
	}
	t, _, err := qs.technicians.load(ctx, qs.store, id)
	return t, err
}
