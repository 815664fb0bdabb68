package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/asof"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/timeline"
)

const auditHistorySummary = "a request's history: every event in order with its time, actor, type and what changed, and the request's state after it; --as-of or --version stop there"

func runAuditHistory(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("audit history", auditHistorySummary+"\n\nUsage: helpstream audit history REQUEST_ID [--as-of TIME | --version N] [--format text|json|csv]", out)
	asOf := fs.String("as-of", "", "stop at this moment (2026-12-04T15:04:05Z, or UTC 2026-12-04 15:04:05) and print the state then")
	version := fs.Int64("version", -1, "stop after this event's version and print the state then")
	format := fs.String("format", "text", "text, json or csv")
	flags := addProjectionFlags(fs)
	operands, help, err := parseOperands(fs, args)
	if help || err != nil {
		return err
	}
	if len(operands) != 1 {
		return errors.New("audit history: give one request ID")
	}
	id, err := uuid.Parse(operands[0])
	if err != nil {
		return fmt.Errorf("audit history: %q is not a request ID", operands[0])
	}
	stop := timeline.End()
	switch {
	case *asOf != "" && *version >= 0:
		return errors.New("audit history: --as-of or --version, not both")
	case *asOf != "":
		t, err := parseInstant(*asOf)
		if err != nil {
			return fmt.Errorf("--as-of: %w", err)
		}
		stop = timeline.AsOf(t)
	case *version >= 0:
		stop = timeline.AtVersion(*version)
	}
	if *format != "text" && *format != "json" && *format != "csv" {
		return fmt.Errorf("--format must be text, json or csv, not %q", *format)
	}
	_, store, closeStores, err := openProjectionStores(ctx, flags)
	if err != nil {
		return err
	}
	defer closeStores()
	tl, err := timeline.Build(ctx, store, id, stop)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		err = writeJSON(out, tl)
	case "csv":
		err = writeTimelineCSV(out, tl)
	default:
		writeTimelineText(out, tl)
	}
	if err != nil {
		return err
	}
	if !tl.Verdict.OK {
		return errFindings
	}
	return nil
}

func writeTimelineText(out io.Writer, tl timeline.Timeline) {
	fmt.Fprintf(out, "request %s: %d events, %s\n", tl.RequestID, tl.Events, verdictText(tl.Verdict))
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tOCCURRED\tACTOR\tTYPE\tSUMMARY\tSTATE AFTER")
	for _, s := range tl.Steps {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", s.Version, s.OccurredAt.UTC().Format(time.RFC3339), s.ActorName, s.Type, s.Summary, stateText(&s.State))
	}
	w.Flush()
	if tl.State == nil {
		fmt.Fprintf(out, "\nat %s: the request did not exist yet\n", tl.Stop)
		return
	}
	st := tl.State
	assignee := "nobody"
	if st.Assignee != nil {
		assignee = st.Assignee.Name
	}
	fmt.Fprintf(out, "\nstate at %s (version %d of %d):\n", tl.Stop, st.Version, tl.Events-1)
	fmt.Fprintf(out, "  status %s, assigned to %s, chat %s, screen sharing %s\n", st.Status, assignee, st.Chat, st.ScreenSharing)
	fmt.Fprintf(out, "  company %s, customer %s <%s> on %s\n", st.CompanyName, st.CustomerName, st.CustomerEmail, st.Platform)
	fmt.Fprintf(out, "  %d messages, %d notes, %d files, last activity %s\n", st.Messages, st.Notes, st.Files, st.LastActivity.UTC().Format(time.RFC3339))
}

func verdictText(v timeline.Verdict) string {
	switch {
	case v.Chain != nil:
		return fmt.Sprintf("CHAIN BROKEN at version %d: %s", v.Chain.Version, v.Chain.Problem)
	case v.Fold != nil:
		return fmt.Sprintf("IMPOSSIBLE at version %d: %s", v.Fold.Version, v.Fold.Problem)
	default:
		return "hash chain holds, every event folds"
	}
}

func stateText(s *timeline.State) string {
	text := string(s.Status)
	if s.Assignee != nil {
		text += " · " + s.Assignee.Name
	}
	return text + " · chat " + string(s.Chat)
}

func writeTimelineCSV(out io.Writer, tl timeline.Timeline) error {
	w := csv.NewWriter(out)
	_ = w.Write([]string{"version", "position", "event_id", "type", "occurred_at", "recorded_at", "actor", "actor_name", "summary",
		"status", "assignee", "chat", "screen_sharing", "messages", "notes", "files", "closed"})
	for _, s := range tl.Steps {
		assignee := ""
		if s.State.Assignee != nil {
			assignee = s.State.Assignee.Name
		}
		_ = w.Write([]string{strconv.FormatInt(s.Version, 10), s.Position.String(), s.EventID.String(), s.Type,
			s.OccurredAt.UTC().Format(time.RFC3339Nano), s.RecordedAt.UTC().Format(time.RFC3339Nano), s.Actor, s.ActorName, s.Summary,
			string(s.State.Status), assignee, string(s.State.Chat), string(s.State.ScreenSharing),
			strconv.Itoa(s.State.Messages), strconv.Itoa(s.State.Notes), strconv.Itoa(s.State.Files), strconv.FormatBool(s.State.Closed)})
	}
	w.Flush()
	return w.Error()
}

const auditViewSummary = "the Support Requests list as it was at a moment: every company's requests, or a technician's panel (--technician) or queue (--mine), any view and sort, one page"

