// Package requestdetails is the Details panel's read model (R14): each request's state (company,
// portal, customer, description, source, status, assignee, chat, screen sharing, closed,
// version and position of its last event, times) and its chat: messages, private notes
// (flagged for technicians only), files, and what happened (a technician joined, screen
// sharing was requested, the chat ended, …).
//
// The projection ("request_details") folds request events, and the company and technician
// events whose names the panel shows, into its own tables. Details answers the application's
// RequestDetailsReadModel port: it puts the request back together with request.Restore and
// asks the domain which actions the caller may take now, so no rule is repeated here.
package requestdetails

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/requestevents"
)

// Name is the projection's name: its checkpoint row, advisory lock and metrics label.
const Name = "request_details"

// Projection keeps the details tables. It implements projections.Projection.
type Projection struct{ requestevents.ReadModel }

// NewProjection returns the request-details projection.
func NewProjection() *Projection {
	return &Projection{requestevents.NewReadModel(Name, "request details",
		"request_details", "request_details_entries", "request_details_companies", "request_details_technicians")}
}

// Schema implements projections.Projection.
//
// request_details holds each request's state, in the fields of request.State plus what the
// panel shows about its last event. request_details_entries holds one entry per event of the
// request's stream, keyed by the event's version; technicians_only marks what the customer
// does not see (private notes and the assignment moves).
func (*Projection) Schema() string {
	return `
CREATE TABLE request_details (
    id             uuid        PRIMARY KEY,
    company_id     uuid        NOT NULL,
    portal_id      uuid        NOT NULL,
    customer_name  text        NOT NULL,
    customer_email text        NOT NULL,
    description    text        NOT NULL,
    source_ip      text        NOT NULL,
    platform       text        NOT NULL,
    os             text        NOT NULL,
    os_version     text        NOT NULL,
    browser        text        NOT NULL,
    assignee_id    uuid,
    chat           text        NOT NULL,
    screen_sharing text        NOT NULL,
    session_id     uuid,
    session_link   text        NOT NULL,
    closed         boolean     NOT NULL,
    submitted_at   timestamptz NOT NULL,
    last_activity  timestamptz NOT NULL,
    version        bigint      NOT NULL,
    position       text        NOT NULL
);
CREATE TABLE request_details_entries (
    request_id       uuid        NOT NULL,
    version          bigint      NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('message', 'note', 'file', 'event')),
    entry_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    from_side        text        NOT NULL,
    technician_id    uuid,
    body             text        NOT NULL,
    file_name        text,
    file_size        bigint,
    content_type     text,
    sha256           text,
    technicians_only boolean     NOT NULL,
    at               timestamptz NOT NULL,
    PRIMARY KEY (request_id, version)
);
CREATE TABLE request_details_companies (
    id   uuid PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE request_details_technicians (
    id   uuid PRIMARY KEY,
    name text NOT NULL
);
`
}

// state is a request's row as the batch leaves it.
type state struct {
	request.State
	submittedAt  time.Time
	lastActivity time.Time
	version      int64
	position     eventlog.Position

	stored  bool
	changed bool
}

// entry is one row of request_details_entries.
type entry struct {
	requestID       uuid.UUID
	version         int64
	kind            string
	id              uuid.UUID
	eventType       string
	from            request.Side
	technician      uuid.UUID
	body            string
	file            *request.FileShared
	techniciansOnly bool
	at              time.Time
}

