// Package asof answers the application's queries as they were at a moment T: the request list,
// any technician's queue, a request's details and the directory, folded in memory from the
// event log. It keeps no copy of the read models: a Snapshot is the log read up to T and
// folded the way the PostgreSQL read models fold it, and it answers the same ports
// (app.RequestListReadModel, app.RequestDetailsReadModel, app.DirectoryReadModel) with the
// same rows, the same order and the same totals that those read models gave at T.
//
// # The position at T
//
// The store stamps every event with RecordedAt, when it was committed; the global log (the
// order ReadAll returns) is ordered by commit, yet two transactions that overlap may commit in
// one order and carry times in the other. So "the log at T" is a prefix: the events of the
// global log, in ReadAll order, up to and not including the first event whose RecordedAt is
// after T. The state folded from a prefix is one the log actually went through (and the one
// the read models showed once they had applied that prefix); an event recorded at or before T
// that the log orders after one recorded later is left out with everything after it. At reads
// the log as the store shows it when At runs: a commit the store still holds back behind a
// transaction that is open is not read, as no read model has applied it yet either.
//
// The log is folded as the projectors fold it, with one difference: an event that does not
// decode is skipped and the stream's later events are folded, where a projector parks it and
// holds the stream's later events back until an operator retries them (and a chat event the
// list only counts is counted without being decoded). A view as of T shows what the log holds.
//
// # What is kept
//
// A Snapshot keeps what the list and the directory show: one row per request (the fields of a
// list row and the request's domain state; of the chat, only when it last changed and how
// many messages and files it holds), the companies, portals, technicians and auditors. A request's
// details are folded when they are asked for, from its stream read through Store, the log cut
// at the snapshot's position: nothing of a stream past T is ever read, and any stream fold the
// application does on a Snapshot's Store (the details of a request the read model lacks, an
// auditor's history) is a fold at T too.
package asof

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// Snapshot is the log folded up to its position at a moment. It is read-only once At returns
// and safe for concurrent use.
type Snapshot struct {
	at       time.Time
	position eventlog.Position
	events   int
	store    *Store

	// The names every read model shows, as the log named them up to the position: the last
	// company.created and technician.registered of each ID.
	companies map[uuid.UUID]string
	techNames map[uuid.UUID]string
	portals   map[uuid.UUID]uuid.UUID // portal → company
	// technicians are the directory's technicians, folded by the domain.
	technicians map[uuid.UUID]*directory.Technician
	// auditors are the directory's auditors, folded by the domain.
	auditors map[uuid.UUID]*directory.Auditor

	rows map[uuid.UUID]*row
	// list holds the rows in the order their requests were submitted: what a list query walks.
	list []*row
}

// At reads store's global log up to its position at t (see the package documentation) and
// folds it. Events of types it does not know, or that do not decode, are counted in Events and
// change nothing.
func At(ctx context.Context, store eventlog.Store, t time.Time) (*Snapshot, error) {
	s, err := fold(ctx, store, t, func(e *eventlog.RecordedEvent) bool { return e.RecordedAt.After(t) })
	if err != nil {
		return nil, fmt.Errorf("as of %s: %w", t.Format(time.RFC3339Nano), err)
	}
	return s, nil
}

// Latest reads store's global log as far as it can be read now and folds it: the read models'
// answers once they have caught up. Its Time is zero.
func Latest(ctx context.Context, store eventlog.Store) (*Snapshot, error) {
	s, err := fold(ctx, store, time.Time{}, func(*eventlog.RecordedEvent) bool { return false })
	if err != nil {
		return nil, fmt.Errorf("the log as it stands: %w", err)
	}
	return s, nil
}

// fold folds the prefix of the global log that ends before the first event past says is past
// the snapshot's end.
func fold(ctx context.Context, store eventlog.Store, t time.Time, past func(*eventlog.RecordedEvent) bool) (*Snapshot, error) {
	if store == nil {
		return nil, errors.New("an event store is required")
	}
	s := &Snapshot{
		at:          t,
		companies:   map[uuid.UUID]string{},
		techNames:   map[uuid.UUID]string{},
		auditors:    map[uuid.UUID]*directory.Auditor{},
		portals:     map[uuid.UUID]uuid.UUID{},
		technicians: map[uuid.UUID]*directory.Technician{},
		rows:        map[uuid.UUID]*row{},
	}
	f := newFolder(s)
	err := readUntil(ctx, store, past, func(page []eventlog.RecordedEvent) {
		for i := range page {
			f.fold(&page[i])
		}
		s.position = page[len(page)-1].Position
		s.events += len(page)
	})
	if err != nil {
		return nil, err
	}
	s.store = &Store{store: store, position: s.position}
	return s, nil
}

