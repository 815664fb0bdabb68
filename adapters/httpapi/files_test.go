package httpapi_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var (
	imageTypes = []string{".jpeg", ".jpg", ".png", ".gif", ".bmp", ".tiff"}
	allTypes   = append(slices.Clone(imageTypes), ".pdf", ".doc", ".docx", ".odt", ".xls", ".xlsx", ".ppt", ".pptx",
		".pps", ".ppsx", ".log", ".cfg", ".rar", ".zip", ".txt")
)

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestSourceInformation is R1: the device type, OS, version and browser come from the
// User-Agent (the body's fields win), the IP from the connection.
func TestSourceInformation(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	cases := []struct {
		ua                           string
		device, os, version, browser string
	}{
		{uaWindows, "windows", "Windows", "10.0", "Chrome 120"},
		{uaMac, "mac", "macOS", "14.2.1", "Safari 17"},
		{uaIOS, "ios", "iOS", "17.2", "Safari 17"},
		{uaAndroid, "android", "Android", "14", "Chrome 120"},
	}
	for _, c := range cases {
		id, customer := e.submit(t, w.portalA, c.ua)
		d := customer.details(t, custPath(id))
		if d.Source.DeviceType != c.device || d.Source.OS != c.os || d.Source.OSVersion != c.version || d.Source.Browser != c.browser || d.Source.IP != "127.0.0.1" {
			t.Errorf("%s: source %+v", c.device, d.Source)
		}
	}
	// The body's own fields win over the User-Agent; the platform is spelled loosely.
	var s submission
	e.anonymous().with(uaWindows).post(t, "/api/v1/portals/"+w.portalA.String()+"/requests", map[string]any{
		"customer_name": "Ada", "customer_email": "ada@example.com", "description": "help",
		"device_type": "iPhone", "os": "iOS", "os_version": "16.1", "browser": "HelpApp 2",
	}).want(t, http.StatusCreated).decode(t, &s)
	d := (&client{e: e, bearer: s.CustomerToken}).details(t, custPath(s.RequestID))
	if d.Source.DeviceType != "ios" || d.Source.OSVersion != "16.1" || d.Source.Browser != "HelpApp 2" {
		t.Errorf("body fields: %+v", d.Source)
	}
	// Without a User-Agent that tells, device_type is required.
	e.anonymous().with("curl/8.0").post(t, "/api/v1/portals/"+w.portalA.String()+"/requests", map[string]any{
		"customer_name": "Ada", "customer_email": "ada@example.com", "description": "help",
	}).wantErr(t, http.StatusUnprocessableEntity, "missing_field")
	e.anonymous().with("curl/8.0").post(t, "/api/v1/portals/"+w.portalA.String()+"/requests", map[string]any{
		"customer_name": "Ada", "customer_email": "ada@example.com", "description": "help", "device_type": "blackberry",
	}).wantErr(t, http.StatusUnprocessableEntity, "invalid")
}

