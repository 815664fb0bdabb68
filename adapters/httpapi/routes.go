package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/adapters/postgres/pgfault"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/clientinfo"
)

func (a *API) routes() {
	a.mux.HandleFunc("GET /api/v1/openapi.yaml", serveOpenAPI)
	a.handle("GET /healthz", a.health)

	// Customer side.
	a.handle("GET /api/v1/portals/{portalID}", a.getPortal)
	a.handle("POST /api/v1/portals/{portalID}/requests", a.submit)
	a.handle("GET /api/v1/customer/requests/{requestID}", a.customer(a.customerDetails))
	a.handle("POST /api/v1/customer/requests/{requestID}/messages", a.customer(a.customerMessage))
	a.handle("POST /api/v1/customer/requests/{requestID}/files", a.customer(a.customerUpload))
	a.handle("GET /api/v1/customer/requests/{requestID}/files/{fileID}", a.customer(a.customerDownload))
	a.handle("POST /api/v1/customer/requests/{requestID}/screen-sharing/accept", a.customer(a.customerScreenSharing(true)))
	a.handle("POST /api/v1/customer/requests/{requestID}/screen-sharing/decline", a.customer(a.customerScreenSharing(false)))

	// Technician side.
	a.handle("POST /api/v1/auth/login", a.login)
	a.handle("POST /api/v1/auth/logout", a.logout)
	a.handle("GET /api/v1/me", a.technician(a.me))
	a.handle("PUT /api/v1/me/availability", a.technician(a.setAvailability))
	a.handle("PUT /api/v1/me/notifications", a.technician(a.setNotifications))
	a.handle("GET /api/v1/requests", a.technician(a.listRequests))
	a.handle("GET /api/v1/requests/{requestID}", a.technician(a.details))
	a.handle("GET /api/v1/requests/{requestID}/history", a.technician(a.history))
	a.handle("POST /api/v1/requests/{requestID}/assign", a.technician(a.simple(a.cfg.App.AssignToMe)))
	a.handle("POST /api/v1/requests/{requestID}/unassign", a.technician(a.simple(a.cfg.App.Unassign)))
	a.handle("POST /api/v1/requests/{requestID}/transfer", a.technician(a.transfer))
	a.handle("POST /api/v1/requests/{requestID}/join", a.technician(a.simple(a.cfg.App.JoinChat)))
	a.handle("POST /api/v1/requests/{requestID}/messages", a.technician(a.technicianMessage))
	a.handle("POST /api/v1/requests/{requestID}/notes", a.technician(a.note))
	a.handle("POST /api/v1/requests/{requestID}/files", a.technician(a.technicianUpload))
	a.handle("GET /api/v1/requests/{requestID}/files/{fileID}", a.technician(a.technicianDownload))
	a.handle("POST /api/v1/requests/{requestID}/screen-sharing", a.technician(a.simple(a.cfg.App.RequestScreenSharing)))
	a.handle("POST /api/v1/requests/{requestID}/mobile-profiles", a.technician(a.mobileProfile))
	a.handle("POST /api/v1/requests/{requestID}/end-chat", a.technician(a.simple(a.cfg.App.EndChat)))
	a.handle("POST /api/v1/requests/{requestID}/close", a.technician(a.simple(a.cfg.App.Close)))

	// Admin side.
	a.handle("GET /api/v1/admin/projections", a.admin(a.projectionStatus))
	a.handle("GET /api/v1/admin/companies", a.admin(a.listCompanies))
	a.handle("POST /api/v1/admin/companies", a.admin(a.createCompany))
	a.handle("GET /api/v1/admin/companies/{companyID}", a.admin(a.getCompany))
	a.handle("POST /api/v1/admin/companies/{companyID}/portals", a.admin(a.createPortal))
	a.handle("GET /api/v1/admin/technicians", a.admin(a.listTechnicians))
	a.handle("POST /api/v1/admin/technicians", a.admin(a.registerTechnician))
	a.handle("GET /api/v1/admin/technicians/{technicianID}", a.admin(a.getTechnician))
	a.handle("PUT /api/v1/admin/technicians/{technicianID}/password", a.admin(a.setPassword))
	a.handle("POST /api/v1/admin/technicians/{technicianID}/access", a.admin(a.grantAccess))
	a.handle("DELETE /api/v1/admin/technicians/{technicianID}/access/{companyID}", a.admin(a.revokeAccess))
	a.handle("POST /api/v1/admin/technicians/{technicianID}/unlock", a.admin(a.unlockTechnician))
}

