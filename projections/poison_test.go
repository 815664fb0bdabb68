package projections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/helpstream/helpstream/adapters/postgres/readmodels"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/directory"
	"github.com/helpstream/helpstream/projections/requestdetails"
	"github.com/helpstream/helpstream/projections/requestlist"
)

// picky is the counts projection with a bug: it writes a batch, then fails on any event whose
// payload says PICKY, until it is fixed.
type picky struct {
	*counts
	fixed atomic.Bool
}

func (p *picky) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	if err := p.counts.Apply(ctx, tx, batch); err != nil {
		return err
	}
	if p.fixed.Load() {
		return nil
	}
	for _, e := range batch {
		if bytes.Contains(e.Data, []byte("PICKY")) {
			return fmt.Errorf("picky: event %s says PICKY", e.ID)
		}
	}
	return nil
}

// rawMarker, in a payload of the PostgreSQL store (a UTF8 database, which refuses bytes that
// are not UTF-8 anywhere), stands for the byte 0xFF that another store may hand out: rawBytes
// puts the byte in its place on every read.
const rawMarker = "<0xFF>"

// rawBytes is a store that hands out bytes that are not UTF-8 inside JSON strings, as an import
// from another store could.
type rawBytes struct{ eventlog.Store }

func corrupt(events []eventlog.RecordedEvent) []eventlog.RecordedEvent {
	for i := range events {
		if bytes.Contains(events[i].Data, []byte(rawMarker)) {
			events[i].Data = bytes.ReplaceAll(events[i].Data, []byte(rawMarker), []byte{0xff})
		}
	}
	return events
}

func (s rawBytes) ReadAll(ctx context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	events, err := s.Store.ReadAll(ctx, from, opts)
	return corrupt(events), err
}

func (s rawBytes) ReadStream(ctx context.Context, stream string, from int64, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	events, err := s.Store.ReadStream(ctx, stream, from, opts)
	return corrupt(events), err
}

func (s rawBytes) Subscribe(ctx context.Context, from eventlog.Position, opts eventlog.SubscribeOptions, handle eventlog.Handler) error {
	return s.Store.Subscribe(ctx, from, opts, func(ctx context.Context, batch []eventlog.RecordedEvent) error {
		return handle(ctx, corrupt(batch))
	})
}

// poisonLog appends events straight to the PostgreSQL store, bypassing the domain and its text
// rule, as an older log or an import could hold them.
type poisonLog struct {
	e    *env
	acme uuid.UUID
	// listed are the requests every request read model must show; parked, per projection, the
	// IDs of the events it must park, and blocked those among them parked for an earlier event.
	listed  []uuid.UUID
	parked  map[string][]uuid.UUID
	blocked map[uuid.UUID]bool
	last    eventlog.Position
}

func (l *poisonLog) append(stream, typ, data string, meta eventlog.Metadata) uuid.UUID {
	l.e.t.Helper()
	if meta.OccurredAt.IsZero() && meta.Actor == "" {
		meta = eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()}
	}
	id := uuid.New()
	res, err := l.e.store.Append(context.Background(), stream, eventlog.Any(),
		eventlog.EventData{ID: id, Type: typ, Data: json.RawMessage(data), Metadata: meta})
	if err != nil {
		l.e.t.Fatalf("append %s to %s: %v", typ, stream, err)
	}
	l.last = maxPos(l.last, res.Position)
	return id
}

func (l *poisonLog) event(stream string, e eventlog.Event) uuid.UUID {
	l.e.t.Helper()
	data, err := json.Marshal(e)
	if err != nil {
		l.e.t.Fatal(err)
	}
	return l.append(stream, e.EventType(), string(data), eventlog.Metadata{})
}

func (l *poisonLog) park(id uuid.UUID, blocked bool, projections ...string) {
	for _, p := range projections {
		l.parked[p] = append(l.parked[p], id)
	}
	if blocked {
		l.blocked[id] = true
	}
}

// submitted is a submission's payload with the JSON text given for each field.
func submitted(id, company uuid.UUID, name, email, description, os string) string {
	return fmt.Sprintf(`{"request_id":%q,"company_id":%q,"portal_id":%q,"customer":{"name":"%s","email":"%s"},"description":"%s",`+
		`"source":{"ip":"192.0.2.7","device_type":"windows","os":"%s","os_version":"11","browser":"Edge"}}`,
		id, company, uuid.New(), name, email, description, os)
}

