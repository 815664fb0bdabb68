package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/routing"
)

// Viewer is who reads a request: its customer (holding the request's token), a technician or
// an auditor.
type Viewer struct {
	// TechnicianID is set for a technician; zero for the customer and an auditor.
	TechnicianID uuid.UUID
	// CustomerOf is the request the customer's token opens; zero for the others.
	CustomerOf uuid.UUID
	// AuditorID is set for an auditor: they read every request of the companies they may read,
	// private notes and assignment moves included, act on nothing (no actions), and every read
	// of theirs is recorded in the access log first.
	AuditorID uuid.UUID
	// ClientIP is where an auditor's read comes from, for the access log; empty when unknown
	// (a tool on the server).
	ClientIP string
}

// IsTechnician reports whether the viewer is a technician.
func (v Viewer) IsTechnician() bool { return v.TechnicianID != uuid.Nil }

// IsAuditor reports whether the viewer is an auditor.
func (v Viewer) IsAuditor() bool { return v.AuditorID != uuid.Nil && v.TechnicianID == uuid.Nil }

// SeesNotes reports whether the viewer sees what only staff see: private notes and the moves of
// the assignment. Technicians and auditors do; a customer does not.
func (v Viewer) SeesNotes() bool { return v.IsTechnician() || v.IsAuditor() }

func (qs *Queries) checkViewer(ctx context.Context, v Viewer, r *request.Request) error {
	switch {
	case v.IsTechnician():
		tech, _, err := qs.technicians.load(ctx, qs.store, v.TechnicianID)
		if err != nil {
			return err
		}
		if !r.VisibleTo(tech) {
			return fmt.Errorf("request %s: %w", r.ID(), ErrNotFound)
		}
	case v.IsAuditor():
		au, err := qs.viewerAuditor(ctx, v.AuditorID)
		if err != nil {
			return err
		}
		if !au.CanRead(r.CompanyID()) {
			return fmt.Errorf("request %s: %w", r.ID(), ErrNotFound) // R2: it does not exist for them
		}
	case v.CustomerOf != r.ID():
		return fmt.Errorf("request %s: %w", r.ID(), ErrNotFound)
	}
	return nil
}

// Person names a technician in a view.
type Person struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// Entry is one line of a request's chat: a message, a private note, a file or something that
// happened (a technician joined, screen sharing was requested, the chat ended).
type Entry struct {
	// Kind is "message", "note", "file" or "event".
	Kind string `json:"kind"`
	// ID is the message's, note's or file's ID; the event's ID for the rest.
	ID         uuid.UUID    `json:"id"`
	From       request.Side `json:"from"`
	Technician *Person      `json:"technician,omitempty"`
	Body       string       `json:"body,omitempty"`
	// Event is the event type for Kind "event", e.g. "request.chat_joined.v1".
	Event string     `json:"event,omitempty"`
	File  *FileEntry `json:"file,omitempty"`
	At    time.Time  `json:"at"`
}

// FileEntry describes a shared file in the chat.
type FileEntry struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	SHA256      string    `json:"sha256"`
}

// RequestDetails is everything the Details panel shows (R14).
type RequestDetails struct {
	// FromLog reports that the details were folded from the request's stream because the
	// read model did not have the request yet: the read models are behind the log.
	FromLog bool `json:"-"`

	ID            uuid.UUID             `json:"id"`
	CompanyID     uuid.UUID             `json:"company_id"`
	CompanyName   string                `json:"company_name"`
	PortalID      uuid.UUID             `json:"portal_id"`
	Customer      request.Customer      `json:"customer"`
	Description   string                `json:"description"`
	Source        request.Source        `json:"source"`
	Status        request.Status        `json:"status"`
	Assignee      *Person               `json:"assignee"`
	Chat          request.ChatState     `json:"chat"`
	ScreenSharing request.ScreenSharing `json:"screen_sharing"`
	// Session is the running screen-sharing session whose link both sides open; nil when
	// none runs.
	Session      *ScreenSession    `json:"screen_sharing_session"`
	SubmittedAt  time.Time         `json:"submitted_at"`
	LastActivity time.Time         `json:"last_activity"`
	Version      int64             `json:"version"`
	Position     eventlog.Position `json:"position"`
	Entries      []Entry           `json:"entries"`
	Actions      []request.Action  `json:"actions"`
}

