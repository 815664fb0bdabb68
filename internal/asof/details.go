package asof

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/app"
)

// RequestDetails implements app.RequestDetailsReadModel as adapters/postgres/readmodels
// answers it, at the snapshot's position: the request's stream is read through Store and
// folded as projections/requestdetails folds it (the state by the domain, one entry per
// event), then the viewer is checked and their actions asked of the domain (R2, R14). An
// auditor reads the request when they may read its company, staff-only entries included, and
// may take no action; one who may not gets app.ErrNotFound, as a technician without access.
func (s *Snapshot) RequestDetails(ctx context.Context, q app.RequestDetailsQuery) (app.RequestDetails, error) {
	notFound := fmt.Errorf("request %s: %w", q.RequestID, app.ErrNotFound)
	if s.rows[q.RequestID] == nil {
		return app.RequestDetails{}, notFound // no submission up to the position
	}
	stream, err := s.store.ReadStream(ctx, request.Stream(q.RequestID), 0, eventlog.ReadOptions{})
	if err != nil {
		return app.RequestDetails{}, fmt.Errorf("request details as of %s: %w", s.position, err)
	}
	d, r := s.foldDetails(q.RequestID, stream, q.Viewer.SeesNotes())
	if r == nil {
		return app.RequestDetails{}, notFound
	}
	switch {
	case q.Viewer.IsTechnician():
		if q.Technician == nil || q.Technician.ID() != q.Viewer.TechnicianID || !r.VisibleTo(q.Technician) {
			return app.RequestDetails{}, notFound
		}
		d.Actions = r.TechnicianActions(q.Technician)
	case q.Viewer.IsAuditor():
		if q.Auditor == nil || q.Auditor.ID() != q.Viewer.AuditorID || !q.Auditor.CanRead(r.CompanyID()) {
			return app.RequestDetails{}, notFound
		}
		d.Actions = []request.Action{} // auditors act on nothing
	case q.Viewer.CustomerOf == q.RequestID:
		d.Actions = r.CustomerActions()
	default:
		return app.RequestDetails{}, notFound
	}
	return d, nil
}

// foldDetails folds a request's stream into its details, without the actions, and returns
// the request; nil when the stream holds no submission. seesNotes keeps the staff-only
// entries (app.Viewer.SeesNotes).
func (s *Snapshot) foldDetails(id uuid.UUID, stream []eventlog.RecordedEvent, seesNotes bool) (app.RequestDetails, *request.Request) {
	codec := request.Codec()
	var r *request.Request
	d := app.RequestDetails{ID: id, Entries: []app.Entry{}}
	for i := range stream {
		rec := &stream[i]
		e, err := codec.Decode(rec.Type, rec.Data)
		if err != nil {
			continue // parked by the projector
		}
		if _, ok := e.(*request.Submitted); ok {
			if r != nil {
				continue // submitted already
			}
			if r, err = request.FromHistory([]eventlog.Event{e}); err != nil {
				return d, nil
			}
			d.SubmittedAt = at(rec)
		} else if r == nil || d.Version >= rec.Version {
			continue // before the submission, or applied already
		} else {
			r.Fold([]eventlog.Event{e})
		}
		d.LastActivity, d.Version, d.Position = at(rec), rec.Version, rec.Position
		if entry, staffOnly := s.entryOf(rec, e); seesNotes || !staffOnly {
			d.Entries = append(d.Entries, entry)
		}
	}
	if r == nil {
		return d, nil
	}
	st := r.State()
	d.CompanyID, d.CompanyName, d.PortalID = st.CompanyID, s.companies[st.CompanyID], st.PortalID
	d.Customer, d.Description, d.Source = st.Customer, st.Description, st.Source
	d.Status, d.Chat, d.ScreenSharing, d.Session = r.Status(), st.Chat, st.ScreenSharing, app.SessionOf(st)
	d.Assignee = s.person(st.Assignee)
	return d, r
}

// person names a technician as the details do, by the name they registered with; nil for none.
func (s *Snapshot) person(id uuid.UUID) *app.Person {
	if id == uuid.Nil {
		return nil
	}
	return &app.Person{ID: id, Name: s.techNames[id]}
}

