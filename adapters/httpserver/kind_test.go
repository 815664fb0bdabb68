package httpserver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/internal/app"
)

// Every front end answers an error of the application with the status and code Classify gives:
// one table, whatever wraps the error.
func TestClassify(t *testing.T) {
	assignee := uuid.New()
	for _, tc := range []struct {
		name     string
		err      error
		status   int
		code     string
		readable bool
	}{
		{"unknown request", app.ErrNotFound, http.StatusNotFound, "not_found", false},
		{"another company's request", fmt.Errorf("details: %w", request.ErrNoAccess), http.StatusNotFound, "not_found", false},
		{"unknown portal", app.ErrUnknownPortal, http.StatusNotFound, "portal_not_found", true},
		{"closed", fmt.Errorf("assign: %w", request.ErrClosed), http.StatusConflict, "conflict", true},
		{"assign race", &request.AlreadyAssignedError{Assignee: assignee}, http.StatusConflict, "already_assigned", false},
		{"concurrent write", eventlog.ErrConcurrency, http.StatusConflict, "already_exists", false},
		{"unsupported", request.ErrScreenSharingUnsupported, http.StatusUnprocessableEntity, "not_supported", true},
		{"invalid", request.ErrInvalidMessage, http.StatusUnprocessableEntity, "invalid", true},
		{"file type", &request.FileTypeError{Extension: ".exe", Allowed: []string{".png"}}, http.StatusUnsupportedMediaType, "file_type_not_allowed", false},
		{"too large", app.ErrFileTooLarge, http.StatusRequestEntityTooLarge, "too_large", false},
		{"bad credentials", app.ErrBadCredentials, http.StatusUnauthorized, "unauthorized", true},
		{"an auditor's command", fmt.Errorf("assign: %w", app.ErrReadOnly), http.StatusForbidden, "forbidden", true},
		{"an auditor's grant of nothing", app.ErrInvalidGrant, http.StatusUnprocessableEntity, "invalid", true},
		{"retention out of range", fmt.Errorf("set retention: %w", retention.ErrInvalidDays), http.StatusUnprocessableEntity, "invalid", true},
		{"upload cut", app.ErrUploadCut, http.StatusBadRequest, "body_unreadable", true},
		{"read models not built", fmt.Errorf("list: %w", app.ErrReadModelNotReady), http.StatusServiceUnavailable, "unavailable", true},
		{"no read model", fmt.Errorf("list: %w", app.ErrNoReadModel), http.StatusInternalServerError, "internal", false},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), http.StatusServiceUnavailable, "unavailable", false}, // pgfault counts it an outage
		{"cancelled", context.Canceled, httpserver.StatusClientClosed, "canceled", false},
		{"anything else", errors.New("boom"), http.StatusInternalServerError, "internal", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := httpserver.Classify(tc.err)
			if k.Status != tc.status || k.Code != tc.code || k.Readable != tc.readable {
				t.Errorf("Classify = %d %s readable=%v, want %d %s readable=%v", k.Status, k.Code, k.Readable, tc.status, tc.code, tc.readable)
			}
			if k.Message == "" {
				t.Error("no message")
			}
			if (k.RetryAfter > 0) != (k.Status == http.StatusServiceUnavailable) {
				t.Errorf("RetryAfter %v for %d", k.RetryAfter, k.Status)
			}
		})
	}
	if k := httpserver.Classify(&request.AlreadyAssignedError{Assignee: assignee}); k.Assignee != assignee {
		t.Errorf("the assign race's answer names %v, want %v", k.Assignee, assignee)
	}
}

func TestUploadName(t *testing.T) {
	for sent, want := range map[string]string{
		"report.pdf": "report.pdf", `C:\Users\ada\report.pdf`: "report.pdf", "../../etc/passwd": "passwd",
		"": "", ".": "", "/": "", "dir/": "dir",
	} {
		name, ok := httpserver.UploadName(sent)
		if name != want || ok != (want != "") {
			t.Errorf("UploadName(%q) = %q, %v; want %q", sent, name, ok, want)
		}
	}
}
