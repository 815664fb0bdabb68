package request_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/helpstream/helpstream/domain/request"
)

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in   string
		want request.Platform
	}{
		{"windows", request.Windows},
		{"Windows", request.Windows},
		{"WINDOWS", request.Windows},
		{"win", request.Windows},
		{"Win", request.Windows},
		{"  windows\t", request.Windows},
		{"mac", request.Mac},
		{"Mac", request.Mac},
		{"macos", request.Mac},
		{"macOS", request.Mac},
		{"MacOS", request.Mac},
		{"osx", request.Mac},
		{"OSX", request.Mac},
		{"os x", request.Mac},
		{"OS X", request.Mac},
		{" mac ", request.Mac},
		{"ios", request.IOS},
		{"iOS", request.IOS},
		{"IOS", request.IOS},
		{"iphone", request.IOS},
		{"iPhone", request.IOS},
		{"ipad", request.IOS},
		{"iPad", request.IOS},
		{"android", request.Android},
		{"Android", request.Android},
		{"ANDROID", request.Android},
		{"\nandroid ", request.Android},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := request.ParsePlatform(tt.in)
			if err != nil {
				t.Fatalf("ParsePlatform(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParsePlatform(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParsePlatformRefuses(t *testing.T) {
	for _, in := range []string{
		"", " ", "linux", "ubuntu", "chromeos", "chrome os", "windows phone", "win10", "windows 11",
		"mac os", "mac os x", "macintosh", "os-x", "i phone", "ipod", "watchos", "tvos",
		"android tablet", "droid", "unknown", "w", "windowsx", "wïndows", "\x00windows",
	} {
		t.Run(in, func(t *testing.T) {
			got, err := request.ParsePlatform(in)
			if !errors.Is(err, request.ErrInvalidPlatform) {
				t.Fatalf("ParsePlatform(%q) = %q, %v; want ErrInvalidPlatform", in, got, err)
			}
			if got != "" {
				t.Fatalf("ParsePlatform(%q) returned platform %q with its error", in, got)
			}
			if in != "" && !strings.Contains(err.Error(), in) && !strings.Contains(err.Error(), "\\x00") {
				t.Fatalf("error %q does not quote the refused value %q", err, in)
			}
		})
	}
}

func TestPlatformCapabilities(t *testing.T) {
	tests := []struct {
		platform       request.Platform
		screenSharing  bool
		mobileProfiles bool
	}{
		{request.Windows, true, false},
		{request.Mac, true, false},
		{request.IOS, false, true},
		{request.Android, false, true},
		{"", false, false},
		{"linux", false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.platform), func(t *testing.T) {
			if got := tt.platform.SupportsScreenSharing(); got != tt.screenSharing {
				t.Errorf("SupportsScreenSharing = %v, want %v (R11)", got, tt.screenSharing)
			}
			if got := tt.platform.SupportsMobileProfiles(); got != tt.mobileProfiles {
				t.Errorf("SupportsMobileProfiles = %v, want %v (R12)", got, tt.mobileProfiles)
			}
		})
	}
	want := []request.Platform{request.Windows, request.Mac, request.IOS, request.Android}
	if !slices.Equal(request.Platforms, want) {
		t.Fatalf("Platforms = %v, want %v", request.Platforms, want)
	}
	for _, p := range request.Platforms {
		if got, err := request.ParsePlatform(string(p)); err != nil || got != p {
			t.Errorf("ParsePlatform(%q) = %q, %v: a platform must parse as itself", p, got, err)
		}
	}
}

// R10's lists, written out independently of the code.
var (
	r10Images = []string{".jpeg", ".jpg", ".png", ".gif", ".bmp", ".tiff"}
	r10All    = []string{".jpeg", ".jpg", ".png", ".gif", ".bmp", ".tiff",
		".pdf", ".doc", ".docx", ".odt", ".xls", ".xlsx", ".ppt", ".pptx", ".pps", ".ppsx",
		".log", ".cfg", ".rar", ".zip", ".txt"}
)

func TestAllowedExtensions(t *testing.T) {
	tests := []struct {
		side     request.Side
		platform request.Platform
		want     []string
	}{
		{request.TechnicianSide, request.Windows, r10All},
		{request.TechnicianSide, request.Mac, r10All},
		{request.TechnicianSide, request.IOS, r10All},
		{request.TechnicianSide, request.Android, r10All},
		{request.CustomerSide, request.Windows, r10All},
		{request.CustomerSide, request.Mac, r10All},
		{request.CustomerSide, request.Android, r10All},
		{request.CustomerSide, request.IOS, r10Images},
	}
	for _, tt := range tests {
		t.Run(string(tt.side)+"/"+string(tt.platform), func(t *testing.T) {
			got := request.AllowedExtensions(tt.side, tt.platform)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("AllowedExtensions = %v, want %v", got, tt.want)
			}
			// The caller gets its own copy.
			got[0] = ".exe"
			if slices.Contains(request.AllowedExtensions(tt.side, tt.platform), ".exe") {
				t.Fatal("changing the returned slice changed the allowlist")
			}
		})
	}
}