// entryOf is the chat entry of one event, as projections/requestdetails writes it, and whether
// only staff (technicians and auditors) see it: private notes and the assignment moves.
func (s *Snapshot) entryOf(rec *eventlog.RecordedEvent, e eventlog.Event) (app.Entry, bool) {
	en := app.Entry{Kind: "event", ID: rec.ID, Event: rec.Type, From: request.TechnicianSide, At: at(rec)}
	techniciansOnly := false
	technician := uuid.Nil
	switch e := e.(type) {
	case *request.Submitted:
		en.From, techniciansOnly = request.CustomerSide, true
	case *request.Assigned:
		technician, techniciansOnly, en.Body = e.TechnicianID, true, routing.AssignmentNote(rec.Metadata)
	case *request.Unassigned:
		technician, techniciansOnly, en.Body = e.TechnicianID, true, e.Reason
	case *request.Transferred:
		technician, techniciansOnly = e.To, true
	case *request.MessageSent:
		en = app.Entry{Kind: "message", ID: e.MessageID, From: e.From, Body: e.Body, At: en.At}
		technician = e.TechnicianID
	case *request.NoteAdded:
		en = app.Entry{Kind: "note", ID: e.NoteID, From: request.TechnicianSide, Body: e.Body, At: en.At}
		technician, techniciansOnly = e.TechnicianID, true
	case *request.FileShared:
		en = app.Entry{Kind: "file", ID: e.FileID, From: e.From, At: en.At,
			File: &app.FileEntry{ID: e.FileID, Name: e.Name, Size: e.Size, ContentType: e.ContentType, SHA256: e.SHA256}}
		technician = e.TechnicianID
	case *request.ChatJoined:
		technician = e.TechnicianID
	case *request.ScreenSharingRequested:
		technician = e.TechnicianID
	case *request.ScreenSharingAccepted, *request.ScreenSharingDeclined:
		en.From = request.CustomerSide
	case *request.ScreenSharingSessionStarted:
		en.From, en.Body = request.CustomerSide, e.Link
	case *request.ScreenSharingSessionEnded:
		technician, en.Body = e.TechnicianID, e.Reason
	case *request.MobileProfileFileSent:
		technician, en.Body = e.TechnicianID, e.Template
	case *request.MobileProfileSent:
		technician, en.Body = e.TechnicianID, e.Profile
	case *request.ChatEnded:
		technician = e.TechnicianID
	case *request.Closed:
		technician = e.TechnicianID
	}
	en.Technician = s.person(technician)
	return en, techniciansOnly
}

// PortalCompany implements app.DirectoryReadModel: the company a portal belonged to at the
// snapshot's time, or app.ErrUnknownPortal.
func (s *Snapshot) PortalCompany(_ context.Context, portalID uuid.UUID) (uuid.UUID, string, error) {
	company, ok := s.portals[portalID]
	if !ok {
		return uuid.Nil, "", fmt.Errorf("portal %s: %w", portalID, app.ErrUnknownPortal)
	}
	return company, s.companies[company], nil
}

// Technician implements app.DirectoryReadModel: the technician as they were at the snapshot's
// time (their access and availability), or app.ErrNotFound.
func (s *Snapshot) Technician(_ context.Context, id uuid.UUID) (*directory.Technician, error) {
	t, ok := s.technicians[id]
	if !ok {
		return nil, fmt.Errorf("technician %s: %w", id, app.ErrNotFound)
	}
	st := t.State()
	if len(st.Companies) == 0 {
		st.Companies = nil // as the read model reads no access
	}
	return directory.RestoreTechnician(st), nil
}

// Companies implements app.DirectoryReadModel.
func (s *Snapshot) Companies(context.Context) (map[uuid.UUID]string, error) {
	return maps.Clone(s.companies), nil
}

// Auditors implements app.DirectoryReadModel: every auditor as they were at the snapshot's
// time, by name (byte order, as the "C" collation) then ID, as the read model orders them,
// Companies nil when none is granted one by one, and an empty list, not nil, when there is
// no auditor.
func (s *Snapshot) Auditors(context.Context) ([]directory.AuditorState, error) {
	out := make([]directory.AuditorState, 0, len(s.auditors))
	for _, a := range s.auditors {
		st := a.State()
		if len(st.Companies) == 0 {
			st.Companies = nil
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b directory.AuditorState) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), bytes.Compare(a.ID[:], b.ID[:]))
	})
	return out, nil
}

// Technicians implements app.DirectoryReadModel.
func (s *Snapshot) Technicians(context.Context) (map[uuid.UUID]string, error) {
	return maps.Clone(s.techNames), nil
}
