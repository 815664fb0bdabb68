package request_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
)

const iosTemplate = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>PayloadDisplayName</key><string>Wi-Fi for {customer_name}</string>
<key>PayloadIdentifier</key><string>com.example.{request}</string>
<key>EmailAddress</key><string>{customer_email}</string>
</dict></plist>`

const androidTemplate = `{"ssid": "corp", "user": "{customer_email}", "label": "for {customer_name}", "request": "{request}", "company": "{company}"}`

func TestValidateProfileTemplate(t *testing.T) {
	tests := []struct {
		name     string
		platform request.Platform
		content  string
		ok       bool
	}{
		{"iOS property list", request.IOS, iosTemplate, true},
		{"Android JSON object", request.Android, androidTemplate, true},
		{"no placeholder", request.Android, `{"a": 1}`, true},
		{"empty", request.IOS, "", false},
		{"too large", request.Android, `{"a": "` + strings.Repeat("x", request.MaxProfileTemplateSize) + `"}`, false},
		{"not XML", request.IOS, "plist", false},
		{"unclosed element", request.IOS, "<plist><dict></plist>", false},
		{"another root", request.IOS, "<html><dict/></html>", false},
		{"no dict", request.IOS, "<plist><array/></plist>", false},
		{"two roots", request.IOS, "<plist><dict/></plist><plist><dict/></plist>", false},
		{"an entity declaration", request.IOS, `<!DOCTYPE x [<!ENTITY e "boom">]><plist><dict/></plist>`, false},
		{"a placeholder as an element name", request.IOS, "<plist><dict><{request}/></dict></plist>", false},
		{"JSON array", request.Android, `[1, 2]`, false},
		{"not JSON", request.Android, `{"a": }`, false},
		{"a placeholder outside a JSON string", request.Android, `{"a": {request}}`, false},
		{"NUL", request.Android, "{\"a\": \"\x00\"}", false},
		{"invalid UTF-8", request.Android, "{\"a\": \"\xff\"}", false},
		{"a Windows template", request.Windows, androidTemplate, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := request.ValidateProfileTemplate(tt.platform, []byte(tt.content))
			if tt.ok != (err == nil) {
				t.Fatalf("ValidateProfileTemplate = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, request.ErrInvalidProfileTemplate) {
				t.Fatalf("error %v does not match ErrInvalidProfileTemplate", err)
			}
		})
	}
}

// Hostile values are escaped for the file's format: the filled file parses, and holds the
// values exactly.
func TestFillProfileEscapes(t *testing.T) {
	v := request.ProfileValues{CustomerName: `Zoë </string><key>x</key> "&" \ {request}`, CustomerEmail: `a"b@example.com`,
		RequestID: uuid.MustParse("00000000-0000-0000-0000-0000000000a1"), CompanyID: uuid.MustParse("00000000-0000-0000-0000-0000000000c1")}

	ios := request.FillProfile(request.IOS, []byte(iosTemplate), v)
	var plist struct {
		Strings []string `xml:"dict>string"`
	}
	if err := xml.Unmarshal(ios, &plist); err != nil {
		t.Fatalf("filled plist does not parse: %v\n%s", err, ios)
	}
	want := []string{"Wi-Fi for " + v.CustomerName, "com.example.00000000-0000-0000-0000-0000000000a1", v.CustomerEmail}
	if strings.Join(plist.Strings, "|") != strings.Join(want, "|") {
		t.Fatalf("plist strings %q, want %q", plist.Strings, want)
	}

	android := request.FillProfile(request.Android, []byte(androidTemplate), v)
	var m map[string]string
	if err := json.Unmarshal(android, &m); err != nil {
		t.Fatalf("filled JSON does not parse: %v\n%s", err, android)
	}
	if m["label"] != "for "+v.CustomerName || m["user"] != v.CustomerEmail || m["company"] != v.CompanyID.String() || m["request"] != v.RequestID.String() {
		t.Fatalf("filled JSON %v", m)
	}
}

func TestSendMobileProfileFile(t *testing.T) {
	ref := func(p request.Platform, v int, name string) request.ProfileTemplateRef {
		return request.ProfileTemplateRef{Name: name, Platform: p, Version: v}
	}
	tests := []struct {
		name     string
		platform request.Platform
		state    state
		ref      request.ProfileTemplateRef
		want     outcome
	}{
		{"iOS template to an iOS customer", request.IOS, stInChat, ref(request.IOS, 3, "Corporate Wi-Fi"), records(profileFileSent(meID))},
		{"Android template to an iOS customer", request.IOS, stInChat, ref(request.Android, 1, "Corporate Wi-Fi"), fails(request.ErrProfilePlatformMismatch)},
		{"to a Windows customer", request.Windows, stInChat, ref(request.Windows, 1, "x"), fails(request.ErrMobileProfilesUnsupported)},
		{"no version", request.Android, stInChat, ref(request.Android, 0, "x"), fails(request.ErrInvalidProfileTemplateRef)},
		{"no name", request.Android, stInChat, ref(request.Android, 1, ""), fails(request.ErrInvalidProfileTemplateRef)},
		{"outside the chat", request.IOS, stAssigned, ref(request.IOS, 3, "Corporate Wi-Fi"), fails(request.ErrChatNotJoined)},
		{"closed", request.IOS, stClosed, ref(request.IOS, 3, "Corporate Wi-Fi"), fails(request.ErrClosed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, tt.state, tt.platform)
			check(t, r, r.SendMobileProfileFile(me.tech(t), tt.ref), tt.want)
			if tt.want.err == nil {
				var replayed request.Request
				for _, e := range append(history(tt.state, tt.platform), r.Changes()...) {
					if err := replayed.Admit(e); err != nil {
						t.Fatalf("Admit %s: %v", e.EventType(), err)
					}
				}
			}
		})
	}
	if _, ext := request.ProfileFileType(request.IOS); ext != ".mobileconfig" {
		t.Errorf("iOS extension %s", ext)
	}
	if ct, _ := request.ProfileFileType(request.IOS); ct != "application/x-apple-aspen-config" {
		t.Errorf("iOS content type %s", ct)
	}
}
