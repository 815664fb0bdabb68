package directory_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/readmodels"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/projections/directory"
)

func newDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, _ := pgtest.NewDatabase(t)
	if _, err := pool.Exec(context.Background(), directory.NewProjection().Schema()); err != nil {
		t.Fatal(err)
	}
	return pool
}

// history records directory events as a store would, and folds them with the domain.
type history struct {
	t      *testing.T
	codec  *eventlog.Codec
	events []eventlog.RecordedEvent
	byID   map[string][]eventlog.Event
}

func newHistory(t *testing.T) *history {
	return &history{t: t, codec: dir.Codec(), byID: map[string][]eventlog.Event{}}
}

func (h *history) add(stream string, events ...eventlog.Event) {
	for _, e := range events {
		typ, data, err := h.codec.Encode(e)
		if err != nil {
			h.t.Fatal(err)
		}
		h.events = append(h.events, eventlog.RecordedEvent{ID: uuid.New(), StreamID: stream, Version: int64(len(h.byID[stream])),
			Type: typ, Data: data, Metadata: eventlog.Metadata{OccurredAt: time.Now().UTC()},
			Position: eventlog.NewPosition(uint64(len(h.events)+1), uint64(len(h.events)+7))})
		h.byID[stream] = append(h.byID[stream], e)
	}
}

func apply(t *testing.T, pool *pgxpool.Pool, events []eventlog.RecordedEvent, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	p := directory.NewProjection()
	for len(events) > 0 {
		n := min(len(events), 1+rng.IntN(12))
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Apply(ctx, tx, events[:n]); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		events = events[n:]
	}
}

// Every directory event, in random batches: each technician read back equals the domain's fold
// of their stream (companies in grant order included); companies, portals and access lists
// match.
func TestApplyEqualsDomainFold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	rng := rand.New(rand.NewPCG(3, 4))
	h := newHistory(t)
	var companies []uuid.UUID
	portals := map[uuid.UUID]uuid.UUID{}
	for i := range 5 {
		c := uuid.New()
		companies = append(companies, c)
		h.add(dir.CompanyStream(c), &dir.CompanyCreated{CompanyID: c, Name: []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli"}[i]})
		for range 1 + rng.IntN(3) {
			p := uuid.New()
			portals[p] = c
			h.add(dir.CompanyStream(c), &dir.PortalCreated{CompanyID: c, PortalID: p, Name: "Portal " + p.String()[:4]})
		}
	}
	var techs []*dir.Technician
	for i := range 6 {
		tech, err := dir.RegisterTechnician(uuid.New(), []string{"Zoe", "Al", "Bo", "Cy", "Di", "Ed"}[i], "tech"+string(rune('a'+i))+"@example.com")
		if err != nil {
			t.Fatal(err)
		}
		techs = append(techs, tech)
		h.add(dir.TechnicianStream(tech.ID()), tech.Changes()...)
	}
	availabilities := []dir.Availability{dir.Available, dir.Busy, dir.Away, dir.Offline}
	for range 300 {
		tech := techs[rng.IntN(len(techs))]
		stream := dir.TechnicianStream(tech.ID())
		folded, _ := dir.TechnicianFromHistory(h.byID[stream])
		c := companies[rng.IntN(len(companies))]
		switch rng.IntN(5) {
		case 0, 1:
			_ = folded.GrantAccess(c)
		case 2:
			_ = folded.RevokeAccess(c)
		case 3:
			_ = folded.SetAvailability(availabilities[rng.IntN(4)])
		case 4:
			folded.ChangeNotificationSettings(dir.NotificationSettings{Email: rng.IntN(2) == 0, InConsole: rng.IntN(2) == 0, Webhook: rng.IntN(2) == 0})
		}
		h.add(stream, folded.Changes()...)
		if rng.IntN(4) == 0 {
			folded.RecordPasswordChange()
			h.add(stream, folded.Changes()[len(folded.Changes())-1])
		}
	}
	apply(t, pool, h.events, rng)

	m := readmodels.NewDirectory(pool)
	for _, tech := range techs {
		want, _ := dir.TechnicianFromHistory(h.byID[dir.TechnicianStream(tech.ID())])
		got, err := readmodels.Technician(ctx, pool, tech.ID())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normal(got), normal(want.State())) {
			t.Fatalf("technician %s:\n got %+v\nwant %+v", tech.Name(), got, want.State())
		}
		restored, err := m.Technician(ctx, tech.ID())
		if err != nil || !reflect.DeepEqual(normal(restored.State()), normal(want.State())) {
			t.Fatalf("read model technician: %v", err)
		}
	}
	for p, c := range portals {
		id, name, err := m.PortalCompany(ctx, p)
		if err != nil || id != c || name == "" {
			t.Fatalf("portal %s: %s %q %v", p, id, name, err)
		}
	}
	if _, _, err := m.PortalCompany(ctx, uuid.New()); !errors.Is(err, app.ErrUnknownPortal) {
		t.Fatalf("unknown portal: %v", err)
	}
	if _, err := m.Technician(ctx, uuid.New()); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("unknown technician: %v", err)
	}
	all, err := readmodels.Companies(ctx, pool)
	if err != nil || len(all) != len(companies) || all[0].Name != "Acme" {
		t.Fatalf("companies: %+v %v", all, err)
	}
	for _, c := range all {
		want, _ := dir.CompanyFromHistory(h.byID[dir.CompanyStream(c.ID)])
		if len(c.Portals) != len(want.Portals()) {
			t.Fatalf("company %s: %d portals, want %d", c.Name, len(c.Portals), len(want.Portals()))
		}
	}
	names, err := m.Companies(ctx)
	if err != nil || len(names) != len(companies) {
		t.Fatalf("company names: %v %v", names, err)
	}
	technicians, err := readmodels.Technicians(ctx, pool)
	if err != nil || len(technicians) != len(techs) || technicians[0].Name != "Al" {
		t.Fatalf("technicians: %+v %v", technicians, err)
	}
	techNames, err := m.Technicians(ctx)
	if err != nil || len(techNames) != len(techs) {
		t.Fatalf("technician names: %v %v", techNames, err)
	}
}