// readPage is how many events At asks the store for at once.
const readPage = 5000

// readUntil passes the global log up to the first event past says is past the end to fold,
// page by page, each page non-empty. The next page is read while fold works on the current
// one.
func readUntil(ctx context.Context, store eventlog.Store, past func(*eventlog.RecordedEvent) bool, fold func([]eventlog.RecordedEvent)) error {
	type result struct {
		page []eventlog.RecordedEvent
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan result, 1)
	go func() {
		defer close(pages)
		from := eventlog.Start()
		for {
			page, err := store.ReadAll(ctx, from, eventlog.ReadOptions{Limit: readPage})
			if err != nil {
				pages <- result{err: fmt.Errorf("read the log after %s: %w", from, err)}
				return
			}
			end := len(page)
			for i := range page {
				if past(&page[i]) {
					end = i
					break
				}
			}
			if end > 0 {
				select {
				case pages <- result{page: page[:end]}:
				case <-ctx.Done():
					return
				}
			}
			if end < len(page) || len(page) == 0 {
				return
			}
			from = page[len(page)-1].Position
		}
	}()
	for r := range pages {
		if r.err != nil {
			return r.err
		}
		fold(r.page)
	}
	return ctx.Err()
}

// Time is the moment the snapshot was asked for; zero for Latest.
func (s *Snapshot) Time() time.Time { return s.at }

// Position is the position of the last event folded: Start when no event was recorded by
// the snapshot's time.
func (s *Snapshot) Position() eventlog.Position { return s.position }

// Events is how many events of the log the snapshot folded, of every type.
func (s *Snapshot) Events() int { return s.events }

// Store is the event log as it was at the snapshot's position: nothing past it is read, and
// nothing can be appended.
func (s *Snapshot) Store() *Store { return s.store }

// AppConfig returns the application's configuration for queries at the snapshot's time: the
// snapshot as every read model, its Store as the event store, and read-your-writes answered by
// the position (a position past the snapshot is never reached). Commands on it fail with
// ErrReadOnly.
func (s *Snapshot) AppConfig() app.Config {
	return app.Config{
		Store:          s.store,
		RequestList:    s,
		RequestDetails: s,
		Directory:      s,
		WaitFor: func(_ context.Context, pos eventlog.Position) (bool, error) {
			return pos.Compare(s.position) <= 0, nil
		},
	}
}

var (
	_ app.RequestListReadModel    = (*Snapshot)(nil)
	_ app.RequestDetailsReadModel = (*Snapshot)(nil)
	_ app.DirectoryReadModel      = (*Snapshot)(nil)
)

// folder folds events into a Snapshot: the request list's rows and the directory, as the
// projections fold them (projections/requestlist, projections/directory).
type folder struct {
	s         *Snapshot
	requests  *eventlog.Codec
	directory *eventlog.Codec
}

func newFolder(s *Snapshot) *folder {
	return &folder{s: s, requests: request.Codec(), directory: directory.Codec()}
}

func (f *folder) fold(rec *eventlog.RecordedEvent) {
	switch {
	case f.requests.Knows(rec.Type):
		id, ok := requestID(rec.StreamID)
		if !ok {
			return // a request event outside a request stream: no read model reads it
		}
		r := f.s.rows[id]
		if r == nil && rec.Type != submittedType {
			return // events of a request whose submission the log does not hold before them
		}
		if count, ok := countOnly[rec.Type]; ok {
			r.touched(at(rec))
			count(r, rec)
			return
		}
		e, err := f.requests.Decode(rec.Type, rec.Data)
		if err != nil {
			return // parked by the projectors: it changes no row
		}
		f.foldRequest(id, r, rec, e)
	case f.directory.Knows(rec.Type):
		e, err := f.directory.Decode(rec.Type, rec.Data)
		if err != nil {
			return
		}
		f.foldDirectory(e)
	}
}

var submittedType = (*request.Submitted)(nil).EventType()

