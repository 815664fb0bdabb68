package app

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/text"
)

// ProfileTemplate is one version of a company's mobile profile template (R12).
type ProfileTemplate struct {
	CompanyID uuid.UUID        `json:"company_id"`
	Name      string           `json:"name"`
	Version   int              `json:"version"`
	Platform  request.Platform `json:"platform"`
	Content   []byte           `json:"-"`
	CreatedAt time.Time        `json:"created_at"`
}

// ProfileTemplates keeps the companies' mobile profile templates, every version of them.
type ProfileTemplates interface {
	// Put stores the template as its name's next version and returns that version.
	Put(ctx context.Context, t ProfileTemplate) (int, error)
	// Current lists the company's templates not removed, at their latest versions.
	Current(ctx context.Context, companyID uuid.UUID) ([]ProfileTemplate, error)
	// Version returns one version of a template, removed or not, or ErrNotFound.
	Version(ctx context.Context, companyID uuid.UUID, name string, version int) (ProfileTemplate, error)
	// Remove takes a template out of the technicians' choice, or answers ErrNotFound.
	Remove(ctx context.Context, companyID uuid.UUID, name string) error
}

// ErrNoProfileTemplates is returned when no template store is configured.
var ErrNoProfileTemplates = errors.New("mobile profile templates are not configured")

// SetMobileProfileTemplate validates a template and stores it as the next version of the
// company's template name; it returns that version. It is the administrators' (the CLI; the
// HTTP layer authorises its callers).
func (a *App) SetMobileProfileTemplate(ctx context.Context, _ Meta, t ProfileTemplate) (int, error) {
	if a.profiles == nil {
		return 0, ErrNoProfileTemplates
	}
	t.Name = strings.TrimSpace(t.Name)
	if err := text.Bounded(t.Name, request.MaxProfileNameLength, text.Line, request.ErrInvalidProfileTemplateRef); err != nil {
		return 0, err
	}
	if err := request.ValidateProfileTemplate(t.Platform, t.Content); err != nil {
		return 0, err
	}
	if _, err := a.Company(ctx, t.CompanyID); err != nil {
		return 0, err
	}
	return a.profiles.Put(ctx, t)
}

// RemoveMobileProfileTemplate takes a template out of the technicians' choice; files already
// sent from it stay downloadable. It is the administrators'.
func (a *App) RemoveMobileProfileTemplate(ctx context.Context, _ Meta, companyID uuid.UUID, name string) error {
	if a.profiles == nil {
		return ErrNoProfileTemplates
	}
	return a.profiles.Remove(ctx, companyID, name)
}

// MobileProfileTemplates lists a company's current templates (no content). A technician
// sees only those of companies they have access to (R2: others are ErrNotFound).
func (a *App) MobileProfileTemplates(ctx context.Context, meta Meta, companyID uuid.UUID) ([]ProfileTemplate, error) {
	if a.profiles == nil {
		return []ProfileTemplate{}, nil
	}
	if meta.Actor.Kind != Admin.Kind {
		t, err := a.Technician(ctx, meta.Actor.ID)
		if err != nil || meta.Actor.Kind != "technician" || !t.HasAccess(companyID) {
			return nil, fmt.Errorf("company %s: %w", companyID, ErrNotFound)
		}
	}
	list, err := a.profiles.Current(ctx, companyID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Content = nil
	}
	return list, nil
}

// SendMobileProfileFile sends the customer the file built from the current version of the
// company's template name (R12); its platform must be the customer's.
func (a *App) SendMobileProfileFile(ctx context.Context, meta Meta, requestID uuid.UUID, name string) (Result, error) {
	if a.profiles == nil {
		return Result{}, ErrNoProfileTemplates
	}
	name = strings.TrimSpace(name)
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician, _ *reads) error {
		ref := request.ProfileTemplateRef{Name: name, Platform: r.Platform()}
		if r.VisibleTo(t) && name != "" {
			list, err := a.profiles.Current(ctx, r.CompanyID())
			if err != nil {
				return err
			}
			for _, tmpl := range list {
				if tmpl.Name == name {
					ref.Platform, ref.Version = tmpl.Platform, tmpl.Version
				}
			}
		}
		return r.SendMobileProfileFile(t, ref)
	})
}

// ProfileFile is a generated mobile profile file.
type ProfileFile struct {
	Name        string
	ContentType string
	Content     []byte
}

var unsafeFileName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// MobileProfileFile builds the file a request's event eventID sent (a
// request.mobile_profile_file_sent): the template version it names, filled for the request's
// customer. The viewer must see the request (a technician of its company, or its own
// customer); anything else is ErrNotFound.
func (qs *Queries) MobileProfileFile(ctx context.Context, v Viewer, requestID, eventID uuid.UUID, templates ProfileTemplates) (ProfileFile, error) {
	notFound := fmt.Errorf("mobile profile %s of request %s: %w", eventID, requestID, ErrNotFound)
	if templates == nil || v.IsAuditor() {
		return ProfileFile{}, notFound
	}
	r, l, err := qs.requests.load(ctx, qs.store, requestID)
	if err != nil {
		return ProfileFile{}, err
	}
	if err := qs.checkViewer(ctx, v, r); err != nil {
		return ProfileFile{}, err
	}
	var sent *request.MobileProfileFileSent
	for i, e := range l.history {
		if e, ok := e.(*request.MobileProfileFileSent); ok && l.recorded[i].ID == eventID {
			sent = e
		}
	}
	if sent == nil {
		return ProfileFile{}, notFound
	}
	tmpl, err := templates.Version(ctx, r.CompanyID(), sent.Template, sent.Version)
	if err != nil {
		return ProfileFile{}, err
	}
	contentType, _ := request.ProfileFileType(tmpl.Platform)
	c := r.Customer()
	return ProfileFile{Name: ProfileFileName(sent.Template, tmpl.Platform), ContentType: contentType, Content: request.FillProfile(tmpl.Platform, tmpl.Content,
		request.ProfileValues{CustomerName: c.Name, CustomerEmail: c.Email, RequestID: r.ID(), CompanyID: r.CompanyID()})}, nil
}

// ProfileFileName is the name a profile file built from the template name downloads as:
// the name's letters, digits, dots and dashes, and the platform's extension.
func ProfileFileName(template string, p request.Platform) string {
	_, ext := request.ProfileFileType(p)
	name := strings.Trim(unsafeFileName.ReplaceAllString(template, "-"), "-.")
	if name == "" {
		name = "profile"
	}
	return name + ext
}

// ProfileTemplates returns the App's template store (nil when none is configured): what the
// download handlers pass to MobileProfileFile.
func (a *App) ProfileTemplates() ProfileTemplates { return a.profiles }
