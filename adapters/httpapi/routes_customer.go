package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/clientinfo"
)

type portalView struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	CompanyName string    `json:"company_name"`
}

// portal is what a customer sees of a portal before submitting a request on it.
func (a *API) portal(ctx context.Context, portalID uuid.UUID) (portalView, error) {
	companyID, companyName, err := a.queries.PortalCompany(ctx, portalID)
	if err != nil {
		return portalView{}, err
	}
	company, err := a.cfg.App.Company(ctx, companyID)
	if err != nil {
		return portalView{}, err
	}
	p, _ := company.Portal(portalID)
	return portalView{ID: portalID, Name: p.Name, CompanyName: companyName}, nil
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
	if err := a.refuseAuditor(r); err != nil {
		return 0, nil, err // an auditor writes nothing, not even a request of their own
	}
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
		companyID, _, err := a.queries.PortalCompany(r.Context(), portalID)
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

func (a *API) customerMessage(w http.ResponseWriter, r *http.Request, requestID uuid.UUID) (int, any, error) {
	text, err := a.readMessage(w, r)
	if err != nil {
		return 0, nil, err
	}
	m := meta(r, customerActor(requestID))
	messageID := m.NewID("message")
	res, err := a.cfg.App.SendCustomerMessage(r.Context(), m, requestID, messageID, text)
	return commandAnswer(http.StatusCreated, messageID, res, err)
}

func (a *API) customerScreenSharing(accept bool) func(http.ResponseWriter, *http.Request, uuid.UUID) (int, any, error) {
	return func(_ http.ResponseWriter, r *http.Request, requestID uuid.UUID) (int, any, error) {
		answer := a.cfg.App.DeclineScreenSharing
		if accept {
			answer = a.cfg.App.AcceptScreenSharing
		}
		res, err := answer(r.Context(), meta(r, customerActor(requestID)), requestID)
		return commandAnswer(http.StatusOK, requestID, res, err)
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