// health answers 200 when the server can serve: its database answers and its read models
// apply the log (Config.Health), and 503 with the reason otherwise, for a load balancer to
// route around it and an operator to read.
func (a *API) health(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	if a.cfg.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if err := a.cfg.Health(ctx); err != nil {
			if pgfault.Transient(err) || errors.Is(err, context.DeadlineExceeded) {
				e := errorf(http.StatusServiceUnavailable, "unavailable", "the database does not answer: "+err.Error())
				e.RetryAfter = httpserver.RetryAfter
				return 0, nil, e
			}
			return 0, nil, errorf(http.StatusServiceUnavailable, "unhealthy", err.Error())
		}
	}
	body := map[string]any{"status": "ok"}
	if a.cfg.HealthReport != nil {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		report, err := a.cfg.HealthReport(ctx)
		if err != nil {
			return 0, nil, fmt.Errorf("health report: %w", err)
		}
		for k, v := range report {
			if k != "status" {
				body[k] = v
			}
		}
	}
	return http.StatusOK, body, nil
}

// healthTimeout bounds a health check: a database that does not answer by then is down.
const healthTimeout = 2 * time.Second

func technicianActor(id uuid.UUID) app.Actor { return app.Actor{Kind: "technician", ID: id} }
func customerActor(id uuid.UUID) app.Actor   { return app.Actor{Kind: "customer", ID: id} }

// ---- customer side ----

type portalView struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	CompanyName string    `json:"company_name"`
}

func (a *API) getPortal(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	portalID, err := pathID(r, "portalID")
	if err != nil {
		return 0, nil, err
	}
	companyID, companyName, err := a.cfg.App.PortalCompany(r.Context(), portalID)
	if err != nil {
		return 0, nil, err
	}
	company, err := a.cfg.App.Company(r.Context(), companyID)
	if err != nil {
		return 0, nil, err
	}
	p, _ := company.Portal(portalID)
	return http.StatusOK, portalView{ID: portalID, Name: p.Name, CompanyName: companyName}, nil
}

type submitBody struct {
	CustomerName  string `json:"customer_name"`
	CustomerEmail string `json:"customer_email"`
	Description   string `json:"description"`
	DeviceType    string `json:"device_type"`
	OS            string `json:"os"`
	OSVersion     string `json:"os_version"`
	Browser       string `json:"browser"`
}

func (b submitBody) missingField() error {
	return required(field("customer_name", b.CustomerName == ""), field("customer_email", b.CustomerEmail == ""), field("description", b.Description == ""))
}

type submitResponse struct {
	RequestID     uuid.UUID `json:"request_id"`
	CustomerToken string    `json:"customer_token"`
	Status        string    `json:"status"`
	Version       int64     `json:"version"`
	Position      string    `json:"position"`
}