// ScreenSession is a running screen-sharing session as the details show it.
type ScreenSession struct {
	ID   uuid.UUID `json:"id"`
	Link string    `json:"link"`
}

// SessionOf returns the running session of a request's state, nil when none runs.
func SessionOf(s request.State) *ScreenSession {
	if s.ScreenSharing != request.ScreenSharingInSession {
		return nil
	}
	return &ScreenSession{ID: s.Session.ID, Link: s.Session.Link}
}

// RequestDetails returns a request's details as the viewer may see them: private notes only
// for technicians and auditors, actions for this viewer only (none for an auditor). The
// details read model answers; the request's own stream answers only for a request the read
// model has not seen yet. An auditor's read is recorded in the access log before it is
// answered.
func (qs *Queries) RequestDetails(ctx context.Context, v Viewer, requestID uuid.UUID) (RequestDetails, error) {
	if qs.requestDetails == nil {
		return RequestDetails{}, fmt.Errorf("details of request %s: %w", requestID, ErrNoReadModel)
	}
	if qs.readOwnWrites {
		qs.awaitOwnWrites(ctx) // before the caller's own access and availability are read
	}
	q := RequestDetailsQuery{RequestID: requestID, Viewer: v}
	switch {
	case v.IsTechnician():
		tech, err := qs.viewerTechnician(ctx, v.TechnicianID)
		if err != nil {
			return RequestDetails{}, err
		}
		q.Technician = tech
	case v.IsAuditor():
		au, err := qs.viewerAuditor(ctx, v.AuditorID)
		if err != nil {
			return RequestDetails{}, err
		}
		q.Auditor = au
	case v.CustomerOf != requestID:
		return RequestDetails{}, fmt.Errorf("request %s: %w", requestID, ErrNotFound)
	}
	d, err := fromReadModel(ctx, qs, func() (RequestDetails, error) { return qs.requestDetails.RequestDetails(ctx, q) }, ErrNotFound)
	if errors.Is(err, ErrNotFound) {
		// The read model may be behind the log (a transaction elsewhere holds the log back, a
		// projector restarts): a request whose submission was acknowledged must not answer
		// 404. Its stream says whether it exists, in one read, with the same R2 checks.
		d, err = qs.foldRequestDetails(ctx, v, requestID)
		if err == nil {
			d.FromLog = true
		}
	}
	if err != nil {
		return RequestDetails{}, err
	}
	if d.ID != requestID || (q.Technician != nil && !q.Technician.HasAccess(d.CompanyID)) || (q.Auditor != nil && !q.Auditor.CanRead(d.CompanyID)) {
		return RequestDetails{}, fmt.Errorf("request %s: %w", requestID, ErrNotFound) // R2, whatever the read model says
	}
	if v.IsAuditor() {
		d.Actions = []request.Action{} // whatever the read model says: auditors act on nothing
		if err := qs.recordAccess(ctx, v, AccessEntry{Kind: AccessDetails, RequestID: d.ID, CompanyID: d.CompanyID}); err != nil {
			return RequestDetails{}, err
		}
	}
	return d, nil
}

