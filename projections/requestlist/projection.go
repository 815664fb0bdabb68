// Package requestlist is the request-list read model: one row per request with what the
// Support Requests panel shows and sorts by (R3), the per-technician queues (R4, the open
// requests assigned to each technician) and a text search on customer and description.
//
// The projection ("request_list") folds request events, and the company and technician events
// whose names the rows show, into its own tables: it never reads another projection's tables.
// List answers the application's RequestListReadModel port with keyset pagination.
package requestlist

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/helpstream/helpstream/domain/collation"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/requestevents"
)

// Name is the projection's name: its checkpoint row, advisory lock and metrics label.
const Name = "request_list"

// Projection keeps the request-list tables. It implements projections.Projection.
type Projection struct{ requestevents.ReadModel }

// NewProjection returns the request-list projection.
func NewProjection() *Projection {
	return &Projection{requestevents.NewReadModel(Name, "request list",
		"request_list", "request_list_search", "request_list_counts", "request_list_companies", "request_list_technicians")}
}

// Schema implements projections.Projection.
//
// request_list: one row per request. The *_key columns are the sort keys of the name columns
// (collation keys, as the application's SortKey makes them with internal/collation: accents
// and case ordered as people expect) in the "C" collation, so that the database orders rows
// exactly as the application's catalog does and btree indexes serve the order. Sorting by
// status follows the lifecycle (new, active, completed): the queries compute that key from
// status (app.StatusSortKeys), each (status) partition of the indexes being already in order.
// customer_wrote_at is when the customer last wrote in the chat (the console's "unread" and
// "customer wrote" marks).
//
// Indexes, two families, so that one page of any view in any order is a short index walk
// whatever the caller's companies (see List for how a query picks one):
//
//   - (company_id, status, <key>, id) for a caller whose companies are few: List walks one
//     index range per (company, status) pair and merges the pairs' first pages. Sorting by ID,
//     company or status is sorting by ID inside a pair, so (company_id, status, id) serves all
//     three.
//   - (status, <key>, id) for a caller whose companies hold a good share of the rows: List
//     walks one index range per status and skips the rows of other companies. Inside a status,
//     sorting by status is sorting by ID.
//   - (assignee_id) WHERE status = 'active': the per-technician queues (R4).
//
// request_list_search holds the text a search looks into, written once when the request is
// submitted, with a trigram index: it stays out of request_list, whose rows change with every
// event and would otherwise re-index the description each time.
//
// request_list_counts counts requests per (company, status), with the all-companies totals
// under the nil company: it gives a page its total without counting rows, and tells List how
// large the caller's share of each status is.
//
// request_list_companies and request_list_technicians are the names the rows show.
func (*Projection) Schema() string {
	return `
CREATE TABLE request_list (
    id             uuid        PRIMARY KEY,
    company_id     uuid        NOT NULL,
    company_name   text        NOT NULL,
    company_key    text        COLLATE "C" NOT NULL,
    customer_name  text        NOT NULL,
    customer_email text        NOT NULL,
    customer_key   text        COLLATE "C" NOT NULL,
    description    text        NOT NULL,
    status         text        COLLATE "C" NOT NULL CHECK (status IN ('new', 'active', 'completed')),
    assignee_id    uuid,
    assignee_name  text        NOT NULL,
    assignee_key   text        COLLATE "C" NOT NULL,
    platform       text        NOT NULL,
    submitted_at   timestamptz NOT NULL,
    assigned_at    timestamptz,
    closed_at      timestamptz,
    last_activity  timestamptz NOT NULL,
    customer_wrote_at timestamptz,
    messages       integer     NOT NULL,
    files          integer     NOT NULL,
    breaches       text        NOT NULL,
    breach_key     text        COLLATE "C" NOT NULL
);
CREATE INDEX request_list_cs_id_idx        ON request_list (company_id, status, id);
CREATE INDEX request_list_cs_submitted_idx ON request_list (company_id, status, submitted_at, id);
CREATE INDEX request_list_cs_activity_idx  ON request_list (company_id, status, last_activity, id);
CREATE INDEX request_list_cs_customer_idx  ON request_list (company_id, status, customer_key, id);
CREATE INDEX request_list_cs_assignee_idx  ON request_list (company_id, status, assignee_key, id);
CREATE INDEX request_list_s_id_idx         ON request_list (status, id);
CREATE INDEX request_list_s_submitted_idx  ON request_list (status, submitted_at, id);
CREATE INDEX request_list_s_activity_idx   ON request_list (status, last_activity, id);
CREATE INDEX request_list_s_customer_idx   ON request_list (status, customer_key, id);
CREATE INDEX request_list_s_assignee_idx   ON request_list (status, assignee_key, id);
CREATE INDEX request_list_s_company_idx    ON request_list (status, company_key, id);
CREATE INDEX request_list_cs_breach_idx    ON request_list (company_id, status, breach_key, id);
CREATE INDEX request_list_s_breach_idx     ON request_list (status, breach_key, id);
CREATE INDEX request_list_queue_idx        ON request_list (assignee_id) WHERE status = 'active';

CREATE TABLE request_list_search (
    id       uuid PRIMARY KEY,
    document text NOT NULL
);
CREATE INDEX request_list_search_trgm_idx ON request_list_search USING gin (document public.gin_trgm_ops);

CREATE TABLE request_list_counts (
    company_id uuid   NOT NULL,
    status     text   COLLATE "C" NOT NULL,
    requests   bigint NOT NULL,
    PRIMARY KEY (company_id, status)
);

CREATE TABLE request_list_companies (
    id   uuid PRIMARY KEY,
    name text NOT NULL,
    key  text COLLATE "C" NOT NULL
);

CREATE TABLE request_list_technicians (
    id   uuid PRIMARY KEY,
    name text NOT NULL
);
`
}