// R10 for every side × platform × extension: the allowed ones pass in lower and upper case,
// every other one fails with a *FileTypeError that lists what is allowed.
func TestCheckFileTypeEveryExtension(t *testing.T) {
	candidates := append(slices.Clone(r10All),
		".exe", ".sh", ".bat", ".cmd", ".ps1", ".js", ".html", ".svg", ".heic", ".webp",
		".mobileconfig", ".apk", ".dmg", ".msi", ".7z", ".tar", ".gz", ".jpe", ".tif", ".text", ".")
	for _, side := range []request.Side{request.TechnicianSide, request.CustomerSide} {
		for _, p := range request.Platforms {
			allowed := r10All
			if side == request.CustomerSide && p == request.IOS {
				allowed = r10Images
			}
			for _, ext := range candidates {
				for _, name := range []string{"file" + ext, "FILE" + strings.ToUpper(ext)} {
					t.Run(string(side)+"/"+string(p)+"/"+name, func(t *testing.T) {
						err := request.CheckFileType(side, p, name)
						if slices.Contains(allowed, ext) {
							if err != nil {
								t.Fatalf("CheckFileType(%q) = %v, want allowed", name, err)
							}
							return
						}
						assertFileTypeError(t, err, strings.ToLower(ext), allowed)
					})
				}
			}
		}
	}
}

func assertFileTypeError(t *testing.T, err error, ext string, allowed []string) {
	t.Helper()
	if !errors.Is(err, request.ErrFileTypeNotAllowed) {
		t.Fatalf("error = %v, want ErrFileTypeNotAllowed", err)
	}
	var fte *request.FileTypeError
	if !errors.As(err, &fte) {
		t.Fatalf("error %T is not a *FileTypeError", err)
	}
	if fte.Extension != ext {
		t.Errorf("Extension = %q, want %q", fte.Extension, ext)
	}
	if !slices.Equal(fte.Allowed, allowed) {
		t.Errorf("Allowed = %v, want %v", fte.Allowed, allowed)
	}
	msg := err.Error()
	for _, a := range allowed {
		if !strings.Contains(msg, a) {
			t.Errorf("message %q does not list %s", msg, a)
		}
	}
}

func TestCheckFileTypeNames(t *testing.T) {
	tests := []struct {
		name     string
		side     request.Side
		platform request.Platform
		file     string
		wantExt  string // "" with ok
		ok       bool
	}{
		{"upper-case PNG", request.CustomerSide, request.IOS, "Screenshot.PNG", "", true},
		{"mixed-case Docx", request.CustomerSide, request.Windows, "Report.DocX", "", true},
		{"several dots", request.TechnicianSide, request.Mac, "backup.2024.01.zip", "", true},
		{"spaces in the name", request.CustomerSide, request.Android, "my photo (1).jpeg", "", true},
		{"path in the name", request.CustomerSide, request.Windows, "dir/sub/notes.txt", "", true},
		{"exe", request.TechnicianSide, request.Windows, "setup.exe", ".exe", false},
		{"shell script", request.CustomerSide, request.Mac, "fix.sh", ".sh", false},
		{"no extension", request.CustomerSide, request.Windows, "README", "", false},
		{"trailing dot", request.CustomerSide, request.Windows, "photo.", ".", false},
		{"empty name", request.TechnicianSide, request.Windows, "", "", false},
		{"double extension hiding an exe", request.CustomerSide, request.Windows, "photo.png.exe", ".exe", false},
		{"upper-case EXE", request.TechnicianSide, request.Windows, "SETUP.EXE", ".exe", false},
		{"pdf from an iOS customer", request.CustomerSide, request.IOS, "scan.pdf", ".pdf", false},
		{"zip from an iOS customer", request.CustomerSide, request.IOS, "logs.zip", ".zip", false},
		{"pdf to an iOS customer", request.TechnicianSide, request.IOS, "guide.pdf", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := request.CheckFileType(tt.side, tt.platform, tt.file)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckFileType(%q) = %v, want nil", tt.file, err)
				}
				return
			}
			assertFileTypeError(t, err, tt.wantExt, request.AllowedExtensions(tt.side, tt.platform))
		})
	}
}