const (
	listName, detailsName, directoryName = requestlist.Name, requestdetails.Name, directory.Name
)

// A log holding NUL characters, bytes that are not UTF-8, payloads that do not decode for their
// type, odd metadata, a value PostgreSQL refuses and an event a projection's bug refuses, among
// normal events: the projectors store what they can store (NUL as ␀), park what they cannot
// apply with the later events of its stream, and list every later request within a second;
// Status, Health and the metrics report the parked events; a rebuild parks the same; once the
// bug is fixed and the log repaired, Retry applies them and the report is clear.
func TestPoisonEventsAreParked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	store := rawBytes{e.store}
	pick := &picky{counts: newCounts("picky")}
	list, details, directoryModel := requestlist.NewProjection(), requestdetails.NewProjection(), directory.NewProjection()
	models := []projections.Projection{directoryModel, list, details, pick}
	cfg := e.config(models...)
	cfg.Store = store
	r := e.start(cfg)
	eventually(t, 10*time.Second, "every projection led", func() bool { return len(r.Leading()) == len(models) })

	l := &poisonLog{e: e, parked: map[string][]uuid.UUID{}, blocked: map[uuid.UUID]bool{}}
	nulCo, tech := uuid.New(), uuid.New()
	l.acme = uuid.New()
	l.event(dir.CompanyStream(l.acme), &dir.CompanyCreated{CompanyID: l.acme, Name: "Acme"})
	l.append(dir.CompanyStream(nulCo), "company.created.v1", fmt.Sprintf(`{"company_id":%q,"name":"Nul\u0000Co"}`, nulCo), eventlog.Metadata{})
	l.append(dir.TechnicianStream(tech), "technician.registered.v1",
		fmt.Sprintf(`{"technician_id":%q,"name":"Tess\u0000","email":"tess\u0000@example.com"}`, tech), eventlog.Metadata{})

	normal := func(company uuid.UUID, i int) uuid.UUID {
		id := uuid.New()
		l.append(request.Stream(id), "request.submitted.v1",
			submitted(id, company, fmt.Sprintf("Customer %d", i), fmt.Sprintf("c%d@example.com", i), "Printer on fire", "Windows"), eventlog.Metadata{})
		if i%2 == 0 {
			l.event(request.Stream(id), &request.Assigned{TechnicianID: tech})
		}
		l.listed = append(l.listed, id)
		return id
	}
	normal(l.acme, 0)

	// NUL in every text of a request, in a company's and a technician's name, in a message.
	nul := uuid.New()
	l.append(request.Stream(nul), "request.submitted.v1",
		submitted(nul, nulCo, `Bob\u0000`, `bob\u0000@example.com`, `printer\u0000on fire`, `Win\u0000dows`), eventlog.Metadata{})
	l.append(request.Stream(nul), "request.message_sent.v1",
		fmt.Sprintf(`{"message_id":%q,"from":"customer","body":"hello\u0000"}`, uuid.New()), eventlog.Metadata{})
	l.listed = append(l.listed, nul)

	// Text that is not UTF-8: a JSON escape of half a character, which the PostgreSQL store
	// keeps, and a raw byte, which it refuses (the rawBytes store hands one out instead).
	notUTF8 := uuid.New()
	l.append(request.Stream(notUTF8), "request.submitted.v1",
		submitted(notUTF8, l.acme, `Caf\udce9`, "cafe@example.com", "caf"+rawMarker+" au lait", "Windows"), eventlog.Metadata{})
	l.listed = append(l.listed, notUTF8)
	refused := uuid.New()
	if _, err := e.store.Append(ctx, request.Stream(refused), eventlog.Any(), eventlog.EventData{ID: uuid.New(), Type: "request.submitted.v1",
		Data:     json.RawMessage(submitted(refused, l.acme, "Caf\xe9", "cafe@example.com", "x", "Windows")),
		Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()}}); err == nil {
		t.Fatal("the PostgreSQL store kept bytes that are not UTF-8: the log can then hold them without the rawBytes store")
	}

	// A payload that does not decode for its type, and the stream's next event.
	undecodable := uuid.New()
	l.park(l.append(request.Stream(undecodable), "request.submitted.v1", fmt.Sprintf(`{"request_id":%q,"company_id":12}`, undecodable),
		eventlog.Metadata{}), false, listName, detailsName)
	l.park(l.event(request.Stream(undecodable), &request.Assigned{TechnicianID: tech}), true, listName, detailsName)

	// Odd metadata: NUL in the actor and the correlation ID, no time at all.
	oddMeta := uuid.New()
	l.append(request.Stream(oddMeta), "request.submitted.v1", submitted(oddMeta, l.acme, "Odd", "odd@example.com", "no time", "Windows"),
		eventlog.Metadata{Actor: "sys\x00tem", CorrelationID: "corr\x00", CausationID: "\x00"})
	l.listed = append(l.listed, oddMeta)

	// A customer name far longer than a btree entry may be: the list sorts it by a capped
	// collation key (app.SortKey), so it is listed like any other, not parked (SQLSTATE 54000).
	huge := uuid.New()
	hugeName := make([]byte, 20000)
	for i := range hugeName {
		hugeName[i] = byte('c' + rand.IntN(12)) // c to n: no "bob" for the search below
	}
	l.append(request.Stream(huge), "request.submitted.v1", submitted(huge, l.acme, string(hugeName), "huge@example.com", "long name", "Windows"),
		eventlog.Metadata{})
	l.event(request.Stream(huge), &request.Assigned{TechnicianID: tech})
	l.listed = append(l.listed, huge)

	// A company whose payload does not decode: every read model that reads companies parks it.
	badCompany := uuid.New()
	l.park(l.append(dir.CompanyStream(badCompany), "company.created.v1", fmt.Sprintf(`{"company_id":%q,"name":7}`, badCompany), eventlog.Metadata{}),
		false, listName, detailsName, directoryName)

	// What the picky projection's bug refuses, and the stream's next event.
	marked := uuid.New()
	l.park(l.append(request.Stream(marked), "request.submitted.v1", submitted(marked, l.acme, "Pat", "pat@example.com", "PICKY", "Windows"),
		eventlog.Metadata{}), false, pick.name)
	l.park(l.event(request.Stream(marked), &request.Assigned{TechnicianID: tech}), true, pick.name)
	l.listed = append(l.listed, marked)

	for i := 1; i <= 20; i++ {
		company := l.acme
		if i%3 == 0 {
			company = nulCo
		}
		normal(company, i)
	}
	appended := time.Now()

	companies := []uuid.UUID{l.acme, nulCo}
	listed := func() (missing []uuid.UUID) {
		page, err := readmodels.ListRequests(ctx, e.pool, app.RequestListQuery{Companies: companies, IncludeNew: true, View: app.ViewAll,
			Sort: app.SortSubmitted, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		inList := map[uuid.UUID]bool{}
		for _, s := range page.Requests {
			inList[s.ID] = true
		}
		for _, id := range l.listed {
			if !inList[id] {
				missing = append(missing, id)
				continue
			}
			if _, err := readmodels.ReadDetails(ctx, e.pool, id, app.Viewer{CustomerOf: id}, nil); err != nil {
				missing = append(missing, id)
			}
		}
		return missing
	}
	for missing := listed(); len(missing) > 0; missing = listed() {
		if time.Since(appended) > time.Second {
			t.Fatalf("%d of %d requests appended after the poison events are not listed (list and details) a second after the last append: %v",
				len(missing), len(l.listed), missing)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("every request listed %s after the last append", time.Since(appended).Round(time.Millisecond))
	e.waitFor(l.last, 10*time.Second, names(models)...)
	// A later event of a stream with a parked event, in a batch of its own, waits too.
	l.park(l.event(request.Stream(undecodable), &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "still there?"}),
		true, listName, detailsName)
	e.waitFor(l.last, 10*time.Second, names(models)...)

	// What PostgreSQL cannot store is stored as Text makes it.
	page, err := readmodels.ListRequests(ctx, e.pool, app.RequestListQuery{Companies: companies, IncludeNew: true, View: app.ViewAll,
		Sort: app.SortSubmitted, Limit: 200, Search: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Requests) != 1 || page.Requests[0].ID != nul {
		t.Fatalf("search for bob: %+v", page.Requests)
	}
	if s := page.Requests[0]; s.CustomerName != "Bob␀" || s.CustomerEmail != "bob␀@example.com" || s.Description != "printer␀on fire" ||
		s.CompanyName != "Nul␀Co" {
		t.Errorf("the request with NULs is listed as %+v", s)
	}
	d, err := readmodels.ReadDetails(ctx, e.pool, nul, app.Viewer{CustomerOf: nul}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Source.OS != "Win␀dows" || d.Source.Platform != request.Windows || len(d.Entries) != 1 || d.Entries[0].Body != "hello␀" ||
		d.CompanyName != "Nul␀Co" {
		t.Errorf("details of the request with NULs: source %+v, company %q, entries %+v", d.Source, d.CompanyName, d.Entries)
	}
	d, err = readmodels.ReadDetails(ctx, e.pool, notUTF8, app.Viewer{CustomerOf: notUTF8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Customer.Name != "Caf\uFFFD" || d.Description != "caf\uFFFD au lait" {
		t.Errorf("text that is not UTF-8 stored as %q and %q", d.Customer.Name, d.Description)
	}
	d, err = readmodels.ReadDetails(ctx, e.pool, oddMeta, app.Viewer{CustomerOf: oddMeta}, nil)
	if err != nil || !d.SubmittedAt.IsZero() {
		t.Errorf("the request without a time: submitted at %s, %v", d.SubmittedAt, err)
	}
	if _, err := readmodels.ReadDetails(ctx, e.pool, huge, app.Viewer{CustomerOf: huge}, nil); err != nil {
		t.Errorf("the details of the request with the long name: %v", err)
	}
	tess, err := readmodels.Technician(ctx, e.pool, tech)
	if err != nil || tess.Name != "Tess␀" || tess.Email != "tess␀@example.com" {
		t.Errorf("technician with NULs: %+v, %v", tess, err)
	}

	parkedBefore := checkParked(t, e, l, models)

	// Reported by Status, the metrics and Health.
	st, err := projections.Status(ctx, e.pool, store, models)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		want := l.parked[s.Name]
		if s.Parked != int64(len(want)) || s.FirstParked == nil || s.FirstParked.EventID != want[0] {
			t.Errorf("%s: status reports %d parked, first %+v; want %d, first %s", s.Name, s.Parked, s.FirstParked, len(want), want[0])
		}
		if s.LagEvents != 0 || s.Position != l.last {
			t.Errorf("%s: status at %s with a lag of %d, want at %s with none", s.Name, s.Position, s.LagEvents, l.last)
		}
	}
	metrics := "# HELP helpstream_projection_parked_events Events the projection could not apply and parked; helpstream projections retry applies them after a fix.\n" +
		"# TYPE helpstream_projection_parked_events gauge\n"
	for _, p := range models {
		metrics += fmt.Sprintf("helpstream_projection_parked_events{projection=%q} %d\n", p.Name(), len(l.parked[p.Name()]))
	}
	if err := testutil.CollectAndCompare(projections.NewCollector(e.pool, store, models), strings.NewReader(metrics),
		"helpstream_projection_parked_events"); err != nil {
		t.Error(err)
	}
	ok, reason, err := projections.Health(ctx, e.pool)
	if err != nil || ok {
		t.Fatalf("Health with parked events = %v, %q, %v", ok, reason, err)
	}
	first := parkedBefore[listName][0]
	wantClause := fmt.Sprintf("projection request_list has %d parked events, first at %s: request list: decode request.submitted.v1 at %s",
		len(l.parked[listName]), first.Position, first.Position)
	if !strings.Contains(reason, wantClause) || !strings.Contains(reason, "projection picky has 2 parked events") ||
		!strings.Contains(reason, "projection directory has 1 parked event, first at") {
		t.Errorf("Health says %q, want it to hold %q and a clause per projection", reason, wantClause)
	}

	// A rebuild of the same log succeeds and parks the same events, while the runner goes on.
	for _, p := range models {
		res, err := projections.Rebuild(ctx, e.pool, store, p, projections.RebuildOptions{BatchSize: 7, Logger: e.log})
		if err != nil {
			t.Fatalf("rebuild %s: %v", p.Name(), err)
		}
		if res.Parked != len(l.parked[p.Name()]) {
			t.Errorf("rebuild %s parked %d events, want %d", p.Name(), res.Parked, len(l.parked[p.Name()]))
		}
	}
	parkedAfter := checkParked(t, e, l, models)
	for name, before := range parkedBefore {
		for i, pe := range parkedAfter[name] {
			if pe.Error != before[i].Error {
				t.Errorf("%s: the rebuild parked %s with %q, the runner with %q", name, pe.EventID, pe.Error, before[i].Error)
			}
		}
	}
	if missing := listed(); len(missing) > 0 {
		t.Fatalf("after the rebuilds, %d requests are not listed: %v", len(missing), missing)
	}

	// A retry before the fix changes nothing but the errors' count.
	res, err := projections.Retry(ctx, e.pool, store, pick)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 0 || len(res.Failed) != 1 || len(res.Waiting) != 1 || res.Failed[0].Retries != 1 ||
		!strings.Contains(res.Failed[0].Error, "says PICKY") {
		t.Fatalf("retry before the fix: %+v", res)
	}

	// The fix: the bug is gone, and the payloads are repaired in the log.
	pick.fixed.Store(true)
	repairs := map[uuid.UUID]string{
		l.parked[listName][0]: submitted(undecodable, l.acme, "Una", "una@example.com", "repaired", "Windows"),
		l.parked[listName][2]: fmt.Sprintf(`{"company_id":%q,"name":"Seven"}`, badCompany),
	}
	for id, data := range repairs {
		if _, err := e.pool.Exec(ctx, `UPDATE events SET data = $2 WHERE event_id = $1`, id, data); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range models {
		res, err := projections.Retry(ctx, e.pool, store, p)
		if err != nil {
			t.Fatalf("retry %s: %v", p.Name(), err)
		}
		var applied []uuid.UUID
		for _, pe := range res.Applied {
			applied = append(applied, pe.EventID)
		}
		if !slices.Equal(applied, l.parked[p.Name()]) || len(res.Failed)+len(res.Waiting) != 0 {
			t.Errorf("retry %s: applied %v, failed %+v, waiting %+v; want %v applied", p.Name(), applied, res.Failed, res.Waiting, l.parked[p.Name()])
		}
	}
	if ok, reason, err := projections.Health(ctx, e.pool); !ok || reason != "" || err != nil {
		t.Fatalf("Health after the retries = %v, %q, %v", ok, reason, err)
	}
	st, err = projections.Status(ctx, e.pool, store, models)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Parked != 0 || s.FirstParked != nil {
			t.Errorf("%s: after the retry, status reports %d parked (%+v)", s.Name, s.Parked, s.FirstParked)
		}
	}
	// The streams whose events waited are whole again, and the projector goes on after them.
	l.listed = append(l.listed, undecodable)
	l.event(request.Stream(marked), &request.Closed{TechnicianID: tech})
	l.event(request.Stream(undecodable), &request.Closed{TechnicianID: tech})
	e.waitFor(l.last, 10*time.Second, names(models)...)
	if missing := listed(); len(missing) > 0 {
		t.Fatalf("after the retry, %d requests are not listed: %v", len(missing), missing)
	}
	d, err = readmodels.ReadDetails(ctx, e.pool, undecodable, app.Viewer{CustomerOf: undecodable}, nil)
	if err != nil || d.Description != "repaired" || d.Status != request.StatusCompleted || d.Version != 3 || len(d.Entries) != 2 {
		t.Errorf("the repaired request: %+v, %v", d, err)
	}
	e.checkFold(pick.counts)
}

// checkParked compares each projection's parked events with what the log holds, and returns
// them.
func checkParked(t *testing.T, e *env, l *poisonLog, models []projections.Projection) map[string][]projections.ParkedEvent {
	t.Helper()
	out := map[string][]projections.ParkedEvent{}
	for _, p := range models {
		parked, err := projections.Parked(context.Background(), e.pool, p.Name())
		if err != nil {
			t.Fatal(err)
		}
		out[p.Name()] = parked
		var ids []uuid.UUID
		for _, pe := range parked {
			ids = append(ids, pe.EventID)
			if l.blocked[pe.EventID] != (pe.Error == projections.BlockedReason) {
				t.Errorf("%s parked %s %s with %q", p.Name(), pe.Type, pe.EventID, pe.Error)
			}
			if pe.Projection != p.Name() || pe.Position.IsStart() || pe.StreamID == "" || pe.Type == "" || pe.ParkedAt.IsZero() {
				t.Errorf("%s: parked event %+v", p.Name(), pe)
			}
		}
		if want := l.parked[p.Name()]; !slices.Equal(ids, want) {
			t.Errorf("%s parked %v, want %v", p.Name(), ids, want)
		}
		for _, pe := range parked {
			t.Logf("%s parked %s at %s: %s", p.Name(), pe.Type, pe.Position, pe.Error)
		}
	}
	return out
}

func names(ps []projections.Projection) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name()
	}
	return out
}