// normal makes "no companies" one value: the aggregate holds nil or an empty slice depending on
// its history.
func normal(s dir.TechnicianState) dir.TechnicianState {
	if len(s.Companies) == 0 {
		s.Companies = nil
	}
	return s
}

// Random auditor histories (grants of one company and of every company, revocations, the odd
// grant a stored event may hold), interleaved with technicians' and applied in random batches:
// each auditor read back equals the domain's fold of their stream, companies in grant order.
func TestAuditorsEqualDomainFold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	rng := rand.New(rand.NewPCG(5, 6))
	h := newHistory(t)
	var companies []uuid.UUID
	for i := range 4 {
		c := uuid.New()
		companies = append(companies, c)
		h.add(dir.CompanyStream(c), &dir.CompanyCreated{CompanyID: c, Name: "Company " + string(rune('A'+i))})
	}
	tech, err := dir.RegisterTechnician(uuid.New(), "Tess", "tess@example.com")
	if err != nil {
		t.Fatal(err)
	}
	h.add(dir.TechnicianStream(tech.ID()), tech.Changes()...)
	var auditors []uuid.UUID
	for i := range 5 {
		a, err := dir.RegisterAuditor(uuid.New(), []string{"Zed", "Ann", "Bea", "Cal", "Dee"}[i], "auditor"+string(rune('a'+i))+"@example.com")
		if err != nil {
			t.Fatal(err)
		}
		auditors = append(auditors, a.ID())
		h.add(dir.AuditorStream(a.ID()), a.Changes()...)
	}
	for range 300 {
		id := auditors[rng.IntN(len(auditors))]
		stream := dir.AuditorStream(id)
		folded, _ := dir.AuditorFromHistory(h.byID[stream])
		c := companies[rng.IntN(len(companies))]
		switch rng.IntN(7) {
		case 0, 1:
			_ = folded.GrantAccess(c)
		case 2:
			_ = folded.RevokeAccess(c)
		case 3:
			folded.GrantAllCompanies()
		case 4:
			_ = folded.RevokeAllCompanies()
		case 5:
			folded.RecordPasswordChange()
		case 6: // a grant of both, as a stored event may hold
			h.add(stream, &dir.AuditorAccessGranted{AuditorID: id, CompanyID: c, AllCompanies: true})
		}
		h.add(stream, folded.Changes()...)
		if rng.IntN(5) == 0 {
			_ = tech.GrantAccess(c)
			h.add(dir.TechnicianStream(tech.ID()), tech.Changes()...)
			tech, _ = dir.TechnicianFromHistory(h.byID[dir.TechnicianStream(tech.ID())])
		}
	}
	apply(t, pool, h.events, rng)

	normalAuditor := func(s dir.AuditorState) dir.AuditorState {
		if len(s.Companies) == 0 {
			s.Companies = nil
		}
		return s
	}
	for _, id := range auditors {
		want, _ := dir.AuditorFromHistory(h.byID[dir.AuditorStream(id)])
		got, err := readmodels.Auditor(ctx, pool, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalAuditor(got), normalAuditor(want.State())) {
			t.Fatalf("auditor %s:\n got %+v\nwant %+v", want.Name(), got, want.State())
		}
	}
	list, err := readmodels.NewDirectory(pool).Auditors(ctx)
	if err != nil || len(list) != len(auditors) || list[0].Name != "Ann" || list[4].Name != "Zed" {
		t.Fatalf("auditors: %+v %v", list, err)
	}
	if _, err := readmodels.Auditor(ctx, pool, tech.ID()); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("a technician read as an auditor: %v", err)
	}
	wantTech, _ := dir.TechnicianFromHistory(h.byID[dir.TechnicianStream(tech.ID())])
	gotTech, err := readmodels.Technician(ctx, pool, tech.ID())
	if err != nil || !reflect.DeepEqual(normal(gotTech), normal(wantTech.State())) {
		t.Fatalf("the technician beside the auditors: %+v, want %+v (%v)", gotTech, wantTech.State(), err)
	}
}

// Without its tables, the read model says it is not ready (the app then falls back).
func TestNotReady(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewDatabase(t)
	m := readmodels.NewDirectory(pool)
	if _, err := m.Technician(context.Background(), uuid.New()); !errors.Is(err, app.ErrReadModelNotReady) {
		t.Fatalf("got %v", err)
	}
	if _, err := m.Companies(context.Background()); !errors.Is(err, app.ErrReadModelNotReady) {
		t.Fatalf("got %v", err)
	}
	if _, err := m.Auditors(context.Background()); !errors.Is(err, app.ErrReadModelNotReady) {
		t.Fatalf("got %v", err)
	}
}
