package request

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Platform is the kind of device a customer asks for help from.
type Platform string

const (
	Windows Platform = "windows"
	Mac     Platform = "mac"
	IOS     Platform = "ios"
	Android Platform = "android"
)

// Platforms lists every supported platform.
var Platforms = []Platform{Windows, Mac, IOS, Android}

// ErrInvalidPlatform is returned for a device type other than windows, mac, ios or android.
var ErrInvalidPlatform = errors.New("device type must be windows, mac, ios or android")

// ParsePlatform reads a device type, case-insensitively ("macOS" and "iPhone" included).
func ParsePlatform(s string) (Platform, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "windows", "win":
		return Windows, nil
	case "mac", "macos", "osx", "os x":
		return Mac, nil
	case "ios", "iphone", "ipad":
		return IOS, nil
	case "android":
		return Android, nil
	}
	return "", fmt.Errorf("%w, not %q", ErrInvalidPlatform, s)
}

// SupportsScreenSharing reports whether a technician may ask to see this platform's screen (R11).
func (p Platform) SupportsScreenSharing() bool { return p == Windows || p == Mac }

// SupportsMobileProfiles reports whether a configuration profile can be sent to it (R12).
func (p Platform) SupportsMobileProfiles() bool { return p == IOS || p == Android }

// Side tells who did something in a request's chat.
type Side string

const (
	CustomerSide   Side = "customer"
	TechnicianSide Side = "technician"
)

var (
	imageExtensions = []string{".jpeg", ".jpg", ".png", ".gif", ".bmp", ".tiff"}
	allExtensions   = append(slices.Clone(imageExtensions),
		".pdf", ".doc", ".docx", ".odt", ".xls", ".xlsx", ".ppt", ".pptx", ".pps", ".ppsx",
		".log", ".cfg", ".rar", ".zip", ".txt")
)

// AllowedExtensions lists the file types an uploader may share (R10): technicians and
// Windows, Mac and Android customers share documents, archives and images; iOS customers
// share images only.
func AllowedExtensions(side Side, platform Platform) []string {
	if side == CustomerSide && platform == IOS {
		return slices.Clone(imageExtensions)
	}
	return slices.Clone(allExtensions)
}

// FileTypeError says that a file's type may not be shared, and which types may.
type FileTypeError struct {
	Extension string
	Allowed   []string
}

// ErrFileTypeNotAllowed is matched (errors.Is) by every *FileTypeError.
var ErrFileTypeNotAllowed = errors.New("file type not allowed")

func (e *FileTypeError) Error() string {
	ext := e.Extension
	if ext == "" {
		ext = "(none)"
	}
	return fmt.Sprintf("file type %s is not allowed; allowed types: %s", ext, strings.Join(e.Allowed, " "))
}

func (e *FileTypeError) Is(target error) bool { return target == ErrFileTypeNotAllowed }

// CheckFileType returns a *FileTypeError unless the file's extension is allowed for the side
// and platform.
func CheckFileType(side Side, platform Platform, fileName string) error {
	ext := strings.ToLower(path.Ext(fileName))
	allowed := AllowedExtensions(side, platform)
	if !slices.Contains(allowed, ext) {
		return &FileTypeError{Extension: ext, Allowed: allowed}
	}
	return nil
}