func (a *API) submit(w http.ResponseWriter, r *http.Request) (int, any, error) {
	portalID, err := pathID(r, "portalID")
	if err != nil {
		return 0, nil, err
	}
	scope := "portal:" + portalID.String() + ":" + clientinfo.IP(r, a.cfg.TrustProxyHeaders)
	return a.idempotentWith(w, r, scope, func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		body, err := decodeBody[submitBody](a, w, r)
		if err != nil {
			return 0, nil, err
		}
		companyID, _, err := a.cfg.App.PortalCompany(r.Context(), portalID)
		if err != nil {
			return 0, nil, err
		}
		platform, osName, osVersion, browser := clientinfo.Device(r.UserAgent())
		if body.DeviceType != "" {
			platform = request.Platform(body.DeviceType)
		}
		if platform == "" {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "missing_field", `field "device_type" is required when the browser does not tell (windows, mac, ios or android)`)
		}
		src := request.Source{IP: clientinfo.IP(r, a.cfg.TrustProxyHeaders), Platform: platform, OS: or(body.OS, osName), OSVersion: or(body.OSVersion, osVersion), Browser: or(body.Browser, browser)}
		m := meta(r, app.Actor{Kind: "customer"})
		sub, err := a.cfg.Accounts.SubmitRequestWithToken(r.Context(), m, app.SubmitRequest{
			RequestID: m.NewID("request"), PortalID: portalID, CompanyID: companyID,
			Customer:    request.Customer{Name: body.CustomerName, Email: body.CustomerEmail},
			Description: body.Description, Source: src,
		})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, submitResponse{RequestID: sub.RequestID, CustomerToken: sub.CustomerToken, Status: string(request.StatusNew), Version: sub.Version, Position: sub.Position.String()}, nil
	}, a.customerTokenNotKept())
}

// customerTokenNotKept keeps a replayable submission without its customer token, which is a
// secret: a replay issues the customer a new token for the same request.
func (a *API) customerTokenNotKept() secretless {
	return secretless{
		keep: func(body []byte) []byte {
			var resp submitResponse
			if json.Unmarshal(body, &resp) != nil {
				return nil
			}
			resp.CustomerToken = ""
			kept, _ := json.Marshal(resp)
			return kept
		},
		replay: func(r *http.Request, body []byte) ([]byte, error) {
			var resp submitResponse
			if err := json.Unmarshal(body, &resp); err != nil {
				return nil, fmt.Errorf("read stored submission: %w", err)
			}
			token, err := a.cfg.Accounts.Credentials().IssueCustomerToken(r.Context(), resp.RequestID)
			if err != nil {
				return nil, fmt.Errorf("issue customer token: %w", err)
			}
			resp.CustomerToken = token
			return json.Marshal(resp)
		},
	}
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

func (a *API) customerDetails(w http.ResponseWriter, r *http.Request, requestID uuid.UUID) (int, any, error) {
	return a.requestDetails(w, r, app.Viewer{CustomerOf: requestID}, requestID)
}

type messageBody struct {
	Body string `json:"body"`
}

func (b messageBody) missingField() error { return required(field("body", b.Body == "")) }

func (a *API) readMessage(w http.ResponseWriter, r *http.Request) (string, error) {
	body, err := decodeBody[messageBody](a, w, r)
	return body.Body, err
}

func (a *API) customerMessage(w http.ResponseWriter, r *http.Request, requestID uuid.UUID) (int, any, error) {
	text, err := a.readMessage(w, r)
	if err != nil {
		return 0, nil, err
	}
	m := meta(r, customerActor(requestID))
	messageID := m.NewID("message")
	res, err := a.cfg.App.SendCustomerMessage(r.Context(), m, requestID, messageID, text)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, result(messageID, res), nil
}

func (a *API) customerScreenSharing(accept bool) func(http.ResponseWriter, *http.Request, uuid.UUID) (int, any, error) {
	return func(_ http.ResponseWriter, r *http.Request, requestID uuid.UUID) (int, any, error) {
		answer := a.cfg.App.DeclineScreenSharing
		if accept {
			answer = a.cfg.App.AcceptScreenSharing
		}
		res, err := answer(r.Context(), meta(r, customerActor(requestID)), requestID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, result(requestID, res), nil
	}
}

func (a *API) customerUpload(w http.ResponseWriter, r *http.Request, requestID uuid.UUID) (int, any, error) {
	return a.upload(w, r, requestID, func(up app.Upload) (app.Result, error) {
		return a.cfg.App.ShareCustomerFile(r.Context(), meta(r, customerActor(requestID)), up)
	})
}

func (a *API) customerDownload(w http.ResponseWriter, r *http.Request, requestID uuid.UUID) (int, any, error) {
	return a.download(w, r, app.Viewer{CustomerOf: requestID}, requestID)
}

// ---- files ----

// upload reads one multipart part named "file" within the size limit and shares it.
func (a *API) upload(w http.ResponseWriter, r *http.Request, requestID uuid.UUID, share func(app.Upload) (app.Result, error)) (int, any, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return 0, nil, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", `send the file as multipart/form-data in a part named "file"`)
	}
	// The multipart envelope adds a little to the file itself.
	r.Body = http.MaxBytesReader(w, r.Body, a.cfg.App.MaxFileSize()+64<<10)
	reader := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "missing_field", `no part named "file" in the upload`)
		}
		if err != nil {
			var maxBytes *http.MaxBytesError
			if errors.As(err, &maxBytes) {
				return 0, nil, app.ErrFileTooLarge
			}
			return 0, nil, errorf(http.StatusBadRequest, "malformed_multipart", "the upload is not valid multipart/form-data")
		}
		if part.FormName() != "file" {
			_ = part.Close()
			continue
		}
		name := path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
		if name == "" || name == "." || name == "/" {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "missing_field", "the file part needs a file name")
		}
		// The same on a retry of the same command, so that the stored bytes are replaced, not
		// duplicated, and the share is recognised.
		fileID := meta(r, app.Actor{Kind: "upload"}).NewID("file")
		res, err := share(app.Upload{RequestID: requestID, FileID: fileID, Name: name, Content: part})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, result(fileID, res), nil
	}
}