func TestFileTypeErrorMessage(t *testing.T) {
	tests := []struct {
		err  *request.FileTypeError
		want string
	}{
		{&request.FileTypeError{Extension: ".exe", Allowed: []string{".png", ".jpg"}}, "file type .exe is not allowed; allowed types: .png .jpg"},
		{&request.FileTypeError{Extension: "", Allowed: []string{".png"}}, "file type (none) is not allowed; allowed types: .png"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, request.ErrFileTypeNotAllowed) {
				t.Fatal("errors.Is(ErrFileTypeNotAllowed) = false")
			}
			if errors.Is(tt.err, request.ErrInvalidFile) {
				t.Fatal("a file type error must not match ErrInvalidFile")
			}
		})
	}
}

func TestSniffContent(t *testing.T) {
	var (
		jpeg = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"
		png  = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
		gif  = "GIF89a\x01\x00\x01\x00"
		bmp  = "BM\x00\x00\x00\x00\x00\x00\x00\x00"
		pdf  = "%PDF-1.7\n%\xe2\xe3\xcf\xd3"
		ole  = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"
		zip  = "PK\x03\x04\x14\x00\x06\x00"
		rar  = "Rar!\x1A\x07\x01\x00"
		exe  = "MZ\x90\x00\x03\x00\x00\x00\x04\x00"
		elf  = "\x7fELF\x02\x01\x01\x00"
		text = "2024-01-01 12:00:00 service started\n"
	)
	tests := []struct {
		name, file, head string
		wantType         string
		ok               bool
	}{
		{"jpeg", "a.jpeg", jpeg, "image/jpeg", true},
		{"jpg upper case", "A.JPG", jpeg, "image/jpeg", true},
		{"png", "a.png", png, "image/png", true},
		{"gif", "a.gif", gif, "image/gif", true},
		{"bmp", "a.bmp", bmp, "image/bmp", true},
		{"tiff little-endian", "a.tiff", "II*\x00\x08\x00\x00\x00", "image/tiff", true},
		{"tiff big-endian", "a.tiff", "MM\x00*\x00\x00\x00\x08", "image/tiff", true},
		{"pdf", "a.pdf", pdf, "application/pdf", true},
		{"doc", "a.doc", ole, "application/msword", true},
		{"xls", "a.xls", ole, "application/vnd.ms-excel", true},
		{"ppt", "a.ppt", ole, "application/vnd.ms-powerpoint", true},
		{"pps", "a.pps", ole, "application/vnd.ms-powerpoint", true},
		{"docx", "a.docx", zip, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", true},
		{"xlsx", "a.xlsx", zip, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", true},
		{"pptx", "a.pptx", zip, "application/vnd.openxmlformats-officedocument.presentationml.presentation", true},
		{"ppsx", "a.ppsx", zip, "application/vnd.openxmlformats-officedocument.presentationml.presentation", true},
		{"odt", "a.odt", zip, "application/vnd.oasis.opendocument.text", true},
		{"zip", "a.zip", zip, "application/zip", true},
		{"rar", "a.rar", rar, "application/vnd.rar", true},
		{"txt", "a.txt", text, "text/plain; charset=utf-8", true},
		{"log", "a.log", text, "text/plain; charset=utf-8", true},
		{"cfg", "a.cfg", "[main]\nkey=value\n", "text/plain; charset=utf-8", true},

		{"exe renamed to png", "a.png", exe, "image/png", false},
		{"exe renamed to jpg", "a.jpg", exe, "image/jpeg", false},
		{"png renamed to gif", "a.gif", png, "image/gif", false},
		{"elf renamed to tiff", "a.tiff", elf, "image/tiff", false},
		{"html renamed to pdf", "a.pdf", "<html><script>", "application/pdf", false},
		{"zip renamed to doc", "a.doc", zip, "application/msword", false},
		{"ole renamed to docx", "a.docx", ole, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", false},
		{"exe renamed to zip", "a.zip", exe, "application/zip", false},
		{"zip renamed to rar", "a.rar", zip, "application/vnd.rar", false},
		{"binary renamed to txt", "a.txt", elf, "text/plain; charset=utf-8", false},
		{"html renamed to txt", "a.txt", "<html><body>", "text/plain; charset=utf-8", false},
		{"empty png", "a.png", "", "image/png", false},
		{"exe", "a.exe", exe, "application/octet-stream", false},
		{"no extension", "README", text, "application/octet-stream", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotType, ok := request.SniffContent(tt.file, []byte(tt.head))
			if gotType != tt.wantType || ok != tt.ok {
				t.Fatalf("SniffContent(%q) = %q, %v; want %q, %v", tt.file, gotType, ok, tt.wantType, tt.ok)
			}
		})
	}
}

// Every extension R10 allows has a content check: none falls through to "unknown".
func TestSniffContentKnowsEveryAllowedExtension(t *testing.T) {
	for _, ext := range r10All {
		t.Run(ext, func(t *testing.T) {
			if typ, _ := request.SniffContent("f"+ext, nil); typ == "application/octet-stream" {
				t.Fatalf("SniffContent has no rule for %s", ext)
			}
		})
	}
}