// foldRequestDetails folds a request's stream into its details.
func (qs *Queries) foldRequestDetails(ctx context.Context, v Viewer, requestID uuid.UUID) (RequestDetails, error) {
	r, l, err := qs.requests.load(ctx, qs.store, requestID)
	if err != nil {
		return RequestDetails{}, err
	}
	if err := qs.checkViewer(ctx, v, r); err != nil {
		return RequestDetails{}, err
	}
	names := map[uuid.UUID]*Person{}
	person := func(id uuid.UUID) *Person {
		if id == uuid.Nil {
			return nil
		}
		if p, ok := names[id]; ok {
			return p
		}
		p := &Person{ID: id}
		if t, _, err := qs.technicians.load(ctx, qs.store, id); err == nil {
			p.Name = t.Name()
		}
		names[id] = p
		return p
	}
	d := RequestDetails{
		ID:            r.ID(),
		CompanyID:     r.CompanyID(),
		PortalID:      r.PortalID(),
		Customer:      r.Customer(),
		Description:   r.Description(),
		Source:        r.Source(),
		Status:        r.Status(),
		Assignee:      person(r.Assignee()),
		Chat:          r.Chat(),
		ScreenSharing: r.ScreenSharing(),
		Session:       SessionOf(r.State()),
		Version:       l.version,
		Entries:       []Entry{},
	}
	if c, _, err := qs.companies.load(ctx, qs.store, r.CompanyID()); err == nil {
		d.CompanyName = c.Name()
	}
	for i, e := range l.history {
		rec := l.recorded[i]
		at := rec.Metadata.OccurredAt
		if i == 0 {
			d.SubmittedAt = at
		}
		d.LastActivity, d.Position = at, rec.Position
		entry := Entry{Kind: "event", ID: rec.ID, Event: rec.Type, At: at, From: request.TechnicianSide}
		switch e := e.(type) {
		case *request.Submitted, *request.Assigned, *request.Unassigned, *request.Transferred:
			if !v.SeesNotes() {
				continue // assignment moves are the technicians' business
			}
			switch e := e.(type) {
			case *request.Submitted:
				entry.From = request.CustomerSide
			case *request.Assigned:
				entry.Technician, entry.Body = person(e.TechnicianID), routing.AssignmentNote(rec.Metadata)
			case *request.Unassigned:
				entry.Technician, entry.Body = person(e.TechnicianID), e.Reason
			case *request.Transferred:
				entry.Technician = person(e.To)
			}
		case *request.MessageSent:
			entry = Entry{Kind: "message", ID: e.MessageID, From: e.From, Technician: person(e.TechnicianID), Body: e.Body, At: at}
		case *request.NoteAdded:
			if !v.SeesNotes() {
				continue
			}
			entry = Entry{Kind: "note", ID: e.NoteID, From: request.TechnicianSide, Technician: person(e.TechnicianID), Body: e.Body, At: at}
		case *request.FileShared:
			entry = Entry{Kind: "file", ID: e.FileID, From: e.From, Technician: person(e.TechnicianID), At: at,
				File: &FileEntry{ID: e.FileID, Name: e.Name, Size: e.Size, ContentType: e.ContentType, SHA256: e.SHA256}}
		case *request.ChatJoined:
			entry.Technician = person(e.TechnicianID)
		case *request.ScreenSharingRequested:
			entry.Technician = person(e.TechnicianID)
		case *request.ScreenSharingAccepted, *request.ScreenSharingDeclined:
			entry.From = request.CustomerSide
		case *request.ScreenSharingSessionStarted:
			entry.From, entry.Body = request.CustomerSide, e.Link
		case *request.ScreenSharingSessionEnded:
			entry.Technician, entry.Body = person(e.TechnicianID), e.Reason
		case *request.MobileProfileFileSent:
			entry.Technician, entry.Body = person(e.TechnicianID), e.Template
		case *request.MobileProfileSent:
			entry.Technician, entry.Body = person(e.TechnicianID), e.Profile
		case *request.ChatEnded:
			entry.Technician = person(e.TechnicianID)
		case *request.Closed:
			entry.Technician = person(e.TechnicianID)
		}
		d.Entries = append(d.Entries, entry)
	}
	switch {
	case v.IsTechnician():
		tech, _, err := qs.technicians.load(ctx, qs.store, v.TechnicianID)
		if err != nil {
			return RequestDetails{}, err
		}
		d.Actions = r.TechnicianActions(tech)
	case v.IsAuditor():
		d.Actions = []request.Action{}
	default:
		d.Actions = r.CustomerActions()
	}
	return d, nil
}

