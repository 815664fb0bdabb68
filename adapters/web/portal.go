package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/clientinfo"
)

// customerTokenLifetime is how long a browser keeps a customer's access to their request.
const customerTokenLifetime = 30 * 24 * time.Hour

// customer resolves the customer's token from the cookie scoped to their request's pages. A
// request the browser holds no token for answers 404, like one that does not exist. Forms
// must carry the browser's double-submit token.
func (h *Handler) customer(fn func(w http.ResponseWriter, r *http.Request, requestID uuid.UUID)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(r, "requestID")
		notFound := func() {
			if strings.HasSuffix(r.URL.Path, "/events") || strings.HasSuffix(r.URL.Path, "/fragment") {
				http.Error(w, "Not found.", http.StatusNotFound)
				return
			}
			h.errorPage(w, r, http.StatusNotFound, "This request is not open in this browser. Open it from the browser you submitted it with.")
		}
		if !ok {
			notFound()
			return
		}
		c, err := r.Cookie(customerCookie)
		if err != nil || c.Value == "" {
			notFound()
			return
		}
		owned, err := h.cfg.Accounts.Credentials().CustomerRequest(r.Context(), c.Value)
		if errors.Is(err, app.ErrNoCustomerToken) || (err == nil && owned != id) {
			notFound()
			return
		}
		if err != nil {
			h.failed(w, r, err, false, "")
			return
		}
		if formPost(r) && !h.parseForm(w, r, formTokenOf(r)) {
			return
		}
		fn(w, r, id)
	}
}

// ---- the submit form ----

type portalData struct {
	page
	PortalName  string
	CompanyName string
	Name        string
	Email       string
	Description string
	Platforms   []option
	// SubmitToken is the form's one-time token: the request's ID derives from it and the
	// browser's form cookie, so the same form sent again (Back, then Submit) finds the request
	// it made instead of making another.
	SubmitToken string
}