// Apply implements projections.Projection. It reads the stored states of the requests the
// batch touches, folds the batch in memory, then writes: new states and every entry with COPY,
// changed states with one UPDATE from arrays, names with one upsert per table.
func (p *Projection) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	b, err := p.Reader.Collect(batch)
	if err != nil {
		return err
	}
	if err := writeNames(ctx, tx, b.Companies, b.Technicians); err != nil {
		return err
	}
	if len(b.Events) == 0 {
		return nil
	}
	states, err := readStates(ctx, tx, b.Touched)
	if err != nil {
		return err
	}
	var entries []entry
	for _, ev := range b.Events {
		s := states[ev.RequestID]
		if sub, ok := ev.Event.(*request.Submitted); ok {
			if s != nil {
				continue // the request is already there
			}
			s = &state{submittedAt: ev.Rec.Metadata.OccurredAt}
			s.State = request.State{
				ID: ev.RequestID, CompanyID: sub.CompanyID, PortalID: sub.PortalID, Customer: sub.Customer,
				Description: sub.Description, Source: sub.Source,
			}
			states[ev.RequestID] = s
		} else if s == nil {
			continue // events of a request whose submission this read model never saw
		} else if s.version >= ev.Rec.Version {
			continue // already applied
		}
		Fold(&s.State, ev.Event)
		s.changed = true
		s.lastActivity, s.version, s.position = ev.Rec.Metadata.OccurredAt, ev.Rec.Version, ev.Rec.Position
		entries = append(entries, entryOf(ev.RequestID, ev.Rec, ev.Event))
	}
	var created, changed []*state
	for _, id := range b.Touched {
		s := states[id]
		switch {
		case s == nil:
		case !s.stored:
			created = append(created, s)
		case s.changed:
			changed = append(changed, s)
		}
	}
	if err := insertStates(ctx, tx, created); err != nil {
		return err
	}
	if err := updateStates(ctx, tx, changed); err != nil {
		return err
	}
	return insertEntries(ctx, tx, entries)
}

// Fold applies one event to a request's state as the aggregate does when it loads its stream.
// The projection's tests check it against request.FromHistory for random histories.
func Fold(s *request.State, e eventlog.Event) {
	switch e := e.(type) {
	case *request.Submitted:
		s.ID, s.CompanyID, s.PortalID = e.RequestID, e.CompanyID, e.PortalID
		s.Customer, s.Description, s.Source = e.Customer, e.Description, e.Source
		s.Chat, s.ScreenSharing = request.ChatNotJoined, request.ScreenSharingNone
	case *request.Assigned:
		s.Assignee = e.TechnicianID
		s.Assignments++
	case *request.Unassigned:
		s.Assignee = uuid.Nil
		s.Chat, s.ScreenSharing, s.Session = request.ChatNotJoined, request.ScreenSharingNone, request.ScreenSession{}
	case *request.Transferred:
		s.Assignee = e.To
		s.Chat, s.ScreenSharing, s.Session = request.ChatNotJoined, request.ScreenSharingNone, request.ScreenSession{}
	case *request.ChatJoined:
		s.Chat = request.ChatJoinedIn
	case *request.ScreenSharingRequested:
		s.ScreenSharing = request.ScreenSharingPending
	case *request.ScreenSharingAccepted:
		s.ScreenSharing = request.ScreenSharingOn
	case *request.ScreenSharingDeclined:
		s.ScreenSharing = request.ScreenSharingRefused
	case *request.ScreenSharingSessionStarted:
		s.ScreenSharing, s.Session = request.ScreenSharingInSession, request.ScreenSession{ID: e.SessionID, Link: e.Link}
	case *request.ScreenSharingSessionEnded:
		s.ScreenSharing, s.Session = request.ScreenSharingNone, request.ScreenSession{}
	case *request.ChatEnded:
		s.Chat, s.ScreenSharing, s.Session = request.ChatEndedOut, request.ScreenSharingNone, request.ScreenSession{}
	case *request.Closed:
		s.Closed = true
	case *request.SLABreached:
		s.Breached = s.Breached.With(e.Target)
	}
}

