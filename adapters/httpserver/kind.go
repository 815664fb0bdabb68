package httpserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgfault"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/erasure"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/domain/text"
	"github.com/helpstream/helpstream/internal/app"
)

// Kind is what an error of the application means over HTTP: the status, a stable code and
// words to say. The API sends it as its JSON error, the console and the portal as a page or a
// flash message in their own words; both front ends take it from Classify, so that one error
// never means two things.
type Kind struct {
	Status int
	Code   string
	// Message says what is wrong, in lower case without a full stop.
	Message string
	// Readable is true when Message is a domain or application error's own words, fit to show
	// a person as they are.
	Readable bool
	// Flaw says which character of a text the one text rule refused, and where (domain/text).
	// It is not part of Message: each front end joins the two its own way.
	Flaw string
	// RetryAfter, when set, is when trying again makes sense: the answer is an outage.
	RetryAfter time.Duration
	// Assignee is who holds the request, for the loser of an Assign race (R6).
	Assignee uuid.UUID
	// Allowed lists the file types that may be shared, for a refused upload (R10).
	Allowed []string
}

// RetryAfter is what an outage tells clients: about how long a PostgreSQL restart takes.
const RetryAfter = 2 * time.Second

// StatusClientClosed answers a request whose client went away before it was served (as nginx
// logs it): not a server error.
const StatusClientClosed = 499

// Classify says what err means over HTTP. Domain and application errors say what is wrong in
// words already; they pass through. Anything it does not know is a 500 "internal".
func Classify(err error) Kind {
	var assigned *request.AlreadyAssignedError
	if errors.As(err, &assigned) {
		return Kind{Status: http.StatusConflict, Code: "already_assigned", Message: err.Error(), Assignee: assigned.Assignee}
	}
	var fileType *request.FileTypeError
	if errors.As(err, &fileType) {
		return Kind{Status: http.StatusUnsupportedMediaType, Code: "file_type_not_allowed", Message: fileType.Error(), Allowed: fileType.Allowed}
	}
	var mismatch *app.ContentMismatchError
	if errors.As(err, &mismatch) {
		return Kind{Status: http.StatusUnsupportedMediaType, Code: "file_content_mismatch", Message: mismatch.Error()}
	}
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) || errors.Is(err, app.ErrFileTooLarge) {
		return Kind{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "the request body is too large"}
	}
	for _, m := range sentinels {
		for _, target := range m.errs {
			if errors.Is(err, target) {
				k := Kind{Status: m.status, Code: m.code, Message: m.message}
				if k.Message == "" {
					k.Message, k.Readable = target.Error(), true
				}
				var bad *text.Error
				if errors.As(err, &bad) {
					k.Flaw = bad.Error()
				}
				return k
			}
		}
	}
	switch {
	case errors.Is(err, app.ErrReadModelNotReady): // a server just started on a new database
		return Kind{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: app.ErrReadModelNotReady.Error(), Readable: true, RetryAfter: RetryAfter}
	case pgfault.BadText(err):
		return Kind{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: "the request holds text that cannot be stored (a NUL character or bytes that are not UTF-8)"}
	case pgfault.Transient(err):
		return Kind{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the database is unavailable for a moment; try again", RetryAfter: RetryAfter}
	case errors.Is(err, context.DeadlineExceeded):
		return Kind{Status: http.StatusServiceUnavailable, Code: "timeout", Message: "the server took too long; try again", RetryAfter: RetryAfter}
	case errors.Is(err, context.Canceled):
		return Kind{Status: StatusClientClosed, Code: "canceled", Message: "the request was canceled"}
	}
	return Kind{Status: http.StatusInternalServerError, Code: "internal", Message: "something went wrong on our side; try again"}
}

