package request

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/text"
)

// Mobile profiles (R12) are files built from templates an administrator keeps per company:
// an iOS configuration profile (.mobileconfig, an XML property list) or an Android managed
// configuration (a JSON object). A template may hold placeholders that are filled, escaped for
// the file's format, when the customer or the technician downloads the file:
//
//	{customer_name} {customer_email} {request} {company}
const MaxProfileTemplateSize = 64 << 10

// ProfilePlaceholders are the placeholders a profile template may hold.
var ProfilePlaceholders = []string{"{customer_name}", "{customer_email}", "{request}", "{company}"}

// Errors of profile templates and of sending a profile file.
var (
	ErrInvalidProfileTemplate  = errors.New("invalid mobile profile template")
	ErrProfilePlatformMismatch = errors.New("that profile is for another platform than the customer's device")
)

// ProfileFileType is the content type and file name extension of a platform's profile file.
func ProfileFileType(p Platform) (contentType, ext string) {
	if p == IOS {
		return "application/x-apple-aspen-config", ".mobileconfig"
	}
	return "application/json", ".json"
}

// ValidateProfileTemplate checks a template for a platform: at most MaxProfileTemplateSize
// bytes of UTF-8; for iOS a well-formed XML property list (a plist root holding a dict), for
// Android a JSON object; placeholders only where filling them keeps the file well-formed
// (inside XML text or JSON strings).
func ValidateProfileTemplate(p Platform, content []byte) error {
	if !p.SupportsMobileProfiles() {
		return fmt.Errorf("%w: templates are for ios or android, not %q", ErrInvalidProfileTemplate, p)
	}
	if len(content) == 0 || len(content) > MaxProfileTemplateSize {
		return fmt.Errorf("%w: it must hold 1 to %d bytes", ErrInvalidProfileTemplate, MaxProfileTemplateSize)
	}
	if !utf8.Valid(content) || bytes.IndexByte(content, 0) >= 0 {
		return fmt.Errorf("%w: it must be UTF-8 text without NUL", ErrInvalidProfileTemplate)
	}
	// Filled with values that need escaping, it must still be well-formed.
	filled := FillProfile(p, content, ProfileValues{CustomerName: `Zoë "<&>' \ O'Brien`, CustomerEmail: "a&b@example.com", RequestID: uuid.Nil, CompanyID: uuid.Nil})
	if err := wellFormed(p, filled); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProfileTemplate, err)
	}
	return nil
}

func wellFormed(p Platform, content []byte) error {
	if p == Android {
		var v map[string]any
		if err := json.Unmarshal(content, &v); err != nil {
			return fmt.Errorf("not a JSON object: %w", err)
		}
		return nil
	}
	d := xml.NewDecoder(bytes.NewReader(content))
	d.Strict = true
	var stack []string
	rootSeen, dictSeen := false, false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				if rootSeen || t.Name.Local != "plist" {
					return errors.New("the root element must be a single <plist>")
				}
				rootSeen = true
			}
			if len(stack) == 1 && t.Name.Local == "dict" {
				dictSeen = true
			}
			stack = append(stack, t.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.Directive:
			if !strings.HasPrefix(strings.TrimSpace(string(t)), "DOCTYPE plist") {
				return errors.New("only the plist DOCTYPE is allowed")
			}
		}
	}
	if !rootSeen || !dictSeen {
		return errors.New("a property list needs a <plist> root holding a <dict>")
	}
	return nil
}

// ProfileValues are what a profile's placeholders are filled with.
type ProfileValues struct {
	CustomerName, CustomerEmail string
	RequestID, CompanyID        uuid.UUID
}

// FillProfile fills a template's placeholders, each value escaped for the platform's format
// (XML text for iOS, the inside of a JSON string for Android).
func FillProfile(p Platform, template []byte, v ProfileValues) []byte {
	escape := func(s string) string {
		if p == Android {
			b, _ := json.Marshal(s) // a string always marshals
			return string(b[1 : len(b)-1])
		}
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
		return b.String()
	}
	r := strings.NewReplacer(
		"{customer_name}", escape(v.CustomerName), "{customer_email}", escape(v.CustomerEmail),
		"{request}", escape(v.RequestID.String()), "{company}", escape(v.CompanyID.String()))
	return []byte(r.Replace(string(template)))
}

// ProfileTemplateRef names one version of a company's profile template.
type ProfileTemplateRef struct {
	Name     string
	Platform Platform
	Version  int
}

// ErrInvalidProfileTemplateRef is returned for a template reference without a name (1 to 200
// characters of one line), a platform or a version.
var ErrInvalidProfileTemplateRef = errors.New("choose a mobile profile template")

func (t ProfileTemplateRef) validate(p Platform) error {
	if t.Version < 1 {
		return ErrInvalidProfileTemplateRef
	}
	if err := text.Bounded(t.Name, MaxProfileNameLength, text.Line, ErrInvalidProfileTemplateRef); err != nil {
		return err
	}
	if t.Platform != p {
		return ErrProfilePlatformMismatch
	}
	return nil
}

// SendMobileProfileFile sends an iOS or Android customer the profile file built from one
// version of a company template for their platform (R12); both sides download it.
func (r *Request) SendMobileProfileFile(t *directory.Technician, tmpl ProfileTemplateRef) error {
	return r.decide(r.canSendMobileProfile(t), func() (eventlog.Event, error) {
		return &MobileProfileFileSent{TechnicianID: t.ID(), Template: tmpl.Name, Platform: tmpl.Platform, Version: tmpl.Version}, tmpl.validate(r.Platform())
	})
}