// entryOf is the chat entry of one event, as the application's stream fold makes it.
func entryOf(requestID uuid.UUID, rec *eventlog.RecordedEvent, e eventlog.Event) entry {
	en := entry{requestID: requestID, version: rec.Version, kind: "event", id: rec.ID, eventType: rec.Type,
		from: request.TechnicianSide, at: rec.Metadata.OccurredAt}
	switch e := e.(type) {
	case *request.Submitted:
		en.from, en.techniciansOnly = request.CustomerSide, true
	case *request.Assigned:
		en.technician, en.techniciansOnly, en.body = e.TechnicianID, true, routing.AssignmentNote(rec.Metadata)
	case *request.Unassigned:
		en.technician, en.techniciansOnly, en.body = e.TechnicianID, true, e.Reason
	case *request.Transferred:
		en.technician, en.techniciansOnly = e.To, true
	case *request.MessageSent:
		en.kind, en.id, en.from, en.technician, en.body = "message", e.MessageID, e.From, e.TechnicianID, e.Body
	case *request.NoteAdded:
		en.kind, en.id, en.technician, en.body, en.techniciansOnly = "note", e.NoteID, e.TechnicianID, e.Body, true
	case *request.FileShared:
		en.kind, en.id, en.from, en.technician, en.file = "file", e.FileID, e.From, e.TechnicianID, e
	case *request.ChatJoined:
		en.technician = e.TechnicianID
	case *request.ScreenSharingRequested:
		en.technician = e.TechnicianID
	case *request.ScreenSharingAccepted, *request.ScreenSharingDeclined:
		en.from = request.CustomerSide
	case *request.ScreenSharingSessionStarted:
		en.from, en.body = request.CustomerSide, e.Link
	case *request.ScreenSharingSessionEnded:
		en.technician, en.body = e.TechnicianID, e.Reason
	case *request.MobileProfileFileSent:
		en.technician, en.body = e.TechnicianID, e.Template
	case *request.MobileProfileSent:
		en.technician, en.body = e.TechnicianID, e.Profile
	case *request.ChatEnded:
		en.technician = e.TechnicianID
	case *request.Closed:
		en.technician = e.TechnicianID
	}
	return en
}

const stateColumns = `id, company_id, portal_id, customer_name, customer_email, description, source_ip, platform, os,
	os_version, browser, assignee_id, chat, screen_sharing, session_id, session_link, closed, submitted_at, last_activity, version, position`

func readStates(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) (map[uuid.UUID]*state, error) {
	out := make(map[uuid.UUID]*state, len(ids))
	rows, err := tx.Query(ctx, `SELECT `+stateColumns+` FROM request_details WHERE id = ANY($1)`, projections.UUIDs(ids))
	if err != nil {
		return nil, fmt.Errorf("request details: read states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanState(rows)
		if err != nil {
			return nil, fmt.Errorf("request details: read states: %w", err)
		}
		s.stored = true
		out[s.ID] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("request details: read states: %w", err)
	}
	return out, nil
}

// Columns are the request_details columns ScanRow reads, in its order: what a query of the
// table selects to read a request's row.
const Columns = stateColumns

// Row is a request's row of request_details, as the projection wrote it.
type Row struct {
	request.State
	SubmittedAt, LastActivity time.Time
	Version                   int64
	Position                  eventlog.Position
}

// ScanRow reads Columns, then the extra columns into extra, from row.
func ScanRow(row pgx.Row, extra ...any) (Row, error) {
	s, err := scanState(row, extra...)
	if err != nil {
		return Row{}, err
	}
	return Row{State: s.State, SubmittedAt: s.submittedAt, LastActivity: s.lastActivity, Version: s.version, Position: s.position}, nil
}

func scanState(row pgx.Row, extra ...any) (*state, error) {
	s := &state{}
	var assignee, session *uuid.UUID
	var platform, chat, screen, position string
	dest := []any{&s.ID, &s.CompanyID, &s.PortalID, &s.Customer.Name, &s.Customer.Email, &s.Description,
		&s.Source.IP, &platform, &s.Source.OS, &s.Source.OSVersion, &s.Source.Browser, &assignee, &chat, &screen,
		&session, &s.Session.Link, &s.Closed, &s.submittedAt, &s.lastActivity, &s.version, &position}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	s.Source.Platform, s.Chat, s.ScreenSharing = request.Platform(platform), request.ChatState(chat), request.ScreenSharing(screen)
	if assignee != nil {
		s.Assignee = *assignee
	}
	if session != nil {
		s.Session.ID = *session
	}
	pos, err := eventlog.ParsePosition(position)
	if err != nil {
		return nil, err
	}
	s.position = pos
	s.submittedAt, s.lastActivity = s.submittedAt.UTC(), s.lastActivity.UTC()
	return s, nil
}

func insertStates(ctx context.Context, tx pgx.Tx, created []*state) error {
	if len(created) == 0 {
		return nil
	}
	values := make([][]any, len(created))
	for i, s := range created {
		text := projections.Text
		values[i] = []any{
			projections.UUID(s.ID), projections.UUID(s.CompanyID), projections.UUID(s.PortalID), text(s.Customer.Name), text(s.Customer.Email),
			text(s.Description), text(s.Source.IP), text(string(s.Source.Platform)), text(s.Source.OS), text(s.Source.OSVersion),
			text(s.Source.Browser), projections.NullUUID(s.Assignee), text(string(s.Chat)), text(string(s.ScreenSharing)),
			projections.NullUUID(s.Session.ID), text(s.Session.Link), s.Closed,
			s.submittedAt, s.lastActivity, s.version, s.position.String(),
		}
	}
	columns := strings.Split(strings.NewReplacer("\n", "", "\t", "", " ", "").Replace(stateColumns), ",")
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"request_details"}, columns, pgx.CopyFromRows(values)); err != nil {
		return fmt.Errorf("request details: copy states: %w", err)
	}
	return nil
}

