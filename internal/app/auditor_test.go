package app_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/adapters/postgres/readmodels"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

var adminMeta = app.Meta{Actor: app.Admin}

// auditedWorld is a world with a second company (Globex) and requests in every state in both:
// what an auditor of one company reads, and what they must never see.
type auditedWorld struct {
	*world
	accounts *app.Accounts
	globex   uuid.UUID
	// Acme's requests: closed (with a note, a message and a file), open and assigned, new.
	closed, active, fresh uuid.UUID
	file                  uuid.UUID
	// one Globex request
	other uuid.UUID
}

const secretNote = "private note: the customer's password is hunter2"

func newAuditedWorld(t *testing.T) *auditedWorld {
	t.Helper()
	w := &auditedWorld{world: newWorld(t, 2), globex: uuid.New(), file: uuid.New()}
	w.accounts = app.NewAccounts(w.app, credentials.New(w.pool), 0)
	ctx := context.Background()
	must(t, func() (app.Result, error) {
		return w.app.CreateCompany(ctx, adminMeta, app.CreateCompany{CompanyID: w.globex, Name: "Globex"})
	})
	globexPortal := uuid.New()
	must(t, func() (app.Result, error) {
		return w.app.CreatePortal(ctx, adminMeta, app.CreatePortal{CompanyID: w.globex, PortalID: globexPortal, Name: "Globex help"})
	})
	me := tech(w.techs[0])
	w.closed = w.submit(t, request.Windows)
	must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, me, w.closed) })
	must(t, func() (app.Result, error) { return w.app.JoinChat(ctx, me, w.closed) })
	must(t, func() (app.Result, error) {
		return w.app.SendTechnicianMessage(ctx, me, w.closed, uuid.New(), "Have you tried turning it off?")
	})
	must(t, func() (app.Result, error) { return w.app.AddNote(ctx, me, w.closed, uuid.New(), secretNote) })
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	must(t, func() (app.Result, error) {
		return w.app.ShareTechnicianFile(ctx, me, app.Upload{RequestID: w.closed, FileID: w.file, Name: "screen.png", Content: bytes.NewReader(png)})
	})
	must(t, func() (app.Result, error) { return w.app.EndChat(ctx, me, w.closed) })
	must(t, func() (app.Result, error) { return w.app.Close(ctx, me, w.closed) })
	w.active = w.submit(t, request.Mac)
	must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, tech(w.techs[1]), w.active) })
	w.fresh = w.submit(t, request.Android)
	// Nobody is available: New requests are listed to auditors all the same.
	for _, id := range w.techs {
		must(t, func() (app.Result, error) {
			return w.app.SetAvailability(ctx, adminMeta, app.SetAvailability{TechnicianID: id, Availability: directory.Offline})
		})
	}
	w.other = uuid.New()
	must(t, func() (app.Result, error) {
		return w.app.SubmitRequest(ctx, customer(w.other), app.SubmitRequest{RequestID: w.other, PortalID: globexPortal, CompanyID: w.globex,
			Customer: request.Customer{Name: "Gus", Email: "gus@example.com"}, Description: "Globex's secret", Source: request.Source{Platform: request.Mac}})
	})
	return w
}

// auditor registers an auditor with a password and grants them what grants says.
func (w *auditedWorld) auditor(t *testing.T, email string, grants ...app.GrantAuditorAccess) uuid.UUID {
	t.Helper()
	id := uuid.New()
	must(t, func() (app.Result, error) {
		return w.accounts.RegisterAuditorWithPassword(context.Background(), adminMeta, app.RegisterAuditor{AuditorID: id, Name: "Ann " + email, Email: email}, "audit horse")
	})
	for _, g := range grants {
		g.AuditorID = id
		must(t, func() (app.Result, error) { return w.app.GrantAuditorAccess(context.Background(), adminMeta, g) })
	}
	return id
}

