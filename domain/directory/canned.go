package directory

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/text"
)

// Canned responses (issue 16): a company's ready-made answers, kept by an administrator on the
// company's stream, which a technician inserts into the chat's message box and reviews before
// sending. A body may name the request's customer and ID, and the technician and the company,
// through placeholders filled in for the request it is inserted into.

// CannedResponseSaved adds a canned response to the company, or replaces the one with that ID.
type CannedResponseSaved struct {
	CompanyID  uuid.UUID `json:"company_id"`
	ResponseID uuid.UUID `json:"response_id"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
}

// CannedResponseRemoved takes a canned response away from the company.
type CannedResponseRemoved struct {
	CompanyID  uuid.UUID `json:"company_id"`
	ResponseID uuid.UUID `json:"response_id"`
}

func (*CannedResponseSaved) EventType() string   { return "company.canned_response_saved.v1" }
func (*CannedResponseRemoved) EventType() string { return "company.canned_response_removed.v1" }

// Limits of a canned response.
const (
	MaxCannedTitleLength = 100
	MaxCannedBodyLength  = 5000
	// MaxCannedResponses is how many one company keeps: a list a technician can scan.
	MaxCannedResponses = 200
)

// Errors of canned responses.
var (
	ErrInvalidCannedTitle    = errors.New("a canned response's title must be 1 to 100 characters on one line")
	ErrInvalidCannedBody     = errors.New("a canned response's body must be 1 to 5000 characters")
	ErrCannedTitleTaken      = errors.New("another canned response of the company has that title")
	ErrTooManyCanned         = errors.New("a company keeps at most 200 canned responses")
	ErrUnknownCannedResponse = errors.New("the company has no canned response with that ID")
)

// CannedResponse is one of a company's canned responses.
type CannedResponse struct {
	ID    uuid.UUID
	Title string
	Body  string
}

// CannedResponses returns the company's canned responses, by title.
func (c *Company) CannedResponses() []CannedResponse { return slices.Clone(c.canned) }

// CannedResponse returns the canned response with that ID.
func (c *Company) CannedResponse(id uuid.UUID) (CannedResponse, bool) {
	i := slices.IndexFunc(c.canned, func(r CannedResponse) bool { return r.ID == id })
	if i < 0 {
		return CannedResponse{}, false
	}
	return c.canned[i], true
}

// CannedResponseByTitle returns the canned response with that title (any case).
func (c *Company) CannedResponseByTitle(title string) (CannedResponse, bool) {
	title = strings.TrimSpace(title)
	i := slices.IndexFunc(c.canned, func(r CannedResponse) bool { return strings.EqualFold(r.Title, title) })
	if i < 0 {
		return CannedResponse{}, false
	}
	return c.canned[i], true
}

// ValidCannedResponse checks a title and a body and returns them trimmed: the title on one
// line, the body as a message is (line breaks and tabs allowed).
func ValidCannedResponse(title, body string) (string, string, error) {
	title = strings.TrimSpace(title)
	if err := text.Bounded(title, MaxCannedTitleLength, text.Line, ErrInvalidCannedTitle); err != nil {
		return "", "", err
	}
	body = strings.TrimSpace(body)
	if err := text.Bounded(body, MaxCannedBodyLength, text.Multiline, ErrInvalidCannedBody); err != nil {
		return "", "", err
	}
	return title, body, nil
}

// SaveCannedResponse adds the canned response id, or replaces it. A title is unique in the
// company, whatever its case; saving what is there already records nothing.
func (c *Company) SaveCannedResponse(id uuid.UUID, title, body string) error {
	if id == uuid.Nil {
		return fmt.Errorf("save canned response: %w", ErrMissingID)
	}
	title, body, err := ValidCannedResponse(title, body)
	if err != nil {
		return fmt.Errorf("save canned response: %w", err)
	}
	if other, ok := c.CannedResponseByTitle(title); ok && other.ID != id {
		return fmt.Errorf("save canned response %q: %w", title, ErrCannedTitleTaken)
	}
	old, exists := c.CannedResponse(id)
	if exists && old.Title == title && old.Body == body {
		return nil
	}
	if !exists && len(c.canned) >= MaxCannedResponses {
		return ErrTooManyCanned
	}
	c.record(&CannedResponseSaved{CompanyID: c.id, ResponseID: id, Title: title, Body: body})
	return nil
}

// RemoveCannedResponse takes the canned response id away.
func (c *Company) RemoveCannedResponse(id uuid.UUID) error {
	if _, ok := c.CannedResponse(id); !ok {
		return ErrUnknownCannedResponse
	}
	c.record(&CannedResponseRemoved{CompanyID: c.id, ResponseID: id})
	return nil
}

// applyCanned folds a canned response's event into the company, keeping them by title.
func (c *Company) applyCanned(e any) {
	switch e := e.(type) {
	case *CannedResponseSaved:
		c.canned = slices.DeleteFunc(c.canned, func(r CannedResponse) bool { return r.ID == e.ResponseID })
		c.canned = append(c.canned, CannedResponse{ID: e.ResponseID, Title: e.Title, Body: e.Body})
		SortCannedResponses(c.canned)
	case *CannedResponseRemoved:
		c.canned = slices.DeleteFunc(c.canned, func(r CannedResponse) bool { return r.ID == e.ResponseID })
	}
}

// SortCannedResponses sorts by title, case aside, then by ID.
func SortCannedResponses(rs []CannedResponse) {
	slices.SortFunc(rs, func(a, b CannedResponse) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)), strings.Compare(a.Title, b.Title), strings.Compare(a.ID.String(), b.ID.String()))
	})
}

// admitsCanned is Admit's rule for the canned responses' events: the company's own, and what
// the command would have recorded.
func (c *Company) admitsCanned(e any) error {
	switch e := e.(type) {
	case *CannedResponseSaved:
		if e.CompanyID != c.id {
			return errOtherAggregate
		}
		probe := c.Clone()
		if err := probe.SaveCannedResponse(e.ResponseID, e.Title, e.Body); err != nil {
			return err
		}
		if len(probe.Changes()) == 0 {
			return errUnchanged
		}
		if saved := probe.Changes()[0].(*CannedResponseSaved); saved.Title != e.Title || saved.Body != e.Body {
			return errors.New("its title or body is not as the command writes them (trimmed)")
		}
		return nil
	case *CannedResponseRemoved:
		if e.CompanyID != c.id {
			return errOtherAggregate
		}
		return c.Clone().RemoveCannedResponse(e.ResponseID)
	}
	return errNotDirectoryEvent
}

// CannedPlaceholders are the placeholders a canned response's body may hold.
var CannedPlaceholders = []string{"{customer_name}", "{request_id}", "{technician_name}", "{company}"}

// CannedValues are what the placeholders stand for in one request.
type CannedValues struct {
	CustomerName   string
	RequestID      uuid.UUID
	TechnicianName string
	Company        string
}

// RenderCannedResponse fills the placeholders of body in with values. Anything else in braces
// is left as typed: a body may show braces, and a misspelt placeholder shows as written, for
// the technician to see before sending.
func RenderCannedResponse(body string, v CannedValues) string {
	return strings.NewReplacer(
		"{customer_name}", v.CustomerName,
		"{request_id}", v.RequestID.String(),
		"{technician_name}", v.TechnicianName,
		"{company}", v.Company,
	).Replace(body)
}
