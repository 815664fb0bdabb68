package analytics

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ExportColumns are the CSV export's columns, in order (documented in the README, "Analytics").
var ExportColumns = []string{
	"request_id", "company_id", "company", "day",
	"submitted_at", "first_assigned_at", "first_reply_at", "chat_ended_at", "closed_at",
	"time_to_assign_s", "time_to_first_reply_s", "handle_time_s",
	"outcome", "assignee_id", "last_technician_id", "last_technician",
	"customer_messages", "technician_messages", "files", "transfers", "escalations", "notes",
}

// ExportFilter narrows an export. Days are dates in each request's company's time zone.
type ExportFilter struct {
	// From and To bound the day of submission, both included; zero: no bound.
	From, To time.Time
	// Company keeps one company's requests; uuid.Nil: every company's.
	Company uuid.UUID
}

// Querier is what Export reads through: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Export writes the live tables' requests as CSV, one row a request submitted in the filter's
// days, in order of submission, with a header row; it returns how many requests it wrote.
// Times are RFC 3339 in UTC; durations are seconds with microseconds:
//   - time_to_assign_s: submission to the FIRST assignment (an unassignment and a new
//     assignment later do not change it);
//   - time_to_first_reply_s: submission to the first message a technician sent;
//   - handle_time_s: the first assignment to the last end of the chat, or to the closing when
//     the chat never ended (never joined); empty while neither happened.
//
// outcome is waiting (never assigned, or unassigned, and not closed), open (assigned, not
// closed), answered (closed after a technician's message) or unanswered (closed without one).
func Export(ctx context.Context, db Querier, w io.Writer, f ExportFilter) (int, error) {
	var from, to, company any
	if !f.From.IsZero() {
		from = f.From.Format(time.DateOnly)
	}
	if !f.To.IsZero() {
		to = f.To.Format(time.DateOnly)
	}
	if f.Company != uuid.Nil {
		company = f.Company
	}
	rows, err := db.Query(ctx, `WITH r AS (
		SELECT r.*, c.name AS company, t.name AS technician,
			(r.submitted_at AT TIME ZONE coalesce(c.time_zone, 'UTC'))::date AS day
		FROM analytics_requests r
		LEFT JOIN analytics_companies c ON c.company_id = r.company_id
		LEFT JOIN analytics_technicians t ON t.technician_id = r.last_technician_id
		WHERE r.submitted_at IS NOT NULL AND ($3::uuid IS NULL OR r.company_id = $3)
			-- a day in any zone lies within a day of the UTC date: the bounds can use the index
			AND ($1::date IS NULL OR r.submitted_at >= ($1::date - 1)::timestamp AT TIME ZONE 'UTC')
			AND ($2::date IS NULL OR r.submitted_at < ($2::date + 2)::timestamp AT TIME ZONE 'UTC'))
	SELECT request_id, company_id, coalesce(company, ''), day, submitted_at, first_assigned_at, first_reply_at,
		chat_ended_at, closed_at,
		EXTRACT(EPOCH FROM first_assigned_at - submitted_at),
		EXTRACT(EPOCH FROM first_reply_at - submitted_at),
		EXTRACT(EPOCH FROM coalesce(chat_ended_at, closed_at) - first_assigned_at),
		CASE WHEN closed_at IS NOT NULL AND first_reply_at IS NOT NULL THEN 'answered'
			WHEN closed_at IS NOT NULL THEN 'unanswered'
			WHEN assignee_id IS NOT NULL THEN 'open' ELSE 'waiting' END,
		assignee_id, last_technician_id, coalesce(technician, ''),
		customer_messages, technician_messages, files, transfers, escalations, notes
	FROM r WHERE ($1::date IS NULL OR day >= $1::date) AND ($2::date IS NULL OR day <= $2::date)
	ORDER BY submitted_at, request_id`, from, to, company)
	if err != nil {
		return 0, fmt.Errorf("analytics export: %w", err)
	}
	defer rows.Close()
	out := csv.NewWriter(w)
	if err := out.Write(ExportColumns); err != nil {
		return 0, fmt.Errorf("analytics export: %w", err)
	}
	n := 0
	for rows.Next() {
		var (
			id, companyID                             uuid.UUID
			companyName, outcome, technician          string
			day, submitted                            time.Time
			assigned, replied, ended, closed          *time.Time
			toAssign, toReply, handle                 *float64
			assignee, last                            *uuid.UUID
			cust, tech, files, transfers, escal, note int
		)
		if err := rows.Scan(&id, &companyID, &companyName, &day, &submitted, &assigned, &replied, &ended, &closed,
			&toAssign, &toReply, &handle, &outcome, &assignee, &last, &technician,
			&cust, &tech, &files, &transfers, &escal, &note); err != nil {
			return n, fmt.Errorf("analytics export: %w", err)
		}
		record := []string{id.String(), companyID.String(), companyName, day.Format(time.DateOnly),
			stamp(&submitted), stamp(assigned), stamp(replied), stamp(ended), stamp(closed),
			secs(toAssign), secs(toReply), secs(handle), outcome, uid(assignee), uid(last), technician,
			strconv.Itoa(cust), strconv.Itoa(tech), strconv.Itoa(files), strconv.Itoa(transfers), strconv.Itoa(escal), strconv.Itoa(note)}
		if err := out.Write(record); err != nil {
			return n, fmt.Errorf("analytics export: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("analytics export: %w", err)
	}
	out.Flush()
	return n, out.Error()
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func secs(s *float64) string {
	if s == nil {
		return ""
	}
	return strconv.FormatFloat(*s, 'f', 6, 64)
}

func uid(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}