// sentinels are the domain's and the application's errors, by what they answer. An empty
// message says the error's own words.
var sentinels = []struct {
	status  int
	code    string
	message string
	errs    []error
}{
	{http.StatusNotFound, "not_found", "not found", []error{app.ErrNotFound, request.ErrNoAccess}},
	{http.StatusNotFound, "portal_not_found", "", []error{app.ErrUnknownPortal}},
	{http.StatusConflict, "conflict", "", []error{
		request.ErrClosed, request.ErrNotAssigned, request.ErrNotAssignee, request.ErrNotAvailable,
		request.ErrChatNotJoined, request.ErrChatAlreadyJoined, request.ErrChatEnded,
		request.ErrScreenSharingPending, request.ErrNoScreenSharingRequest,
		request.ErrScreenSharingSessionRunning, request.ErrNoScreenSharingSession,
		directory.ErrPortalExists, app.ErrEmailTaken, app.ErrTooManyConflicts,
		directory.ErrCannedTitleTaken, directory.ErrTooManyCanned,
	}},
	{http.StatusConflict, "already_exists", "it already exists", []error{eventlog.ErrConcurrency, eventlog.ErrIDReused}},
	{http.StatusUnprocessableEntity, "not_supported", "", []error{
		request.ErrScreenSharingUnsupported, request.ErrMobileProfilesUnsupported, request.ErrProfilePlatformMismatch,
		app.ErrNoProfileTemplates,
		request.ErrSameTechnician, request.ErrTargetNoAccess, request.ErrTargetOffline,
	}},
	{http.StatusUnprocessableEntity, "invalid", "", []error{
		request.ErrMissingID, request.ErrInvalidCustomerName, request.ErrInvalidEmail, request.ErrInvalidDescription,
		request.ErrInvalidSource, request.ErrInvalidPlatform, request.ErrInvalidMessage, request.ErrInvalidFile,
		request.ErrInvalidProfile, request.ErrInvalidScreenSession, request.ErrInvalidProfileTemplateRef, request.ErrInvalidProfileTemplate, directory.ErrInvalidName, directory.ErrMissingID, directory.ErrInvalidEmail,
		directory.ErrInvalidAvailability, app.ErrInvalidWebhookURL, directory.ErrNoAccess, directory.ErrAuditorNoAccess,
		app.ErrWeakPassword, app.ErrInvalidView, app.ErrInvalidSort, app.ErrInvalidLimit, app.ErrInvalidCursor,
		app.ErrEmptyFile, eventlog.ErrBadPosition, app.ErrInvalidGrant, app.ErrInvalidAccessCursor, app.ErrInvalidTimeRange, app.ErrNotYet,
		app.ErrReportPeriodReversed, app.ErrReportPeriodTooLong, app.ErrReportPeriodMissing,
		directory.ErrInvalidCannedTitle, directory.ErrInvalidCannedBody,
		routing.ErrInvalidMode, routing.ErrInvalidCapacity, routing.ErrInvalidTechnician, routing.ErrTooManyOverrides,
		routing.ErrInvalidAwayLimit, routing.ErrMissingCompany,
	}},
	{http.StatusUnprocessableEntity, "invalid", "", []error{
		servicelevel.ErrInvalidGoal, servicelevel.ErrInvalidOpening, servicelevel.ErrOverlapping, servicelevel.ErrTooManyOpenings,
		servicelevel.ErrInvalidClock, servicelevel.ErrUnknownTarget, servicelevel.ErrMissingCompany,
	}},
	{http.StatusConflict, "conflict", "", []error{request.ErrAlreadyBreached}},
	{http.StatusForbidden, "forbidden", "", []error{app.ErrSystemOnly}},
	{http.StatusUnauthorized, "unauthorized", "", []error{app.ErrBadCredentials, app.ErrNoSession, app.ErrNoCustomerToken}},
	{http.StatusForbidden, "forbidden", "", []error{app.ErrReadOnly, app.ErrAuditorsOnly, app.ErrStaffOnly}},
	{http.StatusConflict, "webhook_off", "", []error{app.ErrNoWebhook}},
	{http.StatusBadRequest, "body_unreadable", "", []error{app.ErrUploadCut}},
	// Personal data (issue 17).
	{http.StatusNotFound, "not_found", "", []error{erasure.ErrUnknownCustomer}},
	{http.StatusConflict, "not_encrypted", "", []error{erasure.ErrNotEncrypted}},
	{http.StatusUnprocessableEntity, "invalid", "", []error{erasure.ErrNoReason, erasure.ErrReasonTooLong, erasure.ErrInvalidReason}},
	{http.StatusUnprocessableEntity, "invalid", "", []error{retention.ErrInvalidDays, retention.ErrMissingCompany}},
}