// row is a request as the batch leaves it.
type row struct {
	id            uuid.UUID
	companyID     uuid.UUID
	companyName   string
	customerName  string
	customerEmail string
	description   string
	status        request.Status
	assignee      uuid.UUID
	assigneeName  string
	platform      string
	submittedAt   time.Time
	assignedAt    *time.Time
	closedAt      *time.Time
	lastActivity  time.Time
	customerWrote *time.Time
	messages      int32
	files         int32
	// breached are the service-level targets the request breached (request.sla_breached).
	breached request.Breaches

	// stored says the row was in the table before the batch; oldStatus was its status then.
	stored    bool
	oldStatus request.Status
	changed   bool
}

type countKey struct {
	company uuid.UUID
	status  request.Status
}

// Apply implements projections.Projection. It reads what the batch needs (the stored rows of
// the requests it touches, the names it shows), folds the batch in memory to each request's
// final state, then writes: new rows and their search text with COPY, changed rows with one
// UPDATE from arrays, names and counts with one upsert each.
func (p *Projection) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	b, err := p.Reader.Collect(batch)
	if err != nil {
		return err
	}
	companies, techs := b.Companies, b.Technicians
	if err := writeNames(ctx, tx, companies, techs); err != nil {
		return err
	}
	if len(b.Events) == 0 {
		return nil
	}
	rows, err := readRows(ctx, tx, b.Touched)
	if err != nil {
		return err
	}
	if err := readNames(ctx, tx, b.Events, rows, companies, techs); err != nil {
		return err
	}
	var created []*row
	for _, ev := range b.Events {
		r := rows[ev.RequestID]
		at := ev.Rec.Metadata.OccurredAt
		if s, ok := ev.Event.(*request.Submitted); ok {
			if r != nil {
				continue // the request is already there
			}
			r = &row{
				id: ev.RequestID, companyID: s.CompanyID, companyName: companies[s.CompanyID],
				customerName: s.Customer.Name, customerEmail: s.Customer.Email, description: s.Description,
				status: request.StatusNew, platform: string(s.Source.Platform), submittedAt: at, lastActivity: at,
			}
			rows[ev.RequestID] = r
			created = append(created, r)
			continue
		}
		if r == nil {
			continue // events of a request whose submission this read model never saw
		}
		fold(r, ev.Event, at, techs)
	}
	counts := map[countKey]int64{}
	var changed []*row
	for _, id := range b.Touched {
		r := rows[id]
		switch {
		case r == nil:
		case !r.stored:
			counts[countKey{r.companyID, r.status}]++
		case r.changed:
			changed = append(changed, r)
			if r.status != r.oldStatus {
				counts[countKey{r.companyID, r.oldStatus}]--
				counts[countKey{r.companyID, r.status}]++
			}
		}
	}
	if err := insertRows(ctx, tx, created); err != nil {
		return err
	}
	if err := updateRows(ctx, tx, changed); err != nil {
		return err
	}
	return writeCounts(ctx, tx, counts)
}