// TestFileRules covers R10 and §6: the allowlist by platform, content sniffing, the size limit,
// generated storage names and safe downloads.
func TestFileRules(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	iosID, iosCustomer := w.inChat(t, uaIOS)
	winID, winCustomer := w.inChat(t, uaWindows)
	png := pngBytes(t)

	refused := func(t *testing.T, c *client, path, name string, content []byte, status int, code string) apiError {
		t.Helper()
		before, files := e.tail(t), len(e.storedFiles(t))
		er := c.upload(t, path, name, content).wantErr(t, status, code)
		e.unchanged(t, before, "a refused upload of "+name)
		if n := len(e.storedFiles(t)); n != files {
			t.Errorf("a refused upload of %s left %d files behind", name, n-files)
		}
		return er
	}

	t.Run("iOS customers share images only", func(t *testing.T) {
		er := refused(t, iosCustomer, custPath(iosID, "files"), "manual.pdf", pdfBytes(), http.StatusUnsupportedMediaType, "file_type_not_allowed")
		if !sameSet(er.Allowed, imageTypes) {
			t.Errorf("allowed types for iOS: %v", er.Allowed)
		}
		for _, ext := range imageTypes {
			if !strings.Contains(er.Message, ext) {
				t.Errorf("the message does not list %s: %q", ext, er.Message)
			}
		}
		iosCustomer.upload(t, custPath(iosID, "files"), "screenshot.PNG", png).want(t, http.StatusCreated)
	})

	t.Run("executables are refused everywhere", func(t *testing.T) {
		exe := append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{0}, 64)...)
		er := refused(t, winCustomer, custPath(winID, "files"), "setup.exe", exe, http.StatusUnsupportedMediaType, "file_type_not_allowed")
		if !sameSet(er.Allowed, allTypes) {
			t.Errorf("allowed types for Windows: %v", er.Allowed)
		}
		er = refused(t, w.techA, reqPath(winID, "files"), "fix.exe", exe, http.StatusUnsupportedMediaType, "file_type_not_allowed")
		if !sameSet(er.Allowed, allTypes) {
			t.Errorf("allowed types for technicians: %v", er.Allowed)
		}
		refused(t, w.techA, reqPath(winID, "files"), "noextension", []byte("hello\n"), http.StatusUnsupportedMediaType, "file_type_not_allowed")
	})

	t.Run("content must match the extension", func(t *testing.T) {
		refused(t, winCustomer, custPath(winID, "files"), "photo.png", []byte("just some text, not a picture\n"), http.StatusUnsupportedMediaType, "file_content_mismatch")
		refused(t, iosCustomer, custPath(iosID, "files"), "photo.jpg", png, http.StatusUnsupportedMediaType, "file_content_mismatch")
		refused(t, w.techA, reqPath(winID, "files"), "report.pdf", []byte("<html><script>alert(1)</script></html>"), http.StatusUnsupportedMediaType, "file_content_mismatch")
		refused(t, w.techA, reqPath(winID, "files"), "empty.txt", nil, http.StatusUnprocessableEntity, "invalid")
	})

	t.Run("size limit", func(t *testing.T) {
		// Exactly at the limit is fine; one byte over, or far over, is 413 and writes nothing.
		atLimit := append(slices.Clone(png[:8]), bytes.Repeat([]byte{0}, maxFileSize-8)...)
		w.techA.upload(t, reqPath(winID, "files"), "big.png", atLimit).want(t, http.StatusCreated)
		refused(t, w.techA, reqPath(winID, "files"), "bigger.png", append(atLimit, 0), http.StatusRequestEntityTooLarge, "too_large")
		refused(t, winCustomer, custPath(winID, "files"), "huge.png", append(atLimit, make([]byte, 2*maxFileSize)...), http.StatusRequestEntityTooLarge, "too_large")
	})

	t.Run("stored under generated names, downloaded as attachments", func(t *testing.T) {
		var up commandResult
		winCustomer.upload(t, custPath(winID, "files"), `..\..\evil/../../etc/passwd.txt`, []byte("root:x:0:0\n")).
			want(t, http.StatusCreated).decode(t, &up)
		for _, f := range e.storedFiles(t) {
			if strings.Contains(f, "passwd") || strings.Contains(f, "evil") {
				t.Errorf("stored under a client's name: %s", f)
			}
		}
		w.techA.download(t, reqPath(winID, "files", up.ID.String()), "passwd.txt", []byte("root:x:0:0\n"))
		// A file of one request does not open through another.
		w.techA.get(t, reqPath(iosID, "files", up.ID.String())).wantErr(t, http.StatusNotFound, "not_found")
		iosCustomer.get(t, custPath(iosID, "files", up.ID.String())).wantErr(t, http.StatusNotFound, "not_found")
		w.techA.get(t, reqPath(winID, "files", uuid.NewString())).wantErr(t, http.StatusNotFound, "not_found")
		w.techA.get(t, reqPath(winID, "files", "passwd.txt")).wantErr(t, http.StatusNotFound, "not_found")
	})

	t.Run("malformed uploads", func(t *testing.T) {
		before := e.tail(t)
		path := reqPath(winID, "files")
		w.techA.raw(t, http.MethodPost, path, []byte(`{"file":"x"}`)).wantErr(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		w.techA.raw(t, http.MethodPost, path, []byte("garbage"), contentType("multipart/form-data")).wantErr(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		w.techA.raw(t, http.MethodPost, path, []byte("--xyz\r\nContent-Disposition form-data\r\n\r\nv\r\n--xyz--\r\n"),
			contentType("multipart/form-data; boundary=xyz")).wantErr(t, http.StatusBadRequest, "malformed_multipart")
		w.techA.raw(t, http.MethodPost, path, []byte("garbage"), contentType("multipart/form-data; boundary=xyz")).wantErr(t, http.StatusUnprocessableEntity, "missing_field")
		w.techA.raw(t, http.MethodPost, path, []byte("--xyz\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--xyz--\r\n"),
			contentType("multipart/form-data; boundary=xyz")).wantErr(t, http.StatusUnprocessableEntity, "missing_field")
		w.techA.raw(t, http.MethodPost, path, []byte("--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nv\r\n--xyz--\r\n"),
			contentType("multipart/form-data; boundary=xyz")).wantErr(t, http.StatusUnprocessableEntity, "missing_field")
		e.unchanged(t, before, "malformed uploads")
	})
}

// TestPlatformRules covers R11 and R12: screen sharing for Windows and Mac only, mobile
// profiles for iOS and Android only.
func TestPlatformRules(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	for _, c := range []struct {
		name          string
		ua            string
		screen, profs bool
	}{
		{"windows", uaWindows, true, false},
		{"mac", uaMac, true, false},
		{"ios", uaIOS, false, true},
		{"android", uaAndroid, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, customer := w.inChat(t, c.ua)
			d := w.techA.details(t, reqPath(id))
			if slices.Contains(d.Actions, "request_screen_sharing") != c.screen || slices.Contains(d.Actions, "send_mobile_profile") != c.profs {
				t.Errorf("actions offered: %v", d.Actions)
			}
			before := e.tail(t)
			if c.screen {
				w.techA.post(t, reqPath(id, "screen-sharing"), nil).want(t, http.StatusOK)
				w.techA.post(t, reqPath(id, "screen-sharing"), nil).wantErr(t, http.StatusConflict, "conflict") // one at a time
				customer.post(t, custPath(id, "screen-sharing/decline"), nil).want(t, http.StatusOK)
				customer.post(t, custPath(id, "screen-sharing/accept"), nil).wantErr(t, http.StatusConflict, "conflict") // nothing waiting
			} else {
				w.techA.post(t, reqPath(id, "screen-sharing"), nil).wantErr(t, http.StatusUnprocessableEntity, "not_supported")
				customer.post(t, custPath(id, "screen-sharing/accept"), nil).wantErr(t, http.StatusConflict, "conflict")
				e.unchanged(t, before, "refused screen sharing")
			}
			before = e.tail(t)
			if c.profs {
				w.techA.post(t, reqPath(id, "mobile-profiles"), map[string]any{"profile": "Corporate Wi-Fi"}).want(t, http.StatusOK)
				d := customer.details(t, custPath(id))
				seen := false
				for _, en := range d.Entries {
					seen = seen || en.Event == "request.mobile_profile_sent.v1" && en.Body == "Corporate Wi-Fi"
				}
				if !seen {
					t.Error("the customer does not see the profile")
				}
			} else {
				w.techA.post(t, reqPath(id, "mobile-profiles"), map[string]any{"profile": "Corporate Wi-Fi"}).wantErr(t, http.StatusUnprocessableEntity, "not_supported")
				e.unchanged(t, before, "a refused mobile profile")
			}
		})
	}
}
