package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/clientinfo"
)

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (b loginBody) missingField() error {
	return required(field("email", b.Email == ""), field("password", b.Password == ""))
}

// loginResponse is what a login answers: the session, its role, and the profile of the
// technician or of the auditor.
type loginResponse struct {
	Token      string                 `json:"token"`
	CSRFToken  string                 `json:"csrf_token"`
	ExpiresAt  time.Time              `json:"expires_at"`
	Role       app.Role               `json:"role"`
	Technician *app.TechnicianProfile `json:"technician,omitempty"`
	Auditor    *app.AuditorProfile    `json:"auditor,omitempty"`
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
	answer := loginResponse{Token: session.Token, CSRFToken: session.CSRFToken, ExpiresAt: session.ExpiresAt, Role: app.RoleTechnician}
	if session.IsAuditor() {
		profile, err := a.queries.AuditorProfile(r.Context(), session.AuditorID)
		if err != nil {
			return 0, nil, err
		}
		answer.Role, answer.Auditor = app.RoleAuditor, &profile
	} else {
		profile, err := a.queries.Profile(r.Context(), session.TechnicianID)
		if err != nil {
			return 0, nil, err
		}
		answer.Technician = &profile
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: session.Token, Path: "/", Expires: session.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.cfg.SecureCookies,
	})
	return http.StatusOK, answer, nil
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

// me answers the caller's own profile: a technician's, or an auditor's (their companies, or
// every company).
func (a *API) me(_ http.ResponseWriter, r *http.Request, viewer app.Viewer) (int, any, error) {
	if viewer.IsAuditor() {
		return queryAnswer(a.queries.AuditorProfile(r.Context(), viewer.AuditorID))
	}
	return queryAnswer(a.queries.Profile(r.Context(), viewer.TechnicianID))
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
	Webhook    *bool   `json:"webhook"`
	InConsole  *bool   `json:"in_console"`
}

// missingField requires the two switches; the webhook is optional: webhook_url turns it on
// there ("" turns it off), {"webhook": true} without a URL keeps it as it is, and neither
// turns it off.
func (b notificationsBody) missingField() error {
	return required(field("email", b.Email == nil), field("in_console", b.InConsole == nil))
}

// errWebhookContradiction answers a body that sends a webhook URL and turns the webhook off.
var errWebhookContradiction = errorf(http.StatusUnprocessableEntity, "invalid", `"webhook": false contradicts a non-empty "webhook_url"`)

// notificationsAnswer is what changing the notification settings answers: where the event
// landed, the channels now on and the webhook's URL redacted, and the webhook's signing secret
// when the URL is new or changed: this answer is the only place it is ever shown.
type notificationsAnswer struct {
	commandResult
	Notifications        directory.NotificationSettings `json:"notifications"`
	WebhookURL           string                         `json:"webhook_url,omitempty"`
	WebhookSigningSecret string                         `json:"webhook_signing_secret,omitempty"`
}

func (a *API) setNotifications(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	body, err := decodeBody[notificationsBody](a, w, r)
	if err != nil {
		return 0, nil, err
	}
	cmd := app.ChangeNotificationSettings{TechnicianID: tech, Email: *body.Email, InConsole: *body.InConsole}
	switch {
	case body.WebhookURL != nil:
		if *body.WebhookURL != "" && body.Webhook != nil && !*body.Webhook {
			return 0, nil, errWebhookContradiction
		}
		cmd.WebhookURL = *body.WebhookURL
	case body.Webhook != nil && *body.Webhook:
		cmd.KeepWebhook = true
	}
	res, err := a.cfg.App.ChangeNotificationSettings(r.Context(), meta(r, technicianActor(tech)), cmd)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, notificationsAnswer{
		commandResult: result(tech, res.Result), Notifications: res.Settings,
		WebhookURL: res.WebhookURL, WebhookSigningSecret: res.SigningSecret,
	}, nil
}

// webhookSecretAnswer carries a rotated signing secret: shown this once.
type webhookSecretAnswer struct {
	WebhookSigningSecret string `json:"webhook_signing_secret"`
}

func (a *API) rotateWebhookSecret(_ http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	secret, err := a.cfg.App.RotateWebhookSecret(r.Context(), tech)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, webhookSecretAnswer{WebhookSigningSecret: secret}, nil
}