func (a *API) download(w http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) (int, any, error) {
	fileID, err := pathID(r, "fileID")
	if err != nil {
		return 0, nil, err
	}
	f, err := a.cfg.App.OpenFile(r.Context(), viewer, requestID, fileID)
	if err != nil {
		return 0, nil, err
	}
	defer f.Content.Close()
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Digest", "sha-256="+f.SHA256)
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, f.Content)
	return 0, nil, errReplayed
}

// ---- technician side ----

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (b loginBody) missingField() error {
	return required(field("email", b.Email == ""), field("password", b.Password == ""))
}

type loginResponse struct {
	Token      string                `json:"token"`
	CSRFToken  string                `json:"csrf_token"`
	ExpiresAt  time.Time             `json:"expires_at"`
	Technician app.TechnicianProfile `json:"technician"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) (int, any, error) {
	body, err := decodeBody[loginBody](a, w, r)
	if err != nil {
		return 0, nil, err
	}
	session, err := a.cfg.Accounts.LoginFrom(r.Context(), clientinfo.IP(r, a.cfg.TrustProxyHeaders), body.Email, body.Password)
	var throttled *app.LoginThrottledError
	switch {
	case errors.As(err, &throttled):
		e := errorf(http.StatusTooManyRequests, "too_many_attempts", throttled.Error())
		e.RetryAfter = throttled.RetryAfter
		return 0, nil, e
	case errors.Is(err, app.ErrAccountLocked):
		// 423, not 429: waiting does not help, and Retry-After would say it does.
		return 0, nil, errorf(http.StatusLocked, "account_locked", app.ErrAccountLocked.Error())
	case err != nil:
		return 0, nil, err
	}
	profile, err := a.cfg.App.Profile(r.Context(), session.TechnicianID)
	if err != nil {
		return 0, nil, err
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: session.Token, Path: "/", Expires: session.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.cfg.SecureCookies,
	})
	return http.StatusOK, loginResponse{Token: session.Token, CSRFToken: session.CSRFToken, ExpiresAt: session.ExpiresAt, Technician: profile}, nil
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) (int, any, error) {
	creds := a.cfg.Accounts.Credentials()
	token := bearer(r)
	if token == "" {
		if c, err := r.Cookie(SessionCookie); err == nil {
			session, err := creds.LookupSession(r.Context(), c.Value)
			if err == nil && !creds.CheckCSRF(session, r.Header.Get("X-CSRF-Token")) {
				return 0, nil, errorf(http.StatusForbidden, "csrf", "missing or wrong X-CSRF-Token header")
			}
			token = c.Value
		}
	}
	if token != "" {
		if err := creds.DeleteSession(r.Context(), token); err != nil {
			return 0, nil, err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.cfg.SecureCookies})
	return http.StatusNoContent, nil, nil
}

func (a *API) me(_ http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	p, err := a.cfg.App.Profile(r.Context(), tech)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, p, nil
}

type availabilityBody struct {
	Availability string `json:"availability"`
}

func (b availabilityBody) missingField() error {
	return required(field("availability", b.Availability == ""))
}

func (a *API) setAvailability(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	return jsonCommand(a, w, r, technicianActor(tech), "", http.StatusOK, func(ctx contextT, m app.Meta, _ uuid.UUID, body availabilityBody) (uuid.UUID, app.Result, error) {
		res, err := a.cfg.App.SetAvailability(ctx, m, app.SetAvailability{TechnicianID: tech, Availability: directory.Availability(body.Availability)})
		return tech, res, err
	})
}

type notificationsBody struct {
	Email      *bool   `json:"email"`
	WebhookURL *string `json:"webhook_url"`
	InConsole  *bool   `json:"in_console"`
}

// missingField requires the two switches; webhook_url is optional.
func (b notificationsBody) missingField() error {
	return required(field("email", b.Email == nil), field("in_console", b.InConsole == nil))
}

func (a *API) setNotifications(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	return jsonCommand(a, w, r, technicianActor(tech), "", http.StatusOK, func(ctx contextT, m app.Meta, _ uuid.UUID, body notificationsBody) (uuid.UUID, app.Result, error) {
		settings := directory.NotificationSettings{Email: *body.Email, InConsole: *body.InConsole}
		if body.WebhookURL != nil {
			settings.WebhookURL = *body.WebhookURL
		}
		res, err := a.cfg.App.ChangeNotificationSettings(ctx, m, app.ChangeNotificationSettings{TechnicianID: tech, Settings: settings})
		return tech, res, err
	})
}

func (a *API) listRequests(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	q := r.URL.Query()
	for key := range q {
		switch key {
		case "view", "sort", "order", "limit", "offset", "mine", "cursor", "q", "company", "assignee", "min_position":
		default:
			return 0, nil, errorf(http.StatusBadRequest, "unknown_parameter", fmt.Sprintf("unknown query parameter %q", key))
		}
	}
	list := app.ListRequests{TechnicianID: tech, View: app.View(q.Get("view")), Sort: app.SortColumn(q.Get("sort")),
		Cursor: q.Get("cursor"), Search: q.Get("q")}
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		list.Descending = true
	default:
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", "order must be asc or desc")
	}
	var err error
	if list.Limit, err = intParam(q, "limit"); err != nil {
		return 0, nil, err
	}
	if _, has := q["limit"]; has && (list.Limit < 1 || list.Limit > 200) {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", app.ErrInvalidLimit.Error())
	}
	if list.Offset, err = intParam(q, "offset"); err != nil {
		return 0, nil, err
	}
	switch q.Get("mine") {
	case "", "false":
	case "true":
		list.MineOnly = true
	default:
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", "mine must be true or false")
	}
	if list.CompanyID, err = idParam(q, "company"); err != nil {
		return 0, nil, err
	}
	if list.Assignee, err = idParam(q, "assignee"); err != nil {
		return 0, nil, err
	}
	if _, has := q["q"]; has && list.Search == "" {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", app.ErrInvalidSearch.Error())
	}
	if err := a.awaitPosition(w, r); err != nil {
		return 0, nil, err
	}
	page, err := a.cfg.App.ListRequests(r.Context(), list)
	if err != nil {
		for _, invalid := range []error{app.ErrInvalidCursor, app.ErrOffsetWithCursor, app.ErrOffsetUnsupported, app.ErrInvalidSearch, app.ErrInvalidFilter} {
			if errors.Is(err, invalid) {
				return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", invalid.Error())
			}
		}
		return 0, nil, err
	}
	return http.StatusOK, page, nil
}

// idParam reads an optional UUID query parameter.
func idParam(q url.Values, name string) (uuid.UUID, error) {
	v := q.Get(name)
	if v == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return uuid.Nil, errorf(http.StatusUnprocessableEntity, "invalid", fmt.Sprintf("%s must be an ID", name))
	}
	return id, nil
}

// ProjectionBehindHeader is set to "true" on a list or details answer that waited for
// min_position in vain: the answer is what the read models hold, which may miss the caller's
// latest writes.
const ProjectionBehindHeader = "X-Projection-Behind"

// awaitPosition serves read-your-writes: with min_position (a position from a command's
// answer), it waits, bounded (about 2 s), until the read models have applied it.
func (a *API) awaitPosition(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query().Get("min_position")
	if v == "" {
		return nil
	}
	pos, err := eventlog.ParsePosition(v)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "invalid", "min_position must be a position from a command's answer, like 1234-5678")
	}
	reached, err := a.cfg.App.WaitForPosition(r.Context(), pos)
	if err != nil {
		return err
	}
	if !reached {
		w.Header().Set(ProjectionBehindHeader, "true")
	}
	return nil
}

func intParam(q url.Values, name string) (int, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusUnprocessableEntity, "invalid", fmt.Sprintf("%s must be a whole number of zero or more", name))
	}
	return n, nil
}

func (a *API) details(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	requestID, err := pathID(r, "requestID")
	if err != nil {
		return 0, nil, err
	}
	return a.requestDetails(w, r, app.Viewer{TechnicianID: tech}, requestID)
}

// requestDetails answers a request's details as viewer may see them, once the read models hold
// the caller's min_position.
func (a *API) requestDetails(w http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) (int, any, error) {
	if err := a.awaitPosition(w, r); err != nil {
		return 0, nil, err
	}
	d, err := a.cfg.App.RequestDetails(r.Context(), viewer, requestID)
	if err != nil {
		return 0, nil, err
	}
	if d.FromLog {
		w.Header().Set(ProjectionBehindHeader, "true")
	}
	return http.StatusOK, d, nil
}

type historyEvent struct {
	ID         uuid.UUID      `json:"id"`
	Version    int64          `json:"version"`
	Type       string         `json:"type"`
	Data       any            `json:"data"`
	Metadata   map[string]any `json:"metadata"`
	Position   string         `json:"position"`
	RecordedAt time.Time      `json:"recorded_at"`
}

type historyResponse struct {
	RequestID uuid.UUID      `json:"request_id"`
	Verified  bool           `json:"verified"`
	Problem   string         `json:"problem,omitempty"`
	Events    []historyEvent `json:"events"`
}

// history is the auditor's view: the raw stream with its hash chain checked.
func (a *API) history(_ http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	requestID, err := pathID(r, "requestID")
	if err != nil {
		return 0, nil, err
	}
	if _, err := a.cfg.App.RequestDetails(r.Context(), app.Viewer{TechnicianID: tech}, requestID); err != nil {
		return 0, nil, err // R2 before anything else
	}
	recorded, verifyErr := a.cfg.App.History(r.Context(), requestID)
	resp := historyResponse{RequestID: requestID, Verified: verifyErr == nil, Events: []historyEvent{}}
	if verifyErr != nil {
		if recorded == nil {
			return 0, nil, verifyErr
		}
		resp.Problem = verifyErr.Error()
	}
	for _, e := range recorded {
		resp.Events = append(resp.Events, historyEvent{
			ID: e.ID, Version: e.Version, Type: e.Type, Data: rawJSON(e.Data), Position: e.Position.String(), RecordedAt: e.RecordedAt,
			Metadata: map[string]any{
				"actor": e.Metadata.Actor, "occurred_at": e.Metadata.OccurredAt, "correlation_id": e.Metadata.CorrelationID,
				"causation_id": e.Metadata.CausationID, "previous_hash": e.Metadata.PreviousHash, "hash": e.Metadata.Hash,
			},
		})
	}
	return http.StatusOK, resp, nil
}

// simple adapts a command that takes only the request ID.
func (a *API) simple(cmd func(ctx contextT, meta app.Meta, requestID uuid.UUID) (app.Result, error)) func(http.ResponseWriter, *http.Request, uuid.UUID) (int, any, error) {
	return func(_ http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
		requestID, err := pathID(r, "requestID")
		if err != nil {
			return 0, nil, err
		}
		res, err := cmd(r.Context(), meta(r, technicianActor(tech)), requestID)
		if err != nil {
			return 0, nil, a.withNames(r, err)
		}
		return http.StatusOK, result(requestID, res), nil
	}
}

// withNames adds the winner's name to an Assign race's conflict (R6).
func (a *API) withNames(r *http.Request, err error) error {
	var assigned *request.AlreadyAssignedError
	if !errors.As(err, &assigned) {
		return err
	}
	e := classify(err)
	if t, lookupErr := a.cfg.App.Technician(r.Context(), assigned.Assignee); lookupErr == nil {
		e.Assignee.Name = t.Name()
		e.Message = "the request is already assigned to " + t.Name()
	}
	return e
}

type transferBody struct {
	TechnicianID string `json:"technician_id"`
}

func (b transferBody) missingField() error {
	return required(field("technician_id", b.TechnicianID == ""))
}

func (a *API) transfer(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	return jsonCommand(a, w, r, technicianActor(tech), "requestID", http.StatusOK, func(ctx contextT, m app.Meta, requestID uuid.UUID, body transferBody) (uuid.UUID, app.Result, error) {
		to, err := uuid.Parse(body.TechnicianID)
		if err != nil {
			return uuid.Nil, app.Result{}, errorf(http.StatusUnprocessableEntity, "invalid", "technician_id must be a technician's UUID")
		}
		res, err := a.cfg.App.Transfer(ctx, m, requestID, to)
		return requestID, res, err
	})
}

func (a *API) technicianMessage(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	return a.textCommand(w, r, tech, a.cfg.App.SendTechnicianMessage)
}

func (a *API) note(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	return a.textCommand(w, r, tech, a.cfg.App.AddNote)
}

func (a *API) textCommand(w http.ResponseWriter, r *http.Request, tech uuid.UUID, cmd func(contextT, app.Meta, uuid.UUID, uuid.UUID, string) (app.Result, error)) (int, any, error) {
	requestID, err := pathID(r, "requestID")
	if err != nil {
		return 0, nil, err
	}
	text, err := a.readMessage(w, r)
	if err != nil {
		return 0, nil, err
	}
	m := meta(r, technicianActor(tech))
	id := m.NewID("text")
	res, err := cmd(r.Context(), m, requestID, id, text)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, result(id, res), nil
}

type profileBody struct {
	Profile string `json:"profile"`
}

func (b profileBody) missingField() error { return required(field("profile", b.Profile == "")) }

func (a *API) mobileProfile(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	return jsonCommand(a, w, r, technicianActor(tech), "requestID", http.StatusOK, func(ctx contextT, m app.Meta, requestID uuid.UUID, body profileBody) (uuid.UUID, app.Result, error) {
		res, err := a.cfg.App.SendMobileProfile(ctx, m, requestID, body.Profile)
		return requestID, res, err
	})
}

func (a *API) technicianUpload(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	requestID, err := pathID(r, "requestID")
	if err != nil {
		return 0, nil, err
	}
	return a.upload(w, r, requestID, func(up app.Upload) (app.Result, error) {
		return a.cfg.App.ShareTechnicianFile(r.Context(), meta(r, technicianActor(tech)), up)
	})
}

func (a *API) technicianDownload(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	requestID, err := pathID(r, "requestID")
	if err != nil {
		return 0, nil, err
	}
	return a.download(w, r, app.Viewer{TechnicianID: tech}, requestID)
}
