package analytics

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Tables names one generation of the job's tables: the live ones (Live), or those a rebuild
// fills beside them (analytics_*_v<N>) before swapping them in.
type Tables struct {
	suffix string
}

// Live is the tables the Reports page and the export read.
func Live() Tables { return Tables{} }

// generation is the tables a rebuild builds: analytics_*_v<n>.
func generation(n int) Tables { return Tables{suffix: fmt.Sprintf("_v%d", n)} }

// The tables of the generation: one row a request, a company, a technician, a message folded,
// and the state (migration 013).
func (t Tables) Requests() string    { return "analytics_requests" + t.suffix }
func (t Tables) Companies() string   { return "analytics_companies" + t.suffix }
func (t Tables) Technicians() string { return "analytics_technicians" + t.suffix }
func (t Tables) Applied() string     { return "analytics_applied" + t.suffix }
func (t Tables) State() string       { return "analytics_state" + t.suffix }

// all lists the tables of a generation.
func (t Tables) all() []string {
	return []string{t.Requests(), t.Companies(), t.Technicians(), t.Applied(), t.State()}
}

// swapLock is the key of the PostgreSQL advisory lock between folds (shared) and a rebuild's
// swap (exclusive): a swap waits for the folds in flight and holds the next ones back until the
// new tables are live.
const swapLock = 0x416e616c79746963 // "Analytic"

// Fold applies events to the tables in tx: the events whose ID the tables have not applied
// yet change the facts, the others nothing. It returns how many it applied. The caller commits.
func Fold(ctx context.Context, tx pgx.Tx, t Tables, events []Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	ids := make([][16]byte, len(events)) // binary: uuid.UUID would be encoded as text
	for i, e := range events {
		ids[i] = e.ID
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, int64(swapLock)); err != nil {
		return 0, fmt.Errorf("analytics: wait for a rebuild's swap: %w", err)
	}
	rows, err := tx.Query(ctx, `INSERT INTO `+t.Applied()+` (message_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING message_id`, ids)
	if err != nil {
		return 0, fmt.Errorf("analytics: record the messages applied: %w", err)
	}
	fresh, err := pgx.CollectRows(rows, pgx.RowTo[[16]byte])
	if err != nil {
		return 0, fmt.Errorf("analytics: record the messages applied: %w", err)
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	isFresh := make(map[[16]byte]bool, len(fresh))
	for _, id := range fresh {
		isFresh[id] = true
	}
	facts := NewFacts()
	var last Event
	var latest time.Time
	for _, e := range events {
		if !isFresh[e.ID] {
			continue
		}
		delete(isFresh, e.ID) // the same message twice in one batch folds once
		facts.Add(e)
		last = e
		if e.OccurredAt.After(latest) {
			latest = e.OccurredAt
		}
	}
	batch := &pgx.Batch{}
	queueRequests(batch, t, facts)
	queueCompanies(batch, t, facts)
	queueTechnicians(batch, t, facts)
	batch.Queue(`UPDATE `+t.State()+` SET applied = applied + $1, last_position = $2, last_occurred_at = $3,
		max_occurred_at = GREATEST(max_occurred_at, $4)`, len(fresh), last.Position, last.OccurredAt, latest)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return 0, fmt.Errorf("analytics: fold %d events: %w", len(fresh), err)
	}
	return len(fresh), nil
}