func updateStates(ctx context.Context, tx pgx.Tx, changed []*state) error {
	if len(changed) == 0 {
		return nil
	}
	n := len(changed)
	ids := make([]pgtype.UUID, n)
	assignees := make([]pgtype.UUID, n)
	chats, screens, positions, links := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	sessions := make([]pgtype.UUID, n)
	closed := make([]bool, n)
	lastActivity := make([]time.Time, n)
	versions := make([]int64, n)
	for i, s := range changed {
		ids[i], assignees[i] = projections.UUID(s.ID), projections.NullUUID(s.Assignee)
		chats[i], screens[i] = projections.Text(string(s.Chat)), projections.Text(string(s.ScreenSharing))
		closed[i], lastActivity[i], versions[i], positions[i] = s.Closed, s.lastActivity, s.version, s.position.String()
		sessions[i], links[i] = projections.NullUUID(s.Session.ID), projections.Text(s.Session.Link)
	}
	_, err := tx.Exec(ctx, `UPDATE request_details AS d SET
			assignee_id = u.assignee_id, chat = u.chat, screen_sharing = u.screen_sharing, closed = u.closed,
			last_activity = u.last_activity, version = u.version, position = u.position,
			session_id = u.session_id, session_link = u.session_link
		FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::boolean[], $6::timestamptz[], $7::bigint[], $8::text[],
				$9::uuid[], $10::text[])
			AS u(id, assignee_id, chat, screen_sharing, closed, last_activity, version, position, session_id, session_link)
		WHERE d.id = u.id`, ids, assignees, chats, screens, closed, lastActivity, versions, positions, sessions, links)
	if err != nil {
		return fmt.Errorf("request details: update states: %w", err)
	}
	return nil
}

var entryColumns = []string{"request_id", "version", "kind", "entry_id", "event_type", "from_side", "technician_id", "body",
	"file_name", "file_size", "content_type", "sha256", "technicians_only", "at"}

