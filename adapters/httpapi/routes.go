package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/internal/app"
)

func (a *API) routes() {
	a.mux.HandleFunc("GET /api/v1/openapi.yaml", serveOpenAPI)
	a.handle("GET /healthz", a.health)

	// Customer side.
	a.handle("GET /api/v1/portals/{portalID}", byPathID("portalID", a.portal))
	a.handle("POST /api/v1/portals/{portalID}/requests", a.submit)
	a.handle("GET /api/v1/customer/requests/{requestID}", a.customer(a.customerDetails))
	a.handle("POST /api/v1/customer/requests/{requestID}/messages", a.customer(a.customerMessage))
	a.handle("POST /api/v1/customer/requests/{requestID}/files", a.customer(a.customerUpload))
	a.handle("GET /api/v1/customer/requests/{requestID}/files/{fileID}", a.customer(a.customerDownload))
	a.handle("GET /api/v1/customer/requests/{requestID}/mobile-profile-files/{eventID}", a.customer(a.customerProfileDownload))
	a.handle("POST /api/v1/customer/requests/{requestID}/screen-sharing/accept", a.customer(a.customerScreenSharing(true)))
	a.handle("POST /api/v1/customer/requests/{requestID}/screen-sharing/decline", a.customer(a.customerScreenSharing(false)))

	// Technician side; auditors read its GET routes (a.reader) and are refused every other (403).
	a.handle("POST /api/v1/auth/login", a.login)
	a.handle("POST /api/v1/auth/logout", a.logout)
	a.handle("GET /api/v1/me", a.reader(a.me))
	a.handle("PUT /api/v1/me/availability", a.technician(a.setAvailability))
	a.handle("PUT /api/v1/me/notifications", a.technician(a.setNotifications))
	a.handle("POST /api/v1/me/notifications/webhook-secret", a.technician(a.rotateWebhookSecret))
	a.handle("GET /api/v1/requests", a.reader(a.listRequests))
	a.handle("GET /api/v1/requests/{requestID}", a.reader(onReadRequest(a.requestDetails)))
	a.handle("GET /api/v1/requests/{requestID}/history", a.reader(onReadRequest(a.history)))
	a.handle("GET /api/v1/reports", a.reader(a.report))
	a.handle("POST /api/v1/requests/{requestID}/assign", a.technician(a.simple(a.cfg.App.AssignToMe)))
	a.handle("POST /api/v1/requests/{requestID}/unassign", a.technician(a.simple(a.cfg.App.Unassign)))
	a.handle("POST /api/v1/requests/{requestID}/transfer", a.technician(a.transfer))
	a.handle("POST /api/v1/requests/{requestID}/join", a.technician(a.simple(a.cfg.App.JoinChat)))
	a.handle("POST /api/v1/requests/{requestID}/messages", a.technician(a.textCommand(a.cfg.App.SendTechnicianMessage)))
	a.handle("POST /api/v1/requests/{requestID}/notes", a.technician(a.textCommand(a.cfg.App.AddNote)))
	a.handle("POST /api/v1/requests/{requestID}/files", a.technician(onRequest(a.technicianUpload)))
	a.handle("GET /api/v1/requests/{requestID}/files/{fileID}", a.reader(onReadRequest(a.download)))
	a.handle("POST /api/v1/requests/{requestID}/screen-sharing", a.technician(a.simple(a.cfg.App.RequestScreenSharing)))
	a.handle("POST /api/v1/requests/{requestID}/screen-sharing/end", a.technician(a.simple(a.cfg.App.EndScreenSharingSession)))
	a.handle("POST /api/v1/requests/{requestID}/mobile-profiles", a.technician(a.mobileProfile))
	a.handle("POST /api/v1/requests/{requestID}/mobile-profile-files", a.technician(a.mobileProfileFile))
	a.handle("GET /api/v1/requests/{requestID}/mobile-profile-files/{eventID}", a.reader(onReadRequest(a.profileDownload)))
	a.handle("GET /api/v1/requests/{requestID}/canned-responses", a.reader(onReadRequest(a.requestCannedResponses)))
	a.handle("POST /api/v1/requests/{requestID}/end-chat", a.technician(a.simple(a.cfg.App.EndChat)))
	a.handle("POST /api/v1/requests/{requestID}/close", a.technician(a.simple(a.cfg.App.Close)))

	// Admin side.
	a.handle("GET /api/v1/admin/projections", a.admin(a.projectionStatus))
	a.handle("GET /api/v1/admin/companies", a.admin(a.listCompanies))
	a.handle("POST /api/v1/admin/companies", a.admin(a.createCompany))
	a.handle("GET /api/v1/admin/companies/{companyID}", a.admin(byPathID("companyID", a.company)))
	a.handle("POST /api/v1/admin/companies/{companyID}/portals", a.admin(a.createPortal))
	a.handle("GET /api/v1/admin/companies/{companyID}/canned-responses", a.admin(byPathID("companyID", a.listCannedResponses)))
	a.handle("POST /api/v1/admin/companies/{companyID}/canned-responses", a.admin(a.createCannedResponse))
	a.handle("PUT /api/v1/admin/companies/{companyID}/canned-responses/{responseID}", a.admin(a.saveCannedResponse))
	a.handle("DELETE /api/v1/admin/companies/{companyID}/canned-responses/{responseID}", a.admin(a.removeCannedResponse))
	a.handle("GET /api/v1/admin/technicians", a.admin(a.listTechnicians))
	a.handle("POST /api/v1/admin/technicians", a.admin(a.registerTechnician))
	a.handle("GET /api/v1/admin/technicians/{technicianID}", a.admin(byPathID("technicianID", a.queries.Profile)))
	a.handle("PUT /api/v1/admin/technicians/{technicianID}/password", a.admin(a.setPassword))
	a.handle("POST /api/v1/admin/technicians/{technicianID}/access", a.admin(a.grantAccess))
	a.handle("DELETE /api/v1/admin/technicians/{technicianID}/access/{companyID}", a.admin(a.revokeAccess))
	a.handle("POST /api/v1/admin/technicians/{technicianID}/unlock", a.admin(byPathID("technicianID", a.unlockTechnician)))
	a.handle("POST /api/v1/admin/customers/erase", a.admin(a.eraseCustomer))
	a.handle("GET /api/v1/admin/auditors", a.admin(a.listAuditors))
	a.handle("POST /api/v1/admin/auditors", a.admin(a.registerAuditor))
	a.handle("GET /api/v1/admin/auditors/{auditorID}", a.admin(byPathID("auditorID", a.queries.AuditorProfile)))
	a.handle("PUT /api/v1/admin/auditors/{auditorID}/password", a.admin(a.setAuditorPassword))
	a.handle("POST /api/v1/admin/auditors/{auditorID}/access", a.admin(a.grantAuditorAccess))
	a.handle("DELETE /api/v1/admin/auditors/{auditorID}/access/{companyID}", a.admin(a.revokeAuditorAccess))
	a.handle("POST /api/v1/admin/auditors/{auditorID}/unlock", a.admin(byPathID("auditorID", a.unlockAuditor)))
	a.handle("GET /api/v1/admin/companies/{companyID}/routing", a.admin(byPathID("companyID", a.routingPolicy)))
	a.handle("PUT /api/v1/admin/companies/{companyID}/routing", a.admin(a.setRoutingPolicy))
	a.handle("GET /api/v1/admin/companies/{companyID}/service-levels", a.admin(byPathID("companyID", a.serviceLevels)))
	a.handle("PUT /api/v1/admin/companies/{companyID}/service-levels", a.admin(a.setServiceLevels))
	a.handle("GET /api/v1/admin/companies/{companyID}/retention", a.admin(byPathID("companyID", a.retention)))
	a.handle("PUT /api/v1/admin/companies/{companyID}/retention", a.admin(a.setRetention))

	// Auditor side.
	a.handle("GET /api/v1/audit/access-log", a.auditor(a.accessLog))
}

