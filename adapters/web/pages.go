package web

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/helpstream/helpstream/domain/request"
)

// pages are the parsed templates: one set per page, each with the layout and the partials.
type pages struct {
	sets map[string]*template.Template
}

var pageNames = []string{"login", "console", "portal", "request", "error", "timeline", "reports"}

// uploadForm is what the upload form of a request's page shows, on either side of the chat.
type uploadForm struct {
	Base, CSRF, Accept, Allowed, Label string
}

var funcs = template.FuncMap{
	"uploadForm": func(base, csrf, accept, allowed, label string) uploadForm {
		return uploadForm{Base: base, CSRF: csrf, Accept: accept, Allowed: allowed, Label: label}
	},
	"has": func(actions []request.Action, name string) bool {
		return slices.Contains(actions, request.Action(name))
	},
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"groups": func(what, heading, column, plural string, svg template.HTML, rows []reportGroupRow, csv string) reportGroups {
		return reportGroups{What: what, Heading: heading, Column: column, Plural: plural, Chart: svg, Rows: rows, CSV: csv}
	},
	"size":     sizeText,
	"platform": platformName,
}

// reportGroups is a Reports section of companies or technicians.
type reportGroups struct {
	What, Heading, Column, Plural string
	Chart                         template.HTML
	Rows                          []reportGroupRow
	CSV                           string
}

// platformNames are the platforms as people read them; forms keep the machine values.
var platformNames = map[request.Platform]string{
	request.Windows: "Windows", request.Mac: "Mac", request.IOS: "iOS", request.Android: "Android",
}

// platformName writes a platform for people: "Windows", "Mac", "iOS", "Android".
func platformName(p request.Platform) string {
	if name, ok := platformNames[p]; ok {
		return name
	}
	if p == "" {
		return "unknown"
	}
	return string(p)
}

func parsePages() (*pages, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, name := range pageNames {
		set, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := set.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("web: parse %s.html: %w", name, err)
		}
		p.sets[name] = set
	}
	return p, nil
}

// page is what every page's layout needs.
type page struct {
	Title string
	// Body is the body's class: "console" or "portal".
	Body string
	// CSRF is the token every form of the page carries.
	CSRF string
	// Error is a refused action's message, shown in #error.
	Error string
	// Notice is a confirmation, shown in #notice.
	Notice string
	// Tech is the logged-in technician, for the console's header; Auditor the logged-in
	// auditor, whose header has no status to set.
	Tech    *techHeader
	Auditor *auditorBar
	// ReturnTo is where the header's forms come back to.
	ReturnTo string
	// Section is the console page the navigation marks as current: "requests" or "reports".
	Section string
	// Events is the page's event stream, and Since the position its content includes.
	Events string
	Since  string
}

type techHeader struct {
	Name         string
	Availability string
	Options      []option
}

type auditorBar struct {
	Name  string
	Reads string
}

type option struct {
	Value, Label string
	Selected     bool
}

// render writes a whole page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	h.renderTemplate(w, r, status, name, "layout", data)
}

// renderTemplate writes one named template of a page's set: the layout, or a fragment.
func (h *Handler) renderTemplate(w http.ResponseWriter, r *http.Request, status int, set, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages.sets[set].ExecuteTemplate(&buf, name, data); err != nil {
		slog.ErrorContext(r.Context(), "render page", "page", set, "template", name, "err", err)
		http.Error(w, "Something went wrong on our side; try again.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	page
	Status  int
	Heading string
	Message string
	// Back is the way back the page offers: a portal's form for a portal address, the console
	// otherwise.
	Back     string
	BackText string
}

// wayBack is where an error page at path sends its reader on: the support form of the portal
// the address names, or the console (which asks a logged-out reader to log in).
func wayBack(path string) (href, text string) {
	if rest, ok := strings.CutPrefix(path, "/portal/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		if u, err := uuid.Parse(id); err == nil && u != uuid.Nil && len(id) == 36 {
			return "/portal/" + u.String(), "Back to the support form"
		}
	}
	return "/console", "Go to the Support Center"
}

// errorPage writes a page that says what went wrong, in words.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	heading := http.StatusText(status)
	switch status {
	case http.StatusNotFound:
		heading = "Not found"
		if msg == "" {
			msg = "There is nothing here, or nothing you may see. Check the address, or go back to the previous page."
		}
	case http.StatusForbidden:
		heading = "This form has expired"
		if msg == "" {
			msg = "The form did not carry a valid security token, so nothing was changed. Go back, reload the page and try again."
		}
	case http.StatusMethodNotAllowed:
		heading = "Not allowed here"
		if msg == "" {
			msg = "This page does not take that kind of request."
		}
	case http.StatusServiceUnavailable:
		heading = "Unavailable for a moment"
	case http.StatusInternalServerError:
		heading = "Something went wrong"
		if msg == "" {
			msg = "Something went wrong on our side. Try again in a moment."
		}
	}
	back, backText := wayBack(r.URL.Path)
	h.render(w, r, status, "error", errorData{page: page{Title: heading, Body: "plain"}, Status: status, Heading: heading, Message: msg, Back: back, BackText: backText})
}
