package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
)

// ScreenSharingProvider makes the link of a screen-sharing session from the URL template an
// operator configures (serve --screen-sharing-url), such as
// "https://meet.example/{request}?session={session}".
//
// Placeholders: {request} is the request's ID, {session} the new session's ID, {company} the
// request's company ID. Each is URL-escaped for where it stands (path or query) before it is
// substituted, so that the template alone decides the link's shape.
type ScreenSharingProvider struct {
	template string
}

// ScreenSharingPlaceholders are the placeholders a screen-sharing URL template may use.
var ScreenSharingPlaceholders = []string{"{request}", "{session}", "{company}"}

// ErrInvalidScreenSharingURL is matched by every error of ParseScreenSharingURL.
var ErrInvalidScreenSharingURL = errors.New("invalid screen sharing URL template")

// ParseScreenSharingURL checks a screen-sharing URL template: an absolute http or https URL
// with a host, whose only braces are the known placeholders, and that stays such a URL once
// they are filled in.
func ParseScreenSharingURL(template string) (*ScreenSharingProvider, error) {
	fail := func(format string, args ...any) (*ScreenSharingProvider, error) {
		return nil, fmt.Errorf("%w %q: %s", ErrInvalidScreenSharingURL, template, fmt.Sprintf(format, args...))
	}
	rest := template
	for _, p := range ScreenSharingPlaceholders {
		rest = strings.ReplaceAll(rest, p, "x")
	}
	if i := strings.IndexAny(rest, "{}"); i >= 0 {
		return fail("unknown placeholder or stray brace near %q (known: %s)", rest[i:min(len(rest), i+12)], strings.Join(ScreenSharingPlaceholders, " "))
	}
	if strings.ContainsAny(template, " \t\r\n\x00") {
		return fail("spaces and control characters are not allowed")
	}
	p := &ScreenSharingProvider{template: template}
	u, err := url.Parse(p.Link(uuid.New(), uuid.New(), uuid.New()))
	if err != nil {
		return fail("%v", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fail("the scheme must be https or http")
	}
	if u.Host == "" || u.User != nil {
		return fail("an absolute URL with a host and no user info is required")
	}
	if len(template) > request.MaxSessionLinkLength/2 {
		return fail("longer than %d characters", request.MaxSessionLinkLength/2)
	}
	return p, nil
}

// Link fills the template for one session.
func (p *ScreenSharingProvider) Link(requestID, sessionID, companyID uuid.UUID) string {
	values := map[string]string{"{request}": requestID.String(), "{session}": sessionID.String(), "{company}": companyID.String()}
	var b strings.Builder
	s := p.template
	inQuery := false
	for len(s) > 0 {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		inQuery = inQuery || strings.ContainsAny(s[:i], "?#")
		j := strings.IndexByte(s[i:], '}')
		v := values[s[i:i+j+1]]
		if inQuery {
			b.WriteString(url.QueryEscape(v))
		} else {
			b.WriteString(url.PathEscape(v))
		}
		s = s[i+j+1:]
	}
	return b.String()
}

// Template returns the template the provider fills.
func (p *ScreenSharingProvider) Template() string { return p.template }

// AcceptScreenSharing is the customer's "Share My Screen" (R11). With a screen-sharing
// provider configured it also starts a session whose link both sides get; without one it
// records the acceptance alone.
func (a *App) AcceptScreenSharing(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	if a.screenSharing == nil {
		return a.customerCommand(ctx, meta, requestID, (*request.Request).AcceptScreenSharing)
	}
	sessionID := uuid.New() // one ID for every retry of the decision
	return a.customerCommand(ctx, meta, requestID, func(r *request.Request) error {
		return r.AcceptScreenSharingSession(request.ScreenSession{ID: sessionID, Link: a.screenSharing.Link(r.ID(), sessionID, r.CompanyID())})
	})
}

// EndScreenSharingSession is the assignee's End Session: the running session is over and
// screen sharing may be requested again.
func (a *App) EndScreenSharingSession(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianAction(ctx, meta, requestID, (*request.Request).EndScreenSharingSession)
}