// countOnly are the request events the list takes nothing from but when they happened and, of
// messages and files, how many there are: At does not decode them (in a chat-heavy log they
// are most of it), and the list's rows fold only the events that change what they show.
var countOnly = map[string]func(*row, *eventlog.RecordedEvent){
	(*request.MessageSent)(nil).EventType():                 countMessage,
	(*request.FileShared)(nil).EventType():                  func(r *row, _ *eventlog.RecordedEvent) { r.files++ },
	(*request.ChatJoined)(nil).EventType():                  func(*row, *eventlog.RecordedEvent) {},
	(*request.NoteAdded)(nil).EventType():                   func(*row, *eventlog.RecordedEvent) {},
	(*request.ScreenSharingRequested)(nil).EventType():      func(*row, *eventlog.RecordedEvent) {},
	(*request.ScreenSharingAccepted)(nil).EventType():       func(*row, *eventlog.RecordedEvent) {},
	(*request.ScreenSharingDeclined)(nil).EventType():       func(*row, *eventlog.RecordedEvent) {},
	(*request.MobileProfileSent)(nil).EventType():           func(*row, *eventlog.RecordedEvent) {},
	(*request.ScreenSharingSessionStarted)(nil).EventType(): func(*row, *eventlog.RecordedEvent) {},
	(*request.ScreenSharingSessionEnded)(nil).EventType():   func(*row, *eventlog.RecordedEvent) {},
	(*request.MobileProfileFileSent)(nil).EventType():       func(*row, *eventlog.RecordedEvent) {},
	(*request.ChatEnded)(nil).EventType():                   func(*row, *eventlog.RecordedEvent) {},
}

// countMessage counts a message and, when the customer sent it, notes when: the list shows
// when the customer last wrote. Only the sender is read, not the whole event.
func countMessage(r *row, rec *eventlog.RecordedEvent) {
	r.messages++
	if !bytes.Contains(rec.Data, []byte(request.CustomerSide)) {
		return // a technician's message: skip decoding it (in a chat-heavy log, most are)
	}
	var m struct {
		From request.Side `json:"from"`
	}
	if json.Unmarshal(rec.Data, &m) == nil && m.From == request.CustomerSide {
		r.customerWrote = ptr(at(rec))
	}
}

func ptr[T any](v T) *T { return &v }

// requestID is the request a stream belongs to, for request streams.
func requestID(streamID string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(streamID, request.StreamPrefix)
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}

func (f *folder) foldDirectory(e eventlog.Event) {
	s := f.s
	switch e := e.(type) {
	case *directory.CompanyCreated:
		s.companies[e.CompanyID] = e.Name
	case *directory.PortalCreated:
		s.portals[e.PortalID] = e.CompanyID
	case *directory.TechnicianRegistered:
		s.techNames[e.TechnicianID] = e.Name
		if t := s.technicians[e.TechnicianID]; t != nil {
			t.Fold([]eventlog.Event{e}) // registered again: new name and defaults, the same access
			return
		}
		t, err := directory.TechnicianFromHistory([]eventlog.Event{e})
		if err == nil {
			s.technicians[e.TechnicianID] = t
		}
	case *directory.AccessGranted:
		f.foldTechnician(e.TechnicianID, e)
	case *directory.AccessRevoked:
		f.foldTechnician(e.TechnicianID, e)
	case *directory.AvailabilityChanged:
		f.foldTechnician(e.TechnicianID, e)
	case *directory.NotificationSettingsChanged:
		f.foldTechnician(e.TechnicianID, e)
	case *directory.AuditorRegistered:
		if a := s.auditors[e.AuditorID]; a != nil {
			// Registered again (no command records it): the read model writes the auditor's
			// row anew, their grant of every company with it, and keeps the companies granted
			// one by one.
			st := a.State()
			st.Name, st.Email, st.AllCompanies = e.Name, e.Email, false
			s.auditors[e.AuditorID] = directory.RestoreAuditor(st)
			return
		}
		if a, err := directory.AuditorFromHistory([]eventlog.Event{e}); err == nil {
			s.auditors[e.AuditorID] = a
		}
	case *directory.AuditorAccessGranted:
		f.foldAuditor(e.AuditorID, e)
	case *directory.AuditorAccessRevoked:
		f.foldAuditor(e.AuditorID, e)
	}
	// auditor.password_changed.v1 changes nothing the directory shows.
}

// foldAuditor applies a grant or a revocation to a registered auditor, through the domain, as
// foldTechnician to a technician.
func (f *folder) foldAuditor(id uuid.UUID, e eventlog.Event) {
	if a := f.s.auditors[id]; a != nil {
		a.Fold([]eventlog.Event{e})
	}
}

// foldTechnician applies a change to a registered technician, through the domain. A change
// the log holds before the technician's registration is dropped: no command records one.
func (f *folder) foldTechnician(id uuid.UUID, e eventlog.Event) {
	if t := f.s.technicians[id]; t != nil {
		t.Fold([]eventlog.Event{e})
	}
}
