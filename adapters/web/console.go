package web

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/text"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/clientinfo"
)

// maxFormBody caps a form that is not an upload.
const maxFormBody = 64 << 10

// technician resolves the session cookie. A page without a session goes to the login page; a
// form without the session's CSRF token is refused with 403 and changes nothing. Uploads check
// their token themselves, before they read the file.
func (h *Handler) technician(fn func(w http.ResponseWriter, r *http.Request, s app.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		creds := h.cfg.Accounts.Credentials()
		var session app.Session
		err := app.ErrNoSession
		if c, cerr := r.Cookie(SessionCookie); cerr == nil && c.Value != "" {
			session, err = creds.LookupSession(r.Context(), c.Value)
		}
		if errors.Is(err, app.ErrNoSession) {
			switch {
			case strings.HasPrefix(r.URL.Path, "/console/fragments/") || r.URL.Path == "/console/events":
				http.Error(w, "Your session has ended; log in again.", http.StatusUnauthorized)
			default:
				http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			}
			return
		}
		if err != nil {
			h.failed(w, r, err, false, "")
			return
		}
		if r.Method == http.MethodPost && r.PathValue("action") != "files" {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
			if err := r.ParseForm(); err != nil || !creds.CheckCSRF(session, r.PostForm.Get("csrf_token")) {
				h.errorPage(w, r, http.StatusForbidden, "")
				return
			}
		}
		fn(w, r, session)
	}
}

// ---- login and logout ----