// fold applies one event other than Submitted to a request's row, as the catalog does.
func fold(r *row, e eventlog.Event, at time.Time, techs map[uuid.UUID]string) {
	r.changed = true
	r.lastActivity = at
	switch e := e.(type) {
	case *request.Assigned:
		r.assignee, r.assigneeName, r.status = e.TechnicianID, techs[e.TechnicianID], request.StatusActive
		r.assignedAt = ptr(at)
	case *request.Transferred:
		r.assignee, r.assigneeName = e.To, techs[e.To]
		r.assignedAt = ptr(at)
	case *request.Unassigned:
		r.assignee, r.assigneeName, r.status, r.assignedAt = uuid.Nil, "", request.StatusNew, nil
	case *request.MessageSent:
		r.messages++
		if e.From == request.CustomerSide {
			r.customerWrote = ptr(at)
		}
	case *request.FileShared:
		r.files++
	case *request.Closed:
		r.status, r.closedAt = request.StatusCompleted, ptr(at)
	case *request.SLABreached:
		r.breached = r.breached.With(e.Target)
	}
}

// breachColumns are the stored breaches ("assign,first_reply") and their sort key
// (request.BreachSortKey).
func breachColumns(b request.Breaches) (string, string) {
	list := b.List()
	return strings.Join(list, ","), request.BreachSortKey(len(list))
}