// health answers 200 when the server can serve: its database answers and its read models
// apply the log (Config.Health), and 503 with the reason otherwise, for a load balancer to
// route around it and an operator to read.
func (a *API) health(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	if a.cfg.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if err := a.cfg.Health(ctx); err != nil {
			if httpserver.Classify(err).RetryAfter > 0 { // an outage, not a fault of this server
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

// technicianRoute is a route a technician calls, after a.technician has told who they are.
type technicianRoute = func(w http.ResponseWriter, r *http.Request, technicianID uuid.UUID) (int, any, error)

// onRequest adapts a technician's route about one request: the request's ID comes from the
// path, a malformed one answers 404 before fn runs.
func onRequest(fn func(w http.ResponseWriter, r *http.Request, tech, requestID uuid.UUID) (int, any, error)) technicianRoute {
	return func(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
		requestID, err := pathID(r, "requestID")
		if err != nil {
			return 0, nil, err
		}
		return fn(w, r, tech, requestID)
	}
}

// onReadRequest adapts a reader's route about one request: the request's ID comes from the
// path, a malformed one answers 404 before fn runs.
func onReadRequest(fn func(w http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) (int, any, error)) func(w http.ResponseWriter, r *http.Request, viewer app.Viewer) (int, any, error) {
	return func(w http.ResponseWriter, r *http.Request, viewer app.Viewer) (int, any, error) {
		requestID, err := pathID(r, "requestID")
		if err != nil {
			return 0, nil, err
		}
		return fn(w, r, viewer, requestID)
	}
}

func technicianActor(id uuid.UUID) app.Actor { return app.Actor{Kind: "technician", ID: id} }
func customerActor(id uuid.UUID) app.Actor   { return app.Actor{Kind: "customer", ID: id} }