// submitTokenOK is what a form's submit_token may be: what newSubmitToken makes, roughly.
func submitTokenOK(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// submissionNamespace names the request IDs derived from portal forms.
var submissionNamespace = uuid.MustParse("9a0f6a52-3c59-4c8e-8f3e-5b7f3c1d2e40")

// submissionID is the ID of the request a portal form makes: random without a usable token
// (a client that does not send one gets no protection, and no surprise), otherwise derived from
// the browser's form cookie, the portal and the form's token. The cookie is secret to the
// browser (HttpOnly, random), so the ID is unguessable and another browser sending the same
// token makes a request of its own.
func submissionID(r *http.Request, portalID uuid.UUID, token string) uuid.UUID {
	c, err := r.Cookie(formCookie)
	if err != nil || !submitTokenOK(token) {
		return uuid.New()
	}
	return uuid.NewSHA1(submissionNamespace, []byte(c.Value+"\x00"+portalID.String()+"\x00"+token))
}

var platformLabels = map[request.Platform]string{
	request.Windows: "Windows", request.Mac: "Mac", request.IOS: "iPhone or iPad (iOS)", request.Android: "Android",
}

func platformOptions(selected request.Platform) []option {
	var out []option
	for _, p := range request.Platforms {
		out = append(out, option{Value: string(p), Label: platformLabels[p], Selected: p == selected})
	}
	return out
}

func (h *Handler) portalInfo(r *http.Request, portalID uuid.UUID) (companyID uuid.UUID, portalName, companyName string, err error) {
	companyID, companyName, err = h.queries.PortalCompany(r.Context(), portalID)
	if err != nil {
		return uuid.Nil, "", "", err
	}
	company, err := h.cfg.App.Company(r.Context(), companyID)
	if err != nil {
		return uuid.Nil, "", "", err
	}
	p, ok := company.Portal(portalID)
	if !ok {
		return uuid.Nil, "", "", app.ErrUnknownPortal
	}
	return companyID, p.Name, companyName, nil
}

func (h *Handler) portalPage(w http.ResponseWriter, r *http.Request) {
	portalID, ok := pathID(r, "portalID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	_, portalName, companyName, err := h.portalInfo(r, portalID)
	if err != nil {
		h.portalError(w, r, err)
		return
	}
	platform, _, _, _ := clientinfo.Device(r.UserAgent())
	h.render(w, r, http.StatusOK, "portal", portalData{
		page:       page{Title: portalName, Body: "portal", CSRF: h.formToken(w, r), Error: h.takeFlash(w, r)},
		PortalName: portalName, CompanyName: companyName, Platforms: platformOptions(platform),
		SubmitToken: randomToken(),
	})
}

func (h *Handler) portalError(w http.ResponseWriter, r *http.Request, err error) {
	h.pageFailed(w, r, err, "This support portal does not exist. Check the address you were given.")
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	portalID, ok := pathID(r, "portalID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if !h.parseForm(w, r, formTokenOf(r)) {
		return
	}
	companyID, portalName, companyName, err := h.portalInfo(r, portalID)
	if err != nil {
		h.portalError(w, r, err)
		return
	}
	f := r.PostForm
	detected, osName, osVersion, browser := clientinfo.Device(r.UserAgent())
	platform := detected
	if f.Get("device_type") != "" {
		platform, err = request.ParsePlatform(f.Get("device_type"))
	}
	data := portalData{
		page:       page{Title: portalName, Body: "portal", CSRF: h.formToken(w, r)},
		PortalName: portalName, CompanyName: companyName,
		Name: f.Get("customer_name"), Email: f.Get("customer_email"), Description: f.Get("description"),
		Platforms: platformOptions(platform), SubmitToken: f.Get("submit_token"),
	}
	if !submitTokenOK(data.SubmitToken) {
		data.SubmitToken = randomToken()
	}
	failWith := func(status int, msg string) {
		data.Error = msg
		h.render(w, r, status, "portal", data)
	}
	fail := func(msg string) { failWith(http.StatusUnprocessableEntity, msg) }
	switch {
	case err != nil || platform == "":
		fail("Choose the kind of device you need help with: Windows, Mac, iPhone or iPad, or Android.")
		return
	case strings.TrimSpace(data.Name) == "" || strings.TrimSpace(data.Email) == "" || strings.TrimSpace(data.Description) == "":
		fail("Fill in your name, your e-mail address and a description of the problem.")
		return
	}
	if platform != detected {
		osName, osVersion = platformName(platform), "" // the browser said otherwise
	}
	requestID := submissionID(r, portalID, f.Get("submit_token"))
	sub, err := h.cfg.Accounts.SubmitRequestWithToken(r.Context(), meta(app.Actor{Kind: "customer"}), app.SubmitRequest{
		RequestID: requestID, PortalID: portalID, CompanyID: companyID,
		Customer:    request.Customer{Name: strings.TrimSpace(data.Name), Email: strings.TrimSpace(data.Email)},
		Description: data.Description,
		Source:      request.Source{IP: clientinfo.IP(r, h.cfg.TrustProxyHeaders), Platform: platform, OS: osName, OSVersion: osVersion, Browser: browser},
	})
	if err != nil {
		if isNotFound(err) {
			h.portalError(w, r, err)
			return
		}
		if httpserver.Classify(err).Code == "already_exists" {
			// This form was sent before (Back, then Submit): its request exists, and this
			// browser holds its cookie. Show it rather than make a second one.
			http.Redirect(w, r, "/portal/requests/"+requestID.String(), http.StatusSeeOther)
			return
		}
		if unavailable(err) {
			w.Header().Set("Retry-After", retryAfterSeconds)
			failWith(http.StatusServiceUnavailable, h.message(r.Context(), err))
			return
		}
		fail(h.message(r.Context(), err))
		return
	}
	where := "/portal/requests/" + sub.RequestID.String()
	h.setCookie(w, customerCookie, sub.CustomerToken, where, time.Now().Add(customerTokenLifetime), 0)
	http.Redirect(w, r, where, http.StatusSeeOther)
}

// ---- the request page ----

type requestData struct {
	page
	Panel *customerPanel
}

type customerPanel struct {
	D             app.RequestDetails
	Base          string
	Fragment      string
	Joined        string
	Entries       []entryView
	Actions       []request.Action
	Accept        string
	Allowed       string
	ComposerKey   string
	Closed        bool
	ScreenSharing bool
	CSRF          string
	// ProfileFiles are the mobile profile files the technician sent.
	ProfileFiles []profileLink
}

func (h *Handler) customerPanel(r *http.Request, id uuid.UUID, csrf string) (*customerPanel, error) {
	d, err := h.queries.RequestDetails(r.Context(), app.Viewer{CustomerOf: id}, id)
	if err != nil {
		return nil, err
	}
	base := "/portal/requests/" + id.String()
	p := &customerPanel{D: d, Base: base, Fragment: base + "/fragment", Actions: d.Actions, CSRF: csrf,
		Closed: d.Status == request.StatusCompleted, ScreenSharing: slices.Contains(d.Actions, request.ActionAcceptScreenSharing)}
	exts := request.AllowedExtensions(request.CustomerSide, d.Source.Platform)
	p.Accept, p.Allowed = strings.Join(exts, ","), strings.Join(exts, " ")
	p.ProfileFiles = profileLinks(d, base)
	for _, e := range d.Entries {
		if e.Kind == "note" {
			continue // private notes are the technicians' only
		}
		v := describe(e, d.Customer.Name, base+"/files/", false)
		if e.Kind == "event" && strings.HasPrefix(e.Event, "request.chat_joined.") {
			p.Joined = v.Text
		}
		p.Entries = append(p.Entries, v)
	}
	var key []string
	for _, a := range d.Actions {
		if a == request.ActionSendMessage || a == request.ActionUploadFile {
			key = append(key, string(a))
		}
	}
	p.ComposerKey = strings.Join(key, " ")
	return p, nil
}

func (h *Handler) requestPage(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	h.awaitSeen(w, r)
	since := h.live.position()
	if !since.IsStart() {
		_, _ = h.queries.WaitForPosition(r.Context(), since)
	}
	csrf := h.formToken(w, r)
	p, err := h.customerPanel(r, id, csrf)
	if err != nil {
		h.portalError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "request", requestData{
		page: page{Title: "Your support request", Body: "portal", CSRF: csrf, Error: h.takeFlash(w, r),
			Events: p.Base + "/events", Since: positionText(since)},
		Panel: p,
	})
}

func (h *Handler) requestFragment(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	h.waitForPosition(w, r)
	p, err := h.customerPanel(r, id, h.formToken(w, r))
	if err != nil {
		h.fragmentFailed(w, r, err, "Your request could not be loaded; reload the page.")
		return
	}
	h.renderTemplate(w, r, http.StatusOK, "request", "customer-panel", p)
}

func (h *Handler) customerAction(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	ctx, m, a := r.Context(), meta(customerActor(id)), h.cfg.App
	var res app.Result
	var err error
	switch r.PathValue("action") {
	case "messages":
		res, err = a.SendCustomerMessage(ctx, m, id, uuid.New(), r.PostForm.Get("body"))
	case "accept-screen-sharing":
		res, err = a.AcceptScreenSharing(ctx, m, id)
	case "decline-screen-sharing":
		res, err = a.DeclineScreenSharing(ctx, m, id)
	case "files":
		res, err = h.upload(w, r, id, formTokenOf(r), func(up app.Upload) (app.Result, error) {
			return a.ShareCustomerFile(ctx, m, up)
		})
	default:
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	h.actionDone(w, r, res, err, "/portal/requests/"+id.String())
}

func (h *Handler) customerDownload(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	h.download(w, r, app.Viewer{CustomerOf: id}, id)
}