func insertEntries(ctx context.Context, tx pgx.Tx, entries []entry) error {
	if len(entries) == 0 {
		return nil
	}
	values := make([][]any, len(entries))
	for i, e := range entries {
		var name, contentType, sha *string
		var size *int64
		if f := e.file; f != nil {
			name, size, contentType, sha = projections.TextPtr(&f.Name), &f.Size, projections.TextPtr(&f.ContentType), projections.TextPtr(&f.SHA256)
		}
		values[i] = []any{projections.UUID(e.requestID), e.version, projections.Text(e.kind), projections.UUID(e.id), projections.Text(e.eventType),
			projections.Text(string(e.from)), projections.NullUUID(e.technician), projections.Text(e.body),
			name, size, contentType, sha, e.techniciansOnly, e.at}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"request_details_entries"}, entryColumns, pgx.CopyFromRows(values)); err != nil {
		return fmt.Errorf("request details: copy entries: %w", err)
	}
	return nil
}

func writeNames(ctx context.Context, tx pgx.Tx, companies, techs map[uuid.UUID]string) error {
	for table, names := range map[string]map[uuid.UUID]string{"request_details_companies": companies, "request_details_technicians": techs} {
		if len(names) == 0 {
			continue
		}
		ids, list := make([]uuid.UUID, 0, len(names)), make([]string, 0, len(names))
		for id, name := range names {
			ids, list = append(ids, id), append(list, projections.Text(name))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (id, name) SELECT * FROM unnest($1::uuid[], $2::text[])
			ON CONFLICT (id) DO UPDATE SET name = excluded.name`, ids, list); err != nil {
			return fmt.Errorf("request details: write %s: %w", table, err)
		}
	}
	return nil
}

var _ projections.BulkLoader = (*Projection)(nil)

// NewBulkLoad implements projections.BulkLoader: a rebuild writes the chat entries page by
// page, as they never change, and each request's state once, when the request is closed or at
// the end of the log.
func (p *Projection) NewBulkLoad() projections.BulkLoad {
	l := &load{rows: requestevents.NewRows[state]()}
	return requestevents.NewLoad(p.Reader, l.rows, requestevents.LoadSteps[state]{
		Request: l.foldRequest, Write: l.write, Apply: p.Apply,
	})
}

// load is what a rebuild's fold of the request details holds besides the names: the states
// and the entries not written yet.
type load struct {
	rows    *requestevents.Rows[state]
	entries []entry
}

func (l *load) foldRequest(id uuid.UUID, rec *eventlog.RecordedEvent, e eventlog.Event) {
	s := l.rows.Open(id)
	if sub, ok := e.(*request.Submitted); ok {
		if s != nil {
			return // the request is already there
		}
		s = &state{submittedAt: rec.Metadata.OccurredAt}
		s.State = request.State{
			ID: id, CompanyID: sub.CompanyID, PortalID: sub.PortalID, Customer: sub.Customer,
			Description: sub.Description, Source: sub.Source,
		}
		l.rows.Add(id, s)
	} else if s == nil || s.version >= rec.Version {
		return // a request whose submission this read model never saw, or an event applied already
	}
	Fold(&s.State, e)
	s.lastActivity, s.version, s.position = rec.Metadata.OccurredAt, rec.Version, rec.Position
	l.entries = append(l.entries, entryOf(id, rec, e))
	if s.Closed {
		l.rows.Close(id)
	}
}

// write returns the write of states, names and the entries not written yet. It takes the
// entries now: the write runs while later pages are folded.
func (l *load) write(states []*state, companies, techs map[uuid.UUID]string) projections.BulkWrite {
	entries := l.entries
	l.entries = nil
	return func(ctx context.Context, tx pgx.Tx) error {
		if err := writeNames(ctx, tx, companies, techs); err != nil {
			return err
		}
		if err := insertStates(ctx, tx, states); err != nil {
			return err
		}
		return insertEntries(ctx, tx, entries)
	}
}

// CopyOnlyTables implements projections.BulkLoader: the states and the entries. The names are
// upserted.
func (*Projection) CopyOnlyTables() []string {
	return []string{"request_details", "request_details_entries"}
}