// ReadHistory returns a request's raw event stream, its hash chain checked, to a technician
// who may see the request or an auditor who may read it (R2: anyone else, a customer too, is
// ErrNotFound). An auditor's read is recorded in the access log before it is answered. A
// broken chain returns the events with the error, as History does.
func (qs *Queries) ReadHistory(ctx context.Context, v Viewer, requestID uuid.UUID) ([]eventlog.RecordedEvent, error) {
	if !v.SeesNotes() {
		return nil, fmt.Errorf("request %s: %w", requestID, ErrNotFound)
	}
	r, l, err := qs.requests.load(ctx, qs.store, requestID)
	recorded, foldErr := l.recorded, error(nil)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, err
		}
		// A stream that does not fold (an event that does not decode, or that no command could
		// have written) is exactly what an auditor must be able to read: its submission says
		// whose it is, and the caller gets the events with the fold's error.
		var submitted *request.Request
		if recorded, submitted, foldErr = qs.submissionOf(ctx, requestID); foldErr != nil {
			return nil, err
		}
		r, foldErr = submitted, err
	}
	if err := qs.checkViewer(ctx, v, r); err != nil {
		return nil, err
	}
	if v.IsAuditor() {
		if err := qs.recordAccess(ctx, v, AccessEntry{Kind: AccessHistory, RequestID: requestID, CompanyID: r.CompanyID()}); err != nil {
			return nil, err
		}
	}
	if err := eventlog.VerifyChain(recorded); err != nil {
		return recorded, err
	}
	return recorded, foldErr
}

// submissionOf reads a request's stream as stored and folds its first event alone, which must
// be its submission: whose request it is, when the whole stream does not fold.
func (qs *Queries) submissionOf(ctx context.Context, requestID uuid.UUID) ([]eventlog.RecordedEvent, *request.Request, error) {
	recorded, err := qs.store.ReadStream(ctx, request.Stream(requestID), 0, eventlog.ReadOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("read request %s: %w", requestID, err)
	}
	if len(recorded) == 0 {
		return nil, nil, fmt.Errorf("request %s: %w", requestID, ErrNotFound)
	}
	first, err := request.Codec().Decode(recorded[0].Type, recorded[0].Data)
	if err != nil {
		return nil, nil, fmt.Errorf("request %s's submission: %w", requestID, err)
	}
	r, err := request.FromHistory([]eventlog.Event{first})
	if err != nil {
		return nil, nil, fmt.Errorf("request %s's submission: %w", requestID, err)
	}
	return recorded, r, nil
}

// History returns a request's raw, verified event stream, to no one in particular: a tool on
// the server. Front ends call ReadHistory, which checks who reads.
func (qs *Queries) History(ctx context.Context, requestID uuid.UUID) ([]eventlog.RecordedEvent, error) {
	_, l, err := qs.requests.load(ctx, qs.store, requestID)
	if err != nil {
		return nil, err
	}
	if err := eventlog.VerifyChain(l.recorded); err != nil {
		return l.recorded, err
	}
	return l.recorded, nil
}

// TechnicianProfile is what a technician sees of themselves.
type TechnicianProfile struct {
	ID uuid.UUID `json:"id"`
	// Role is always RoleTechnician: it tells a technician's profile from an auditor's.
	Role          Role                           `json:"role"`
	Name          string                         `json:"name"`
	Email         string                         `json:"email"`
	Availability  directory.Availability         `json:"availability"`
	Companies     []uuid.UUID                    `json:"companies"`
	Notifications directory.NotificationSettings `json:"notifications"`
	// WebhookURL is the webhook's URL redacted (scheme and host, see RedactWebhookURL) when
	// the webhook is on; never the whole URL, which carries its receiver's token.
	WebhookURL string `json:"webhook_url,omitempty"`
}

// Profile returns a technician's profile.
func (qs *Queries) Profile(ctx context.Context, id uuid.UUID) (TechnicianProfile, error) {
	t, _, err := qs.technicians.load(ctx, qs.store, id)
	if err != nil {
		return TechnicianProfile{}, err
	}
	companies := t.Companies()
	if companies == nil {
		companies = []uuid.UUID{}
	}
	p := TechnicianProfile{ID: t.ID(), Role: RoleTechnician, Name: t.Name(), Email: t.Email(), Availability: t.Availability(), Companies: companies, Notifications: t.Notifications()}
	if p.Notifications.Webhook && qs.webhooks != nil {
		e, ok, err := qs.webhooks.Webhook(ctx, id)
		if err != nil {
			return TechnicianProfile{}, fmt.Errorf("read the webhook endpoint: %w", err)
		}
		if ok {
			p.WebhookURL = RedactWebhookURL(e.URL)
		}
	}
	return p, nil
}