func runAuditView(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("audit view", auditViewSummary, out)
	asOfFlag := fs.String("as-of", "", "the moment (2026-12-04T15:04:05Z, or UTC 2026-12-04 15:04:05); required")
	view := fs.String("view", "all", "all, new, active or completed")
	sort := fs.String("sort", "submitted", "submitted, id, customer, company, status, assignee or last_activity")
	order := fs.String("order", "asc", "asc or desc")
	limit := fs.Int("limit", 50, "rows on the page, 1–200")
	cursor := fs.String("cursor", "", "the previous page's next cursor")
	technician := fs.String("technician", "", "a technician's ID: their Support Requests panel as they saw it then (their access and availability then, R2)")
	mine := fs.Bool("mine", false, "with --technician: their queue, My Support Requests (R4)")
	company := fs.String("company", "", "one company's requests")
	format := fs.String("format", "text", "text or json")
	flags := addProjectionFlags(fs)
	if help, err := parseFlagsOnly(fs, args); help || err != nil {
		return err
	}
	if *asOfFlag == "" {
		return errors.New("audit view: --as-of is required")
	}
	t, err := parseInstant(*asOfFlag)
	if err != nil {
		return fmt.Errorf("--as-of: %w", err)
	}
	if *order != "asc" && *order != "desc" {
		return fmt.Errorf("--order must be asc or desc, not %q", *order)
	}
	q := app.ListRequests{View: app.View(*view), Sort: app.SortColumn(*sort), Descending: *order == "desc", Limit: *limit, Cursor: *cursor, MineOnly: *mine}
	if *company != "" {
		if q.CompanyID, err = uuid.Parse(*company); err != nil {
			return fmt.Errorf("--company must be a company ID, not %q", *company)
		}
	}
	if *technician != "" {
		if q.TechnicianID, err = uuid.Parse(*technician); err != nil {
			return fmt.Errorf("--technician must be a technician ID, not %q", *technician)
		}
	} else if *mine {
		return errors.New("audit view: --mine goes with --technician")
	}
	_, store, closeStores, err := openProjectionStores(ctx, flags)
	if err != nil {
		return err
	}
	defer closeStores()
	snapshot, err := asof.At(ctx, store, t)
	if err != nil {
		return err
	}
	past, err := app.New(snapshot.AppConfig())
	if err != nil {
		return err
	}
	var page app.RequestPage
	if q.TechnicianID != uuid.Nil {
		page, err = past.Queries().ListRequests(ctx, q)
	} else {
		page, err = past.Queries().ListEveryRequest(ctx, q)
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(out, app.PastPage{RequestPage: page, AsOf: t, Position: snapshot.Position()})
	}
	fmt.Fprintf(out, "as of %s (log position %s, %d events): %d requests\n", t.UTC().Format(time.RFC3339), snapshot.Position(), snapshot.Events(), page.Total)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSUBMITTED\tCUSTOMER\tCOMPANY\tSTATUS\tASSIGNEE\tLAST ACTIVITY")
	for _, r := range page.Requests {
		assignee := ""
		if r.Assignee != nil {
			assignee = r.Assignee.Name
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.SubmittedAt.UTC().Format(time.RFC3339), r.CustomerName, r.CompanyName, r.Status, assignee, r.LastActivity.UTC().Format(time.RFC3339))
	}
	w.Flush()
	if page.NextCursor != "" {
		fmt.Fprintf(out, "next page: --cursor %s\n", page.NextCursor)
	}
	return nil
}

const auditAccessLogSummary = "the auditors' access log: who read which request (or which list) and when, newest first; it never holds request content"

func runAuditAccessLog(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("audit access-log", auditAccessLogSummary, out)
	auditor := fs.String("auditor", "", "one auditor's reads")
	requestFlag := fs.String("request", "", "the reads of one request")
	since := fs.String("since", "", "entries recorded at or after this moment")
	limit := fs.Int("limit", 50, "entries on the page, 1–200")
	cursor := fs.String("cursor", "", "the previous page's next cursor")
	format := fs.String("format", "text", "text or json")
	stores := addStoreFlags(fs)
	if help, err := parseFlagsOnly(fs, args); help || err != nil {
		return err
	}
	q := app.AccessLogQuery{Limit: *limit, Cursor: *cursor}
	var err error
	if *auditor != "" {
		if q.AuditorID, err = uuid.Parse(*auditor); err != nil {
			return fmt.Errorf("--auditor must be an auditor ID, not %q", *auditor)
		}
	}
	if *requestFlag != "" {
		if q.RequestID, err = uuid.Parse(*requestFlag); err != nil {
			return fmt.Errorf("--request must be a request ID, not %q", *requestFlag)
		}
	}
	if *since != "" {
		if q.Since, err = parseInstant(*since); err != nil {
			return fmt.Errorf("--since: %w", err)
		}
	}
	cfg, err := stores.config()
	if err != nil {
		return err
	}
	svc, err := service.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer svc.Close()
	page, err := svc.Queries.AccessLog(ctx, q)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(out, page)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SEQ\tAT\tAUDITOR\tKIND\tREQUEST\tPARAMS\tCLIENT")
	for _, e := range page.Entries {
		request := ""
		if e.RequestID != uuid.Nil {
			request = e.RequestID.String()
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%v\t%s\n", e.Seq, e.At.UTC().Format(time.RFC3339), e.AuditorID, e.Kind, request, e.Params, e.ClientIP)
	}
	w.Flush()
	if page.NextCursor != "" {
		fmt.Fprintf(out, "next page: --cursor %s\n", page.NextCursor)
	}
	return nil
}