func ids(page app.RequestPage) []uuid.UUID {
	var out []uuid.UUID
	for _, r := range page.Requests {
		out = append(out, r.ID)
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func sorted(in ...uuid.UUID) []uuid.UUID {
	slices.SortFunc(in, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return in
}

// An auditor reads everything of their companies — every view, New ones whoever is available,
// any technician's queue, details with private notes and no actions, files, the history — and
// nothing of another company (404, as R2).
func TestAuditorReadsTheirCompanies(t *testing.T) {
	w := newAuditedWorld(t)
	ctx := context.Background()
	qs := w.app.Queries()
	ann := w.auditor(t, "ann@example.com", app.GrantAuditorAccess{CompanyID: w.companyID})
	as := app.Viewer{AuditorID: ann, ClientIP: "192.0.2.7"}

	lists := []struct {
		name string
		q    app.ListRequests
		want []uuid.UUID
	}{
		{"all", app.ListRequests{}, sorted(w.closed, w.active, w.fresh)},
		{"new, nobody available", app.ListRequests{View: app.ViewNew}, []uuid.UUID{w.fresh}},
		{"active", app.ListRequests{View: app.ViewActive}, []uuid.UUID{w.active}},
		{"completed", app.ListRequests{View: app.ViewCompleted}, []uuid.UUID{w.closed}},
		{"a technician's queue", app.ListRequests{Assignee: w.techs[1]}, []uuid.UUID{w.active}},
		{"their company", app.ListRequests{CompanyID: w.companyID, Sort: app.SortCustomer, Descending: true}, sorted(w.closed, w.active, w.fresh)},
		{"another company lists nothing", app.ListRequests{CompanyID: w.globex}, nil},
		{"a search", app.ListRequests{Search: "printer"}, sorted(w.closed, w.active, w.fresh)},
	}
	for _, tt := range lists {
		t.Run("list "+tt.name, func(t *testing.T) {
			tt.q.AuditorID, tt.q.ClientIP = ann, as.ClientIP
			page, err := qs.ListRequests(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page); !slices.Equal(got, tt.want) {
				t.Fatalf("listed %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("an auditor has no queue of their own", func(t *testing.T) {
		if _, err := qs.ListRequests(ctx, app.ListRequests{AuditorID: ann, MineOnly: true}); !errors.Is(err, app.ErrInvalidFilter) {
			t.Fatalf("mine=true: %v, want ErrInvalidFilter", err)
		}
	})
	t.Run("details with the private note and no action", func(t *testing.T) {
		d, err := qs.RequestDetails(ctx, as, w.closed)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range d.Entries {
			kinds = append(kinds, e.Kind)
			if e.Kind == "note" && e.Body != secretNote {
				t.Fatalf("note %q", e.Body)
			}
		}
		if !slices.Contains(kinds, "note") || !slices.Contains(kinds, "file") || !slices.Contains(kinds, "message") {
			t.Fatalf("entries %v: want the note, the message and the file", kinds)
		}
		if d.Actions == nil || len(d.Actions) != 0 || d.Status != request.StatusCompleted {
			t.Fatalf("actions %v, status %s; want none on a closed request", d.Actions, d.Status)
		}
		open, err := qs.RequestDetails(ctx, as, w.fresh)
		if err != nil || len(open.Actions) != 0 {
			t.Fatalf("an open request shows an auditor actions %v (%v)", open.Actions, err)
		}
	})
	t.Run("the file", func(t *testing.T) {
		f, err := qs.OpenFile(ctx, as, w.closed, w.file)
		if err != nil {
			t.Fatal(err)
		}
		content, _ := io.ReadAll(f.Content)
		f.Content.Close()
		if f.Name != "screen.png" || !bytes.HasPrefix(content, []byte("\x89PNG")) {
			t.Fatalf("file %q, %d bytes", f.Name, len(content))
		}
	})
	t.Run("the history", func(t *testing.T) {
		events, err := qs.ReadHistory(ctx, as, w.closed)
		if err != nil || len(events) < 8 || events[0].Type != "request.submitted.v1" {
			t.Fatalf("history: %d events, %v", len(events), err)
		}
	})
	t.Run("another company's request does not exist", func(t *testing.T) {
		if _, err := qs.RequestDetails(ctx, as, w.other); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("details: %v", err)
		}
		if _, err := qs.ReadHistory(ctx, as, w.other); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("history: %v", err)
		}
		if _, err := qs.OpenFile(ctx, as, w.other, w.file); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("file: %v", err)
		}
		if _, err := qs.RequestDetails(ctx, as, uuid.New()); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("an unknown request: %v", err)
		}
	})
	t.Run("the access log holds every read, no content", func(t *testing.T) {
		page, err := qs.AuditorAccessLog(ctx, ann, app.AccessLogQuery{AuditorID: ann, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[app.AccessKind]int{}
		for _, e := range page.Entries {
			kinds[e.Kind]++
			if e.AuditorID != ann || e.ClientIP != "192.0.2.7" {
				t.Fatalf("entry %+v", e)
			}
			if e.RequestID == w.other || e.CompanyID == w.globex {
				t.Fatalf("a refused read was recorded: %+v", e)
			}
			for k, v := range e.Params {
				for _, content := range []string{"printer", "Ada", "ada@example.com", "Globex", secretNote} {
					if strings.Contains(strings.ToLower(k+v), strings.ToLower(content)) {
						t.Fatalf("entry %+v holds %q", e, content)
					}
				}
			}
		}
		want := map[app.AccessKind]int{app.AccessList: len(lists), app.AccessDetails: 2, app.AccessFile: 1, app.AccessHistory: 1}
		if !maps.Equal(kinds, want) {
			t.Fatalf("recorded %v, want %v", kinds, want)
		}
	})
	t.Run("a grant taken back holds from the next read", func(t *testing.T) {
		must(t, func() (app.Result, error) {
			return w.app.RevokeAuditorAccess(ctx, adminMeta, app.RevokeAuditorAccess{AuditorID: ann, CompanyID: w.companyID})
		})
		if _, err := qs.RequestDetails(ctx, as, w.closed); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("details after the revocation: %v", err)
		}
		page, err := qs.ListRequests(ctx, app.ListRequests{AuditorID: ann})
		if err != nil || len(page.Requests) != 0 {
			t.Fatalf("list after the revocation: %v %v", ids(page), err)
		}
	})
}

// An auditor of every company reads every company's requests, those of a company created after
// the grant too.
func TestAuditorOfEveryCompany(t *testing.T) {
	w := newAuditedWorld(t)
	ctx := context.Background()
	zed := w.auditor(t, "zed@example.com", app.GrantAuditorAccess{AllCompanies: true})
	page, err := w.app.Queries().ListRequests(ctx, app.ListRequests{AuditorID: zed})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(page), sorted(w.closed, w.active, w.fresh, w.other); !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	if _, err := w.app.Queries().RequestDetails(ctx, app.Viewer{AuditorID: zed}, w.other); err != nil {
		t.Fatal(err)
	}
	p, err := w.app.Queries().AuditorProfile(ctx, zed)
	if err != nil || !p.AllCompanies || p.Role != app.RoleAuditor || len(p.Companies) != 0 || p.Email != "zed@example.com" {
		t.Fatalf("profile %+v, %v", p, err)
	}
}

// The administrator's commands about auditors, and what they refuse.
func TestAuditorCommands(t *testing.T) {
	w := newAuditedWorld(t)
	ctx := context.Background()
	ann := w.auditor(t, "ann@example.com")
	must(t, func() (app.Result, error) {
		return w.accounts.RegisterTechnicianWithPassword(ctx, adminMeta, app.RegisterTechnician{TechnicianID: uuid.New(), Name: "Tess", Email: "tess@example.com"}, "long enough")
	})
	tests := []struct {
		name    string
		run     func() (app.Result, error)
		want    error
		written bool
	}{
		{"grant a company", func() (app.Result, error) {
			return w.app.GrantAuditorAccess(ctx, adminMeta, app.GrantAuditorAccess{AuditorID: ann, CompanyID: w.companyID})
		}, nil, true},
		{"grant it again", func() (app.Result, error) {
			return w.app.GrantAuditorAccess(ctx, adminMeta, app.GrantAuditorAccess{AuditorID: ann, CompanyID: w.companyID})
		}, nil, false},
		{"grant an unknown company", func() (app.Result, error) {
			return w.app.GrantAuditorAccess(ctx, adminMeta, app.GrantAuditorAccess{AuditorID: ann, CompanyID: uuid.New()})
		}, app.ErrNotFound, false},
		{"grant a company and every company", func() (app.Result, error) {
			return w.app.GrantAuditorAccess(ctx, adminMeta, app.GrantAuditorAccess{AuditorID: ann, CompanyID: w.companyID, AllCompanies: true})
		}, app.ErrInvalidGrant, false},
		{"grant nothing", func() (app.Result, error) {
			return w.app.GrantAuditorAccess(ctx, adminMeta, app.GrantAuditorAccess{AuditorID: ann})
		}, app.ErrInvalidGrant, false},
		{"grant an unknown auditor", func() (app.Result, error) {
			return w.app.GrantAuditorAccess(ctx, adminMeta, app.GrantAuditorAccess{AuditorID: uuid.New(), AllCompanies: true})
		}, app.ErrNotFound, false},
		{"grant every company", func() (app.Result, error) {
			return w.app.GrantAuditorAccess(ctx, adminMeta, app.GrantAuditorAccess{AuditorID: ann, AllCompanies: true})
		}, nil, true},
		{"revoke a company never granted", func() (app.Result, error) {
			return w.app.RevokeAuditorAccess(ctx, adminMeta, app.RevokeAuditorAccess{AuditorID: ann, CompanyID: w.globex})
		}, directory.ErrAuditorNoAccess, false},
		{"revoke every company", func() (app.Result, error) {
			return w.app.RevokeAuditorAccess(ctx, adminMeta, app.RevokeAuditorAccess{AuditorID: ann, AllCompanies: true})
		}, nil, true},
		{"revoke every company again", func() (app.Result, error) {
			return w.app.RevokeAuditorAccess(ctx, adminMeta, app.RevokeAuditorAccess{AuditorID: ann, AllCompanies: true})
		}, directory.ErrAuditorNoAccess, false},
		{"register a technician with an auditor's address", func() (app.Result, error) {
			return w.accounts.RegisterTechnicianWithPassword(ctx, adminMeta, app.RegisterTechnician{TechnicianID: uuid.New(), Name: "T", Email: "ANN@example.com"}, "long enough")
		}, app.ErrEmailTaken, false},
		{"register an auditor with a technician's address", func() (app.Result, error) {
			return w.accounts.RegisterAuditorWithPassword(ctx, adminMeta, app.RegisterAuditor{AuditorID: uuid.New(), Name: "A", Email: "Tess@example.com"}, "long enough")
		}, app.ErrEmailTaken, false},
		{"register an auditor with a weak password", func() (app.Result, error) {
			return w.accounts.RegisterAuditorWithPassword(ctx, adminMeta, app.RegisterAuditor{AuditorID: uuid.New(), Name: "A", Email: "a@example.com"}, "short")
		}, app.ErrWeakPassword, false},
		{"register an auditor without a name", func() (app.Result, error) {
			return w.accounts.RegisterAuditorWithPassword(ctx, adminMeta, app.RegisterAuditor{AuditorID: uuid.New(), Email: "a@example.com"}, "long enough")
		}, directory.ErrInvalidName, false},
		{"a technician's password route does not take an auditor", func() (app.Result, error) {
			return w.accounts.SetPassword(ctx, adminMeta, ann, "another password")
		}, app.ErrNotFound, false},
		{"set the auditor's password", func() (app.Result, error) {
			return w.accounts.SetAuditorPassword(ctx, adminMeta, ann, "another password")
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.run()
			if !errors.Is(err, tt.want) || res.Written != tt.written {
				t.Fatalf("got %+v, %v; want written %v, %v", res, err, tt.written, tt.want)
			}
		})
	}
	au, err := w.app.Auditor(ctx, ann)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(au.Companies(), []uuid.UUID{w.companyID}) || au.AllCompanies() {
		t.Fatalf("auditor holds %v (all: %v)", au.Companies(), au.AllCompanies())
	}
	session, err := w.accounts.Login(ctx, "Ann@Example.com", "another password")
	if err != nil || !session.IsAuditor() || session.AuditorID != ann || session.TechnicianID != uuid.Nil {
		t.Fatalf("login: %+v, %v", session, err)
	}
	list, err := w.app.Queries().Auditors(ctx)
	if err != nil || len(list) != 1 || list[0].ID != ann || !slices.Equal(list[0].Companies, []uuid.UUID{w.companyID}) {
		t.Fatalf("Auditors = %+v, %v", list, err)
	}
}

// failingLog refuses to record: the database holding the access log is down.
type failingLog struct{ app.AccessLog }

var errLogDown = errors.New("the access log's database is down")

func (failingLog) Record(context.Context, app.AccessEntry) error { return errLogDown }

// A read the access log cannot record is not answered: not a page, not a detail, not a byte of
// a file. A technician's reads do not touch the log.
func TestUnrecordedAuditorReadsFail(t *testing.T) {
	w := newAuditedWorld(t)
	ctx := context.Background()
	ann := w.auditor(t, "ann@example.com", app.GrantAuditorAccess{CompanyID: w.companyID})
	for name, log := range map[string]app.AccessLog{"failing": failingLog{}, "none": nil} {
		t.Run(name, func(t *testing.T) {
			a := w.withReadModels(t, app.Config{RequestList: readmodels.NewRequestList(w.pool), RequestDetails: readmodels.NewDetails(w.pool),
				Directory: readmodels.NewDirectory(w.pool), AccessLog: log})
			qs, as := a.Queries(), app.Viewer{AuditorID: ann}
			failed := func(err error) bool {
				return errors.Is(err, errLogDown) || (log == nil && errors.Is(err, app.ErrNoAccessLog))
			}
			if page, err := qs.ListRequests(ctx, app.ListRequests{AuditorID: ann}); !failed(err) || page.Requests != nil {
				t.Errorf("list: %d rows, %v", len(page.Requests), err)
			}
			if d, err := qs.RequestDetails(ctx, as, w.closed); !failed(err) || d.ID != uuid.Nil {
				t.Errorf("details: %v, %v", d.ID, err)
			}
			if f, err := qs.OpenFile(ctx, as, w.closed, w.file); !failed(err) || f.Content != nil {
				t.Errorf("file: %v", err)
			}
			if events, err := qs.ReadHistory(ctx, as, w.closed); !failed(err) || events != nil {
				t.Errorf("history: %d events, %v", len(events), err)
			}
			if _, err := qs.RequestDetails(ctx, app.Viewer{TechnicianID: w.techs[0]}, w.closed); err != nil {
				t.Errorf("a technician's read: %v", err)
			}
		})
	}
}

// The access log's listing: an auditor sees the reads of their companies' requests, by anyone,
// and every list query; paging by cursor; the filters; bad cursors and limits.
func TestAuditorAccessLog(t *testing.T) {
	w := newAuditedWorld(t)
	ctx := context.Background()
	qs := w.app.Queries()
	acme := w.auditor(t, "acme@example.com", app.GrantAuditorAccess{CompanyID: w.companyID})
	globex := w.auditor(t, "globex@example.com", app.GrantAuditorAccess{CompanyID: w.globex})
	for _, id := range []uuid.UUID{w.closed, w.active, w.fresh} {
		if _, err := qs.RequestDetails(ctx, app.Viewer{AuditorID: acme}, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := qs.RequestDetails(ctx, app.Viewer{AuditorID: globex}, w.other); err != nil {
		t.Fatal(err)
	}
	if _, err := qs.ListRequests(ctx, app.ListRequests{AuditorID: globex, View: app.ViewCompleted}); err != nil {
		t.Fatal(err)
	}
	requestsOf := func(page app.AccessLogPage) []uuid.UUID {
		var out []uuid.UUID
		for _, e := range page.Entries {
			out = append(out, e.RequestID)
		}
		return out
	}
	t.Run("what each auditor sees", func(t *testing.T) {
		for name, tt := range map[string]struct {
			viewer uuid.UUID
			q      app.AccessLogQuery
			want   []uuid.UUID
		}{
			"Acme's auditor":           {acme, app.AccessLogQuery{}, []uuid.UUID{uuid.Nil, w.fresh, w.active, w.closed}},
			"Globex's auditor":         {globex, app.AccessLogQuery{}, []uuid.UUID{uuid.Nil, w.other}},
			"Acme's, one request":      {acme, app.AccessLogQuery{RequestID: w.active}, []uuid.UUID{w.active}},
			"Globex's, Acme's request": {globex, app.AccessLogQuery{RequestID: w.active}, nil},
			"Acme's, Globex's reads":   {acme, app.AccessLogQuery{AuditorID: globex}, []uuid.UUID{uuid.Nil}},
		} {
			t.Run(name, func(t *testing.T) {
				page, err := qs.AuditorAccessLog(ctx, tt.viewer, tt.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := requestsOf(page); !slices.Equal(got, tt.want) {
					t.Fatalf("entries about %v, want %v", got, tt.want)
				}
			})
		}
	})
	t.Run("pages", func(t *testing.T) {
		q := app.AccessLogQuery{Limit: 2}
		var got []uuid.UUID
		for range 5 {
			page, err := qs.AccessLog(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, requestsOf(page)...)
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
		if want := []uuid.UUID{uuid.Nil, w.other, w.fresh, w.active, w.closed}; !slices.Equal(got, want) {
			t.Fatalf("pages hold %v, want %v", got, want)
		}
	})
	t.Run("a read the queries do not record themselves", func(t *testing.T) {
		asOf := app.AccessEntry{Kind: "view_as_of", Params: map[string]string{"as_of": "2026-01-02T03:04:05Z", "view": "all"}}
		if err := qs.RecordAccess(ctx, app.Viewer{TechnicianID: w.techs[0]}, asOf); err != nil {
			t.Fatal(err)
		}
		if err := qs.RecordAccess(ctx, app.Viewer{AuditorID: acme, ClientIP: "198.51.100.4"}, asOf); err != nil {
			t.Fatal(err)
		}
		page, err := qs.AccessLog(ctx, app.AccessLogQuery{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		got := page.Entries[0]
		if got.Kind != "view_as_of" || got.AuditorID != acme || got.ClientIP != "198.51.100.4" || got.Params["as_of"] != "2026-01-02T03:04:05Z" ||
			page.Entries[1].Kind == "view_as_of" {
			t.Fatalf("entries %+v: want the auditor's read alone", page.Entries)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for name, tt := range map[string]struct {
			q    app.AccessLogQuery
			want error
		}{
			"a cursor of the list": {app.AccessLogQuery{Cursor: app.ListCursor{Sort: app.SortID, ID: uuid.New()}.String()}, app.ErrInvalidAccessCursor},
			"garbage":              {app.AccessLogQuery{Cursor: "%%%"}, app.ErrInvalidAccessCursor},
			"a limit too large":    {app.AccessLogQuery{Limit: 201}, app.ErrInvalidLimit},
			"a negative limit":     {app.AccessLogQuery{Limit: -1}, app.ErrInvalidLimit},
			"since after until":    {app.AccessLogQuery{Since: time.Now(), Until: time.Now().Add(-time.Second)}, app.ErrInvalidTimeRange},
		} {
			t.Run(name, func(t *testing.T) {
				if _, err := qs.AuditorAccessLog(ctx, acme, tt.q); !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
			})
		}
		if _, err := qs.AuditorAccessLog(ctx, uuid.New(), app.AccessLogQuery{}); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("an unknown auditor: %v", err)
		}
	})
}