func queueRequests(batch *pgx.Batch, t Tables, facts *Facts) {
	if len(facts.Requests) == 0 {
		return
	}
	n := len(facts.Requests)
	// pgtype's values encode in binary without reflection: a batch's arrays cost little to send
	var (
		ids                                                     = make([][16]byte, 0, n)
		companies, assignees, lasts                             = make([]pgtype.UUID, 0, n), make([]pgtype.UUID, 0, n), make([]pgtype.UUID, 0, n)
		submitted, assigned, replied, ended, closed, lastEvents = make([]pgtype.Timestamptz, 0, n), make([]pgtype.Timestamptz, 0, n), make([]pgtype.Timestamptz, 0, n), make([]pgtype.Timestamptz, 0, n), make([]pgtype.Timestamptz, 0, n), make([]pgtype.Timestamptz, 0, n)
		assigneeVersions, lastVersions                          = make([]int64, 0, n), make([]int64, 0, n)
		customer, technician, files, transfers, escalations     = make([]int32, 0, n), make([]int32, 0, n), make([]int32, 0, n), make([]int32, 0, n), make([]int32, 0, n)
		notes, events                                           = make([]int32, 0, n), make([]int32, 0, n)
		breachedAssign, breachedReply, breachedResolution       = make([]bool, 0, n), make([]bool, 0, n), make([]bool, 0, n)
	)
	// in key order, so two folds touching the same rows lock them in the same order
	keys := make([]uuid.UUID, 0, n)
	for id := range facts.Requests {
		keys = append(keys, id)
	}
	slices.SortFunc(keys, func(a, b uuid.UUID) int { return compareUUID(a, b) })
	for _, id := range keys {
		f := facts.Requests[id]
		ids = append(ids, id)
		companies, assignees, lasts = append(companies, nullable(f.CompanyID)), append(assignees, nullable(f.Assignee)), append(lasts, nullable(f.LastTechnician))
		submitted, assigned, replied = append(submitted, timestamptz(f.SubmittedAt)), append(assigned, timestamptz(f.FirstAssignedAt)), append(replied, timestamptz(f.FirstReplyAt))
		ended, closed, lastEvents = append(ended, timestamptz(f.ChatEndedAt)), append(closed, timestamptz(f.ClosedAt)), append(lastEvents, timestamptz(f.LastEventAt))
		assigneeVersions, lastVersions = append(assigneeVersions, f.AssigneeVersion), append(lastVersions, f.LastTechnicianVersion)
		customer, technician, files = append(customer, int32(f.CustomerMessages)), append(technician, int32(f.TechnicianMessages)), append(files, int32(f.Files))
		transfers, escalations, notes, events = append(transfers, int32(f.Transfers)), append(escalations, int32(f.Escalations)), append(notes, int32(f.Notes)), append(events, int32(f.Events))
		breachedAssign, breachedReply, breachedResolution = append(breachedAssign, f.Breached.Assign), append(breachedReply, f.Breached.FirstReply), append(breachedResolution, f.Breached.Resolution)
	}
	batch.Queue(`INSERT INTO `+t.Requests()+` AS r (request_id, company_id, submitted_at, first_assigned_at, first_reply_at,
			chat_ended_at, closed_at, assignee_id, assignee_version, last_technician_id, last_technician_version,
			customer_messages, technician_messages, files, transfers, escalations, notes, events, last_event_at,
			breached_assign, breached_first_reply, breached_resolution)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[],
			$6::timestamptz[], $7::timestamptz[], $8::uuid[], $9::bigint[], $10::uuid[], $11::bigint[],
			$12::int[], $13::int[], $14::int[], $15::int[], $16::int[], $17::int[], $18::int[], $19::timestamptz[],
			$20::boolean[], $21::boolean[], $22::boolean[])
		ON CONFLICT (request_id) DO UPDATE SET
			company_id = coalesce(r.company_id, EXCLUDED.company_id),
			submitted_at = LEAST(r.submitted_at, EXCLUDED.submitted_at),
			first_assigned_at = LEAST(r.first_assigned_at, EXCLUDED.first_assigned_at),
			first_reply_at = LEAST(r.first_reply_at, EXCLUDED.first_reply_at),
			chat_ended_at = GREATEST(r.chat_ended_at, EXCLUDED.chat_ended_at),
			closed_at = LEAST(r.closed_at, EXCLUDED.closed_at),
			assignee_id = CASE WHEN EXCLUDED.assignee_version > r.assignee_version THEN EXCLUDED.assignee_id ELSE r.assignee_id END,
			assignee_version = GREATEST(r.assignee_version, EXCLUDED.assignee_version),
			last_technician_id = CASE WHEN EXCLUDED.last_technician_version > r.last_technician_version THEN EXCLUDED.last_technician_id ELSE r.last_technician_id END,
			last_technician_version = GREATEST(r.last_technician_version, EXCLUDED.last_technician_version),
			customer_messages = r.customer_messages + EXCLUDED.customer_messages,
			technician_messages = r.technician_messages + EXCLUDED.technician_messages,
			files = r.files + EXCLUDED.files,
			transfers = r.transfers + EXCLUDED.transfers,
			escalations = r.escalations + EXCLUDED.escalations,
			notes = r.notes + EXCLUDED.notes,
			events = r.events + EXCLUDED.events,
			last_event_at = GREATEST(r.last_event_at, EXCLUDED.last_event_at),
			breached_assign = r.breached_assign OR EXCLUDED.breached_assign,
			breached_first_reply = r.breached_first_reply OR EXCLUDED.breached_first_reply,
			breached_resolution = r.breached_resolution OR EXCLUDED.breached_resolution`,
		ids, companies, submitted, assigned, replied, ended, closed, assignees, assigneeVersions, lasts, lastVersions,
		customer, technician, files, transfers, escalations, notes, events, lastEvents,
		breachedAssign, breachedReply, breachedResolution)
}

func queueCompanies(batch *pgx.Batch, t Tables, facts *Facts) {
	for _, c := range facts.Companies {
		batch.Queue(`INSERT INTO `+t.Companies()+` AS c (company_id, name, time_zone, time_zone_version)
			VALUES ($1, nullif($2, ''), coalesce(nullif($3, ''), 'UTC'), $4)
			ON CONFLICT (company_id) DO UPDATE SET
				name = coalesce(c.name, EXCLUDED.name),
				time_zone = CASE WHEN EXCLUDED.time_zone_version > c.time_zone_version THEN EXCLUDED.time_zone ELSE c.time_zone END,
				time_zone_version = GREATEST(c.time_zone_version, EXCLUDED.time_zone_version)`,
			c.CompanyID, c.Name, c.TimeZone, c.TimeZoneVersion)
	}
}

func queueTechnicians(batch *pgx.Batch, t Tables, facts *Facts) {
	for id, name := range facts.Technicians {
		batch.Queue(`INSERT INTO `+t.Technicians()+` (technician_id, name) VALUES ($1, $2)
			ON CONFLICT (technician_id) DO UPDATE SET name = EXCLUDED.name`, id, name)
	}
}

func nullable(id uuid.UUID) pgtype.UUID {
	return pgtype.UUID{Bytes: id, Valid: id != uuid.Nil}
}

func timestamptz(t *time.Time) pgtype.Timestamptz {
	if t == nil {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: *t, Valid: true}
}

func compareUUID(a, b uuid.UUID) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}