type loginData struct {
	page
	Email string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if _, err := h.cfg.Accounts.Credentials().LookupSession(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, "/console", http.StatusSeeOther)
			return
		}
	}
	h.render(w, r, http.StatusOK, "login", loginData{page: page{Title: "Log in", Body: "plain", CSRF: h.formToken(w, r), Error: h.takeFlash(w, r)}})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil || !checkFormToken(r, r.PostForm.Get("csrf_token")) {
		h.errorPage(w, r, http.StatusForbidden, "")
		return
	}
	email, password := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
	fail := func(status int, msg string) {
		h.render(w, r, status, "login", loginData{page: page{Title: "Log in", Body: "plain", CSRF: h.formToken(w, r), Error: msg}, Email: email})
	}
	if email == "" || password == "" {
		fail(http.StatusUnprocessableEntity, "Enter your e-mail address and your password.")
		return
	}
	session, err := h.cfg.Accounts.LoginFrom(r.Context(), clientinfo.IP(r, h.cfg.TrustProxyHeaders), email, password)
	var throttled *app.LoginThrottledError
	switch {
	case errors.Is(err, app.ErrBadCredentials):
		fail(http.StatusUnauthorized, "Wrong e-mail address or password.")
		return
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(throttled.RetrySeconds()))
		who := "for this e-mail address"
		if throttled.ByAddress {
			who = "from your network address"
		}
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins %s. Wait %s before trying again; until then the password is not checked.", who, humanDuration(throttled.RetrySeconds())))
		return
	case errors.Is(err, app.ErrAccountLocked):
		fail(http.StatusLocked, "This account is locked after too many failed logins. Ask an administrator to unlock it.")
		return
	}
	if err != nil {
		if clientGone(r.Context(), err) {
			h.failed(w, r, err, false, "")
			return
		}
		fail(http.StatusInternalServerError, h.message(r.Context(), err))
		return
	}
	h.setCookie(w, SessionCookie, session.Token, "/", session.ExpiresAt, 0)
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// humanDuration says a number of seconds the way a person would.
func humanDuration(seconds int) string {
	switch minutes := (seconds + 59) / 60; {
	case seconds <= 1:
		return "1 second"
	case seconds < 60:
		return strconv.Itoa(seconds) + " seconds"
	case minutes == 1:
		return "1 minute"
	default:
		return strconv.Itoa(minutes) + " minutes"
	}
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s app.Session) {
	if err := h.cfg.Accounts.Credentials().DeleteSession(r.Context(), s.Token); err != nil {
		h.failed(w, r, err, false, "")
		return
	}
	h.setCookie(w, SessionCookie, "", "/", time.Time{}, -1)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// returnTo is a console address to come back to after a header form, or /console.
func returnTo(s string) string {
	// Printable ASCII only (text.Header): a control character would go out in the Location
	// header, which no client can read, and a browser sends anything else percent-encoded.
	if !strings.HasPrefix(s, "/console") || strings.ContainsAny(s, "\\") || strings.HasPrefix(s, "//") || text.Header(s) != nil {
		return "/console"
	}
	return s
}

func (h *Handler) setAvailability(w http.ResponseWriter, r *http.Request, s app.Session) {
	back := returnTo(r.PostForm.Get("return_to"))
	res, err := h.cfg.App.SetAvailability(r.Context(), meta(technicianActor(s.TechnicianID)), app.SetAvailability{
		TechnicianID: s.TechnicianID, Availability: directory.Availability(r.PostForm.Get("availability")),
	})
	if err != nil {
		h.setFlash(w, h.message(r.Context(), err))
	} else {
		h.setSeen(w, res)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// ---- the console page ----

type consoleData struct {
	page
	List    listPanel
	Mine    minePanel
	Details *detailsPanel
}

// consolePage is the Support Requests and My Support Requests panels, and the Details panel
// of one request when the address names one.
func (h *Handler) consolePage(w http.ResponseWriter, r *http.Request, s app.Session) {
	ctx := r.Context()
	var current uuid.UUID
	if r.PathValue("requestID") != "" {
		id, ok := pathID(r, "requestID")
		if !ok {
			h.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		current = id
	}
	h.awaitSeen(w, r)
	since := h.live.position()
	if !since.IsStart() {
		_, _ = h.cfg.App.WaitForPosition(ctx, since)
	}
	profile, err := h.cfg.App.Profile(ctx, s.TechnicianID)
	if err != nil {
		h.failed(w, r, err, false, "")
		return
	}
	data := consoleData{page: page{
		Title: "Support Center", Body: "console", CSRF: s.CSRFToken, Error: h.takeFlash(w, r),
		Tech: header(profile), ReturnTo: r.URL.RequestURI(), Events: "/console/events", Since: positionText(since),
	}}
	if current != uuid.Nil {
		d, err := h.detailsPanel(r, s, current)
		if err != nil {
			if isNotFound(err) {
				h.errorPage(w, r, http.StatusNotFound, "")
				return
			}
			h.failed(w, r, err, false, "")
			return
		}
		data.Details = d
		data.Title = "Request from " + d.D.Customer.Name + " · Support Center"
	}
	data.List = h.listPanel(r, s, profile, current)
	data.Mine = h.minePanel(r, s, current)
	h.render(w, r, http.StatusOK, "console", data)
}

func header(p app.TechnicianProfile) *techHeader {
	t := &techHeader{Name: p.Name, Availability: string(p.Availability)}
	for _, a := range []directory.Availability{directory.Available, directory.Busy, directory.Away} {
		label := strings.ToUpper(string(a[:1])) + string(a[1:])
		t.Options = append(t.Options, option{Value: string(a), Label: label, Selected: a == p.Availability})
	}
	if p.Availability == directory.Offline || p.Availability == "" {
		t.Options = append(t.Options, option{Value: string(directory.Offline), Label: "Offline", Selected: true})
	}
	return t
}

func (h *Handler) supportRequestsFragment(w http.ResponseWriter, r *http.Request, s app.Session) {
	h.waitForPosition(r)
	profile, err := h.cfg.App.Profile(r.Context(), s.TechnicianID)
	if err != nil {
		h.failed(w, r, err, true, "The list could not be loaded; reload the page.")
		return
	}
	current, _ := uuid.Parse(r.URL.Query().Get("current"))
	h.renderTemplate(w, r, http.StatusOK, "console", "support-requests", h.listPanel(r, s, profile, current))
}

func (h *Handler) myRequestsFragment(w http.ResponseWriter, r *http.Request, s app.Session) {
	h.waitForPosition(r)
	current, _ := uuid.Parse(r.URL.Query().Get("current"))
	h.renderTemplate(w, r, http.StatusOK, "console", "my-requests", h.minePanel(r, s, current))
}

func (h *Handler) detailsFragment(w http.ResponseWriter, r *http.Request, s app.Session) {
	h.waitForPosition(r)
	id, ok := pathID(r, "requestID")
	if !ok {
		http.Error(w, "Not found.", http.StatusNotFound)
		return
	}
	d, err := h.detailsPanel(r, s, id)
	if err != nil {
		if isNotFound(err) {
			http.Error(w, "Not found.", http.StatusNotFound)
			return
		}
		h.failed(w, r, err, true, "The request could not be loaded; reload the page.")
		return
	}
	h.renderTemplate(w, r, http.StatusOK, "console", "details", consoleData{page: page{CSRF: s.CSRFToken}, Details: d})
}

// ---- the Support Requests panel (R2, R3) ----

type listPanel struct {
	Fragment string
	Views    []viewLink
	Columns  []column
	Rows     []listRow
	Empty    string
	Error    string
	Next     string
	Total    int
}

type viewLink struct {
	Name, Label, Href string
	Current           bool
}

type column struct {
	Key, Label, Href string
	// Sort is the aria-sort value: "ascending", "descending" or "none".
	Sort string
}

type listRow struct {
	ID        uuid.UUID
	Href      string
	Submitted time.Time
	Customer  string
	Company   string
	Status    string
	Assignee  string
	Current   bool
}

var views = []struct {
	name  app.View
	label string
}{{app.ViewAll, "All"}, {app.ViewNew, "New"}, {app.ViewActive, "Active"}, {app.ViewCompleted, "Completed"}}

var columns = []struct {
	key   app.SortColumn
	label string
}{
	{app.SortSubmitted, "Submitted"}, {app.SortID, "Request ID"}, {app.SortCustomer, "Customer"},
	{app.SortCompany, "Company"}, {app.SortStatus, "Status"}, {app.SortAssignee, "Assignee"},
}

func (h *Handler) listPanel(r *http.Request, s app.Session, profile app.TechnicianProfile, current uuid.UUID) listPanel {
	q := r.URL.Query()
	view := app.View(q.Get("view"))
	if !slices.ContainsFunc(views, func(v struct {
		name  app.View
		label string
	}) bool {
		return v.name == view
	}) {
		view = app.ViewAll
	}
	sort := app.SortColumn(q.Get("sort"))
	if !slices.ContainsFunc(columns, func(c struct {
		key   app.SortColumn
		label string
	}) bool {
		return c.key == sort
	}) {
		sort = app.SortSubmitted
	}
	desc := q.Get("order") == "desc"
	if q.Get("order") == "" && sort == app.SortSubmitted {
		desc = true // newest first unless asked otherwise
	}
	order := map[bool]string{false: "asc", true: "desc"}
	base := "/console"
	if current != uuid.Nil {
		base = "/console/requests/" + current.String()
	}
	link := func(v app.View, col app.SortColumn, descending bool, cursor string) string {
		u := url.Values{"view": {string(v)}, "sort": {string(col)}, "order": {order[descending]}}
		if cursor != "" {
			u.Set("cursor", cursor)
		}
		return base + "?" + u.Encode()
	}
	frag := url.Values{"view": {string(view)}, "sort": {string(sort)}, "order": {order[desc]}}
	if current != uuid.Nil {
		frag.Set("current", current.String())
	}
	p := listPanel{Fragment: "/console/fragments/support-requests?" + frag.Encode()}
	for _, v := range views {
		p.Views = append(p.Views, viewLink{Name: string(v.name), Label: v.label, Href: link(v.name, sort, desc, ""), Current: v.name == view})
	}
	for _, c := range columns {
		col := column{Key: string(c.key), Label: c.label, Sort: "none"}
		nextDesc := false
		if c.key == sort {
			col.Sort = map[bool]string{false: "ascending", true: "descending"}[desc]
			nextDesc = !desc
		}
		col.Href = link(view, c.key, nextDesc, "")
		p.Columns = append(p.Columns, col)
	}
	page, err := h.cfg.App.ListRequests(r.Context(), app.ListRequests{
		TechnicianID: s.TechnicianID, View: view, Sort: sort, Descending: desc, Limit: 50, Cursor: q.Get("cursor"),
	})
	if err != nil {
		p.Error = "The list could not be shown: " + h.message(r.Context(), err)
		return p
	}
	p.Total = page.Total
	for _, s := range page.Requests {
		row := listRow{ID: s.ID, Href: "/console/requests/" + s.ID.String(), Submitted: s.SubmittedAt,
			Customer: s.CustomerName, Company: s.CompanyName, Status: string(s.Status), Assignee: "Unassigned", Current: s.ID == current}
		if s.Assignee != nil {
			row.Assignee = cmp.Or(s.Assignee.Name, "A technician")
		}
		if q := r.URL.Query(); q.Has("view") || q.Has("sort") {
			row.Href += "?" + url.Values{"view": {string(view)}, "sort": {string(sort)}, "order": {order[desc]}}.Encode()
		}
		p.Rows = append(p.Rows, row)
	}
	if page.NextCursor != "" {
		p.Next = link(view, sort, desc, page.NextCursor)
	}
	if len(p.Rows) == 0 {
		p.Empty = "There are no requests in this view."
		if profile.Availability != directory.Available && (view == app.ViewAll || view == app.ViewNew) {
			p.Empty += " New, unassigned requests show only while your status is Available."
		}
	}
	return p
}

// ---- My Support Requests (R4) ----

type minePanel struct {
	Fragment string
	Rows     []listRow
	Error    string
}

func (h *Handler) minePanel(r *http.Request, s app.Session, current uuid.UUID) minePanel {
	p := minePanel{Fragment: "/console/fragments/my-requests"}
	if current != uuid.Nil {
		p.Fragment += "?current=" + current.String()
	}
	page, err := h.cfg.App.ListRequests(r.Context(), app.ListRequests{
		TechnicianID: s.TechnicianID, View: app.ViewActive, MineOnly: true, Sort: app.SortSubmitted, Limit: 200,
	})
	if err != nil {
		p.Error = "Your requests could not be shown: " + h.message(r.Context(), err)
		return p
	}
	for _, s := range page.Requests {
		p.Rows = append(p.Rows, listRow{ID: s.ID, Href: "/console/requests/" + s.ID.String(), Submitted: s.SubmittedAt,
			Customer: s.CustomerName, Company: s.CompanyName, Status: string(s.Status), Current: s.ID == current})
	}
	return p
}

// ---- the Details panel (R14) ----

type detailsPanel struct {
	D           app.RequestDetails
	Base        string
	Fragment    string
	Actions     []request.Action
	Targets     []option
	Accept      string
	Allowed     string
	Entries     []entryView
	ComposerKey string
	Assignee    string
}

func (h *Handler) detailsPanel(r *http.Request, s app.Session, id uuid.UUID) (*detailsPanel, error) {
	ctx := r.Context()
	d, err := h.cfg.App.RequestDetails(ctx, app.Viewer{TechnicianID: s.TechnicianID}, id)
	if err != nil {
		return nil, err
	}
	base := "/console/requests/" + id.String()
	p := &detailsPanel{D: d, Base: base, Fragment: "/console/fragments/details/" + id.String(), Actions: d.Actions, Assignee: "Unassigned"}
	if d.Assignee != nil {
		p.Assignee = cmp.Or(d.Assignee.Name, "A technician")
	}
	exts := request.AllowedExtensions(request.TechnicianSide, d.Source.Platform)
	p.Accept, p.Allowed = strings.Join(exts, ","), strings.Join(exts, " ")
	for _, e := range d.Entries {
		p.Entries = append(p.Entries, describe(e, d.Customer.Name, base+"/files/", true))
	}
	var key []string
	for _, a := range d.Actions {
		switch a {
		case request.ActionSendMessage, request.ActionAddNote, request.ActionUploadFile:
			key = append(key, string(a))
		}
	}
	p.ComposerKey = strings.Join(key, " ")
	if slices.Contains(d.Actions, request.ActionTransfer) {
		p.Targets = h.transferTargets(r, s.TechnicianID, d.CompanyID)
	}
	return p, nil
}

// transferTargets are the other technicians with access to the company.
func (h *Handler) transferTargets(r *http.Request, me, company uuid.UUID) []option {
	names, err := h.cfg.App.Technicians(r.Context())
	if err != nil {
		return nil
	}
	var out []option
	for id, name := range names {
		if id == me || len(out) >= 200 {
			continue
		}
		t, err := h.cfg.App.Technician(r.Context(), id)
		if err != nil || !t.HasAccess(company) {
			continue
		}
		label := name
		if t.Availability() != directory.Available {
			label += " (" + string(t.Availability()) + ")"
		}
		out = append(out, option{Value: id.String(), Label: label})
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out
}

// entryView is one line of the chat as a page shows it.
type entryView struct {
	Kind    string
	Side    string
	Who     string
	Text    string
	Body    string
	Private bool
	File    *app.FileEntry
	FileURL string
	At      time.Time
}

// describe writes a chat entry in words; forTechnician adds what only technicians see.
func describe(e app.Entry, customer, filesURL string, forTechnician bool) entryView {
	v := entryView{Kind: e.Kind, Side: string(e.From), At: e.At, Body: e.Body}
	tech := "A technician"
	if e.Technician != nil && e.Technician.Name != "" {
		tech = e.Technician.Name
	}
	if e.From == request.CustomerSide {
		v.Who = cmp.Or(customer, "The customer")
		if !forTechnician {
			v.Who = "You"
		}
	} else {
		v.Who = tech
	}
	switch e.Kind {
	case "message":
	case "note":
		v.Private = true
	case "file":
		v.File = e.File
		if e.File != nil {
			v.FileURL = filesURL + e.File.ID.String()
		}
	default:
		v.Body = ""
		switch strings.TrimSuffix(e.Event, ".v1") {
		case "request.submitted":
			v.Text = "Request submitted"
		case "request.assigned":
			v.Text = "Assigned to " + tech
		case "request.unassigned":
			v.Text = tech + " gave the request back"
		case "request.transferred":
			v.Text = "Transferred to " + tech
		case "request.chat_joined":
			v.Text = tech + " joined the chat"
		case "request.screen_sharing_requested":
			v.Text = tech + " asked to see the screen"
		case "request.screen_sharing_accepted":
			v.Text = "Screen sharing accepted"
		case "request.screen_sharing_declined":
			v.Text = "Screen sharing declined"
		case "request.mobile_profile_sent":
			v.Text = "Mobile profile sent: " + e.Body
		case "request.chat_ended":
			v.Text = "The chat has ended"
		case "request.closed":
			v.Text = "The request was closed"
		default:
			v.Text = e.Event
		}
	}
	return v
}

// ---- actions ----

func (h *Handler) technicianAction(w http.ResponseWriter, r *http.Request, s app.Session) {
	id, ok := pathID(r, "requestID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	ctx, m, a := r.Context(), meta(technicianActor(s.TechnicianID)), h.cfg.App
	var res app.Result
	var err error
	switch r.PathValue("action") {
	case "assign":
		res, err = a.AssignToMe(ctx, m, id)
	case "unassign":
		res, err = a.Unassign(ctx, m, id)
	case "transfer":
		to, perr := uuid.Parse(r.PostForm.Get("technician_id"))
		if perr != nil {
			h.setFlash(w, "Choose the technician to transfer the request to.")
			http.Redirect(w, r, "/console/requests/"+id.String(), http.StatusSeeOther)
			return
		}
		res, err = a.Transfer(ctx, m, id, to)
	case "join":
		res, err = a.JoinChat(ctx, m, id)
	case "messages":
		res, err = a.SendTechnicianMessage(ctx, m, id, uuid.New(), r.PostForm.Get("body"))
	case "notes":
		res, err = a.AddNote(ctx, m, id, uuid.New(), r.PostForm.Get("body"))
	case "screen-sharing":
		res, err = a.RequestScreenSharing(ctx, m, id)
	case "mobile-profiles":
		res, err = a.SendMobileProfile(ctx, m, id, r.PostForm.Get("profile"))
	case "end-chat":
		res, err = a.EndChat(ctx, m, id)
	case "close":
		res, err = a.Close(ctx, m, id)
	case "files":
		var forbidden bool
		forbidden, err = h.upload(w, r, id, func(token string) bool {
			return h.cfg.Accounts.Credentials().CheckCSRF(s, token)
		}, func(up app.Upload) (app.Result, error) {
			res, err = a.ShareTechnicianFile(ctx, m, up)
			return res, err
		})
		if forbidden {
			h.errorPage(w, r, http.StatusForbidden, "")
			return
		}
	default:
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	h.actionDone(w, r, res, err, "/console/requests/"+id.String())
}

// actionDone answers a form action: a request the caller may not see is a 404 (R2); any other
// failure is a flash message on the page the action came from; a success remembers the
// position it wrote, so that the next page waits for the read models to show it.
func (h *Handler) actionDone(w http.ResponseWriter, r *http.Request, res app.Result, err error, page string) {
	if err != nil {
		if isNotFound(err) {
			h.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		h.setFlash(w, h.message(r.Context(), err))
	} else {
		h.setSeen(w, res)
	}
	http.Redirect(w, r, page, http.StatusSeeOther)
}

// Errors of an upload form.
var (
	errNoFile    = errors.New("choose a file to share")
	errUploadCut = errors.New("the upload was cut short; try again")
)

// upload reads a multipart form whose csrf_token comes before its file, within the size
// limit, and shares the file. forbidden is true when the token is missing or wrong: nothing
// was read past it and nothing was written.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, requestID uuid.UUID, checkToken func(string) bool, share func(app.Upload) (app.Result, error)) (forbidden bool, err error) {
	mt, params, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil || !checkToken(r.PostForm.Get("csrf_token")) {
			return true, nil
		}
		return false, errNoFile
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.App.MaxFileSize()+64<<10)
	reader := multipart.NewReader(r.Body, params["boundary"])
	tokenOK := false
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return !tokenOK, errNoFile
		}
		if err != nil {
			var maxBytes *http.MaxBytesError
			if errors.As(err, &maxBytes) {
				return !tokenOK, app.ErrFileTooLarge
			}
			return !tokenOK, errUploadCut
		}
		switch part.FormName() {
		case "csrf_token":
			b, _ := io.ReadAll(io.LimitReader(part, 512))
			tokenOK = checkToken(string(b))
			if !tokenOK {
				return true, nil
			}
		case "file":
			if !tokenOK {
				return true, nil
			}
			name := path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
			if part.FileName() == "" || name == "." || name == "/" {
				return false, errNoFile
			}
			_, err := share(app.Upload{RequestID: requestID, FileID: uuid.New(), Name: name, Content: part})
			return false, err
		}
		_ = part.Close()
	}
}

// download sends a shared file as an attachment, never rendered by the browser.
func (h *Handler) download(w http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) {
	fileID, ok := pathID(r, "fileID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	f, err := h.cfg.App.OpenFile(r.Context(), viewer, requestID, fileID)
	if err != nil {
		if isNotFound(err) {
			h.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		h.failed(w, r, err, false, "")
		return
	}
	defer f.Content.Close()
	hd := w.Header()
	hd.Set("Content-Type", f.ContentType)
	hd.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	hd.Set("Content-Disposition", cmp.Or(mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}), "attachment"))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, f.Content)
}

func (h *Handler) technicianDownload(w http.ResponseWriter, r *http.Request, s app.Session) {
	id, ok := pathID(r, "requestID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	h.download(w, r, app.Viewer{TechnicianID: s.TechnicianID}, id)
}