// parseBreaches reads the stored breaches.
func parseBreaches(s string) request.Breaches {
	var b request.Breaches
	for _, t := range strings.Split(s, ",") {
		b = b.With(t)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// readRows reads the stored rows of the requests a batch touches (all but the description,
// which never changes).
func readRows(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) (map[uuid.UUID]*row, error) {
	out := make(map[uuid.UUID]*row, len(ids))
	rs, err := tx.Query(ctx, `SELECT id, company_id, company_name, customer_name, customer_email, status, assignee_id,
			assignee_name, platform, submitted_at, assigned_at, closed_at, last_activity, customer_wrote_at, messages, files, breaches
		FROM request_list WHERE id = ANY($1)`, projections.UUIDs(ids))
	if err != nil {
		return nil, fmt.Errorf("request list: read rows: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		r := &row{stored: true}
		var assignee *uuid.UUID
		var status, breaches string
		if err := rs.Scan(&r.id, &r.companyID, &r.companyName, &r.customerName, &r.customerEmail, &status, &assignee,
			&r.assigneeName, &r.platform, &r.submittedAt, &r.assignedAt, &r.closedAt, &r.lastActivity, &r.customerWrote, &r.messages, &r.files, &breaches); err != nil {
			return nil, fmt.Errorf("request list: read rows: %w", err)
		}
		r.breached = parseBreaches(breaches)
		r.status, r.oldStatus = request.Status(status), request.Status(status)
		if assignee != nil {
			r.assignee = *assignee
		}
		out[r.id] = r
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("request list: read rows: %w", err)
	}
	return out, nil
}

// readNames reads the names of the companies and technicians the batch's events name but
// the batch does not define.
func readNames(ctx context.Context, tx pgx.Tx, events []requestevents.Event, rows map[uuid.UUID]*row, companies, techs map[uuid.UUID]string) error {
	var companyIDs, techIDs []uuid.UUID
	for _, ev := range events {
		switch e := ev.Event.(type) {
		case *request.Submitted:
			if _, ok := companies[e.CompanyID]; !ok && rows[ev.RequestID] == nil {
				companyIDs = append(companyIDs, e.CompanyID)
			}
		case *request.Assigned:
			if _, ok := techs[e.TechnicianID]; !ok {
				techIDs = append(techIDs, e.TechnicianID)
			}
		case *request.Transferred:
			if _, ok := techs[e.To]; !ok {
				techIDs = append(techIDs, e.To)
			}
		}
	}
	if len(companyIDs) == 0 && len(techIDs) == 0 {
		return nil
	}
	rs, err := tx.Query(ctx, `SELECT 'c', id, name FROM request_list_companies WHERE id = ANY($1)
		UNION ALL SELECT 't', id, name FROM request_list_technicians WHERE id = ANY($2)`, companyIDs, techIDs)
	if err != nil {
		return fmt.Errorf("request list: read names: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var kind, name string
		var id uuid.UUID
		if err := rs.Scan(&kind, &id, &name); err != nil {
			return fmt.Errorf("request list: read names: %w", err)
		}
		if kind == "c" {
			companies[id] = name
		} else {
			techs[id] = name
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("request list: read names: %w", err)
	}
	return nil
}

func writeNames(ctx context.Context, tx pgx.Tx, companies, techs map[uuid.UUID]string) error {
	if len(companies) > 0 {
		ids, names, keys := make([]uuid.UUID, 0, len(companies)), make([]string, 0, len(companies)), make([]string, 0, len(companies))
		for id, name := range companies {
			name = projections.Text(name)
			ids, names, keys = append(ids, id), append(names, name), append(keys, collation.Key(name))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO request_list_companies (id, name, key)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, key = excluded.key`, ids, names, keys); err != nil {
			return fmt.Errorf("request list: write companies: %w", err)
		}
	}
	if len(techs) > 0 {
		ids, names := make([]uuid.UUID, 0, len(techs)), make([]string, 0, len(techs))
		for id, name := range techs {
			ids, names = append(ids, id), append(names, projections.Text(name))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO request_list_technicians (id, name)
			SELECT * FROM unnest($1::uuid[], $2::text[])
			ON CONFLICT (id) DO UPDATE SET name = excluded.name`, ids, names); err != nil {
			return fmt.Errorf("request list: write technicians: %w", err)
		}
	}
	return nil
}

var listColumns = []string{
	"id", "company_id", "company_name", "company_key", "customer_name", "customer_email", "customer_key", "description",
	"status", "assignee_id", "assignee_name", "assignee_key", "platform", "submitted_at", "assigned_at", "closed_at",
	"last_activity", "customer_wrote_at", "messages", "files", "breaches", "breach_key",
}

func insertRows(ctx context.Context, tx pgx.Tx, created []*row) error {
	if len(created) == 0 {
		return nil
	}
	values := make([][]any, len(created))
	search := make([][]any, len(created))
	for i, r := range created {
		// The keys and the search text derive from the stored names, as the queries that
		// compare them with a page's last row do.
		companyName, customerName, customerEmail := projections.Text(r.companyName), projections.Text(r.customerName), projections.Text(r.customerEmail)
		description, assigneeName := projections.Text(r.description), projections.Text(r.assigneeName)
		breaches, breachKey := breachColumns(r.breached)
		values[i] = []any{
			projections.UUID(r.id), projections.UUID(r.companyID), companyName, collation.Key(companyName), customerName, customerEmail,
			collation.Key(customerName), description, projections.Text(string(r.status)), projections.NullUUID(r.assignee), assigneeName,
			collation.Key(assigneeName), projections.Text(r.platform), r.submittedAt, r.assignedAt, r.closedAt, r.lastActivity,
			r.customerWrote, r.messages, r.files, breaches, breachKey,
		}
		search[i] = []any{projections.UUID(r.id), request.SearchDocument(customerName, customerEmail, description)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"request_list"}, listColumns, pgx.CopyFromRows(values)); err != nil {
		return fmt.Errorf("request list: copy rows: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"request_list_search"}, []string{"id", "document"}, pgx.CopyFromRows(search)); err != nil {
		return fmt.Errorf("request list: copy search text: %w", err)
	}
	return nil
}

func updateRows(ctx context.Context, tx pgx.Tx, changed []*row) error {
	if len(changed) == 0 {
		return nil
	}
	n := len(changed)
	ids := make([]pgtype.UUID, n)
	statuses := make([]string, n)
	assignees := make([]pgtype.UUID, n)
	names := make([]string, n)
	keys := make([]string, n)
	assignedAt := make([]*time.Time, n)
	closedAt := make([]*time.Time, n)
	lastActivity := make([]time.Time, n)
	customerWrote := make([]*time.Time, n)
	messages := make([]int32, n)
	files := make([]int32, n)
	breaches, breachKeys := make([]string, n), make([]string, n)
	for i, r := range changed {
		breaches[i], breachKeys[i] = breachColumns(r.breached)
		ids[i], statuses[i], assignees[i] = projections.UUID(r.id), projections.Text(string(r.status)), projections.NullUUID(r.assignee)
		names[i] = projections.Text(r.assigneeName)
		keys[i] = collation.Key(names[i])
		assignedAt[i], closedAt[i], lastActivity[i], customerWrote[i] = r.assignedAt, r.closedAt, r.lastActivity, r.customerWrote
		messages[i], files[i] = r.messages, r.files
	}
	_, err := tx.Exec(ctx, `UPDATE request_list AS r SET
			status = u.status, assignee_id = u.assignee_id, assignee_name = u.assignee_name, assignee_key = u.assignee_key,
			assigned_at = u.assigned_at, closed_at = u.closed_at, last_activity = u.last_activity,
			customer_wrote_at = u.customer_wrote_at, messages = u.messages, files = u.files,
			breaches = u.breaches, breach_key = u.breach_key
		FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
			$8::timestamptz[], $9::timestamptz[], $10::integer[], $11::integer[], $12::text[], $13::text[])
			AS u(id, status, assignee_id, assignee_name, assignee_key, assigned_at, closed_at, last_activity, customer_wrote_at, messages, files,
				breaches, breach_key)
		WHERE r.id = u.id`,
		ids, statuses, assignees, names, keys, assignedAt, closedAt, lastActivity, customerWrote, messages, files, breaches, breachKeys)
	if err != nil {
		return fmt.Errorf("request list: update rows: %w", err)
	}
	return nil
}

// AllCompanies is the company under which request_list_counts keeps each status's total over
// every company (the queries read it there).
var AllCompanies = uuid.Nil

func writeCounts(ctx context.Context, tx pgx.Tx, counts map[countKey]int64) error {
	totals := map[request.Status]int64{}
	var companies []uuid.UUID
	var statuses []string
	var deltas []int64
	for k, d := range counts {
		if d == 0 {
			continue
		}
		companies, statuses, deltas = append(companies, k.company), append(statuses, projections.Text(string(k.status))), append(deltas, d)
		totals[k.status] += d
	}
	for s, d := range totals {
		if d != 0 {
			companies, statuses, deltas = append(companies, AllCompanies), append(statuses, projections.Text(string(s))), append(deltas, d)
		}
	}
	if len(deltas) == 0 {
		return nil
	}
	// A count that falls to zero is deleted, so that the table holds the same rows however the
	// log was cut into batches (a request can pass through a status between two batches or
	// inside one). Both statements go in one round trip.
	var b pgx.Batch
	b.Queue(`INSERT INTO request_list_counts (company_id, status, requests)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[])
		ON CONFLICT (company_id, status) DO UPDATE SET requests = request_list_counts.requests + excluded.requests`,
		projections.UUIDs(companies), statuses, deltas)
	b.Queue(`DELETE FROM request_list_counts WHERE requests = 0 AND company_id = ANY($1::uuid[])`, projections.UUIDs(companies))
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("request list: write counts: %w", err)
	}
	return nil
}

var _ projections.BulkLoader = (*Projection)(nil)

// NewBulkLoad implements projections.BulkLoader: a rebuild folds every request in memory and
// writes its row once, when the request is closed or at the end of the log.
func (p *Projection) NewBulkLoad() projections.BulkLoad {
	l := &load{
		companies: map[uuid.UUID]string{},
		techs:     map[uuid.UUID]string{},
		rows:      requestevents.NewRows[row](),
	}
	return requestevents.NewLoad(p.Reader, l.rows, requestevents.LoadSteps[row]{
		Request:    l.foldRequest,
		Company:    func(id uuid.UUID, name string) { l.companies[id] = name },
		Technician: func(id uuid.UUID, name string) { l.techs[id] = name },
		Write:      writeLoaded,
		Apply:      p.Apply,
	})
}

// load is what a rebuild's fold of the request list holds: every name seen so far, which the
// rows show, and the rows.
type load struct {
	companies, techs map[uuid.UUID]string
	rows             *requestevents.Rows[row]
}

func (l *load) foldRequest(id uuid.UUID, rec *eventlog.RecordedEvent, e eventlog.Event) {
	at := rec.Metadata.OccurredAt
	r := l.rows.Open(id)
	if s, ok := e.(*request.Submitted); ok {
		if r == nil {
			l.rows.Add(id, &row{
				id: id, companyID: s.CompanyID, companyName: l.companies[s.CompanyID],
				customerName: s.Customer.Name, customerEmail: s.Customer.Email, description: s.Description,
				status: request.StatusNew, platform: string(s.Source.Platform), submittedAt: at, lastActivity: at,
			})
		}
		return
	}
	if r == nil {
		return // events of a request whose submission this read model never saw
	}
	fold(r, e, at, l.techs)
	if r.status == request.StatusCompleted {
		l.rows.Close(id)
	}
}

// writeLoaded returns the write of rows and names.
func writeLoaded(rows []*row, companies, techs map[uuid.UUID]string) projections.BulkWrite {
	return func(ctx context.Context, tx pgx.Tx) error {
		if err := writeNames(ctx, tx, companies, techs); err != nil {
			return err
		}
		counts := map[countKey]int64{}
		for _, r := range rows {
			counts[countKey{r.companyID, r.status}]++
		}
		if err := insertRows(ctx, tx, rows); err != nil {
			return err
		}
		return writeCounts(ctx, tx, counts)
	}
}

// CopyOnlyTables implements projections.BulkLoader: the rows and their search text. The names
// and the counts are upserted.
func (*Projection) CopyOnlyTables() []string { return []string{"request_list", "request_list_search"} }
