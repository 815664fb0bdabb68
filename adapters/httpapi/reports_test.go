package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/analytics"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// GET /api/v1/reports answers the Reports figures of the caller's companies, from the analytics
// tables: a technician's, an auditor's (recorded in the access log first); another company's
// is 404, a bad period 422, an unknown or repeated parameter 400. Every answer is checked
// against the OpenAPI document by the harness.
func TestReportRoute(t *testing.T) {
	t.Parallel()
	loadSpec(t) // the document every answer is checked against
	svc := servicetest.New(t, apiConfig)
	e := serve(t, svc)
	acme, globex := e.createCompany(t, "Acme"), e.createCompany(t, "Globex")
	acmePortal, globexPortal := e.createPortal(t, acme, "Acme support"), e.createPortal(t, globex, "Globex help")
	alice := e.technician(t, "Alice Tech", acme)
	answered, _ := e.submit(t, acmePortal, uaWindows)
	alice.post(t, reqPath(answered, "assign"), nil).want(t, http.StatusOK)
	alice.post(t, reqPath(answered, "join"), nil).want(t, http.StatusOK)
	alice.post(t, reqPath(answered, "messages"), map[string]string{"body": "On it"}).want(t, http.StatusCreated)
	alice.post(t, reqPath(answered, "close"), nil).want(t, http.StatusOK)
	e.submit(t, acmePortal, uaWindows)   // waiting
	e.submit(t, globexPortal, uaWindows) // not Alice's
	// The log delivers an event once every older transaction on the server ended: wait until
	// the whole history is readable, so that the rebuild reads all of it. Its end is the newest
	// event, not the Head, which keeps below every transaction still open (a process manager's
	// tick is one) and may not include the last events yet.
	head, err := svc.Store.(interface {
		Newest(context.Context) (eventlog.Position, error)
	}).Newest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.WaitFor(context.Background(), head, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := analytics.Rebuild(context.Background(), analytics.RebuildConfig{DB: svc.Pool, Store: svc.Store}); err != nil {
		t.Fatal(err)
	}

	today := time.Now().UTC().Format(time.DateOnly)
	var rep app.Report
	alice.get(t, "/api/v1/reports").want(t, http.StatusOK).decode(t, &rep)
	last := rep.Days[len(rep.Days)-1]
	if len(rep.Days) != 30 || last.Day.Format(time.DateOnly) != today {
		t.Fatalf("the default period: %d days ending %s, want 30 ending today", len(rep.Days), last.Day)
	}
	if want := (app.ReportOutcomes{Waiting: 1, Answered: 1}); last.Outcomes != want || last.TimeToAssign.Count != 1 || last.TimeToFirstReply.Count != 1 {
		t.Fatalf("today: %+v, want %+v with one of each timer", last, want)
	}
	if len(rep.Companies) != 1 || rep.Companies[0].ID != acme || len(rep.Technicians) != 1 || rep.Technicians[0].Name != "Alice Tech" {
		t.Fatalf("groups: %+v %+v, want Acme and Alice alone", rep.Companies, rep.Technicians)
	}
	alice.get(t, "/api/v1/reports?from="+today+"&to="+today+"&company="+acme.String()).want(t, http.StatusOK).decode(t, &rep)
	if len(rep.Days) != 1 || rep.Days[0].Outcomes.Total() != 2 {
		t.Fatalf("one day of Acme: %+v", rep.Days)
	}

	alice.get(t, "/api/v1/reports?company="+globex.String()).wantErr(t, http.StatusNotFound, "not_found")
	alice.get(t, "/api/v1/reports?company="+uuid.NewString()).wantErr(t, http.StatusNotFound, "not_found")
	for query, code := range map[string]string{
		"from=2026-11-10&to=2026-11-09": "invalid",
		"from=2024-01-01&to=2026-11-09": "invalid",
		"from=yesterday":                "invalid",
		"company=acme":                  "invalid",
	} {
		alice.get(t, "/api/v1/reports?"+query).wantErr(t, http.StatusUnprocessableEntity, code)
	}
	alice.get(t, "/api/v1/reports?from=2026-11-01&from=2026-11-02").wantErr(t, http.StatusBadRequest, "unknown_parameter")
	alice.get(t, "/api/v1/reports?view=all").wantErr(t, http.StatusBadRequest, "unknown_parameter")
	e.anonymous().get(t, "/api/v1/reports").wantErr(t, http.StatusUnauthorized, "unauthorized")

	auditorID := e.registerAuditor(t, "Ann Audit", "ann@example.com", globex)
	ann, _ := e.loginAuditor(t, "ann@example.com")
	ann.get(t, "/api/v1/reports?from="+today+"&to="+today).want(t, http.StatusOK).decode(t, &rep)
	if len(rep.Companies) != 1 || rep.Companies[0].ID != globex || rep.Days[0].Outcomes != (app.ReportOutcomes{Waiting: 1}) {
		t.Fatalf("the auditor of Globex: %+v %+v", rep.Companies, rep.Days)
	}
	ann.get(t, "/api/v1/reports?company="+acme.String()).wantErr(t, http.StatusNotFound, "not_found")
	var page app.AccessLogPage
	ann.get(t, "/api/v1/audit/access-log?auditor="+auditorID.String()).want(t, http.StatusOK).decode(t, &page)
	if len(page.Entries) != 1 || page.Entries[0].Kind != app.AccessReport || page.Entries[0].Params["from"] != today || page.Entries[0].Params["to"] != today {
		t.Fatalf("the access log: %+v, want the one report read", page.Entries)
	}
}
