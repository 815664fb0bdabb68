package app_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/helpstream/helpstream/internal/app"
)

func TestCheckWebhookURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/T000/B000", true},
		{"http://sms-gateway.internal:8080/send?to=1", true},
		{"HTTPS://hooks.example.com/x", true},
		{"https://user:pass@hooks.example.com/x", true},
		{"https://[2001:db8::1]:8443/hook", true},
		{"https://hooks.example.com/" + strings.Repeat("a", app.MaxWebhookURL-len("https://hooks.example.com/")), true},
		{"https://hooks.example.com/" + strings.Repeat("a", app.MaxWebhookURL-len("https://hooks.example.com/")+1), false},
		{"", false},
		{"ftp://hooks.example.com/x", false},
		{"mailto:tech@example.com", false},
		{"javascript:alert(1)", false},
		{"file:///etc/passwd", false},
		{"https:hooks.example.com", false},
		{"hooks.example.com/x", false},
		{"/relative/path", false},
		{"//hooks.example.com/x", false},
		{"https://", false},
		{"https:///path-only", false},
		{"http://exa mple.com", false},
		{" https://hooks.example.com", false},
		{"https://hooks.example.com/%zz", false},
		{"https://hooks.example.com/a\x00b", false},
		{"https://hooks.example.com/\xff\xfe", false},
		{"https://hooks.example.com/\u0085", false},
		{"https://hooks.example.com/\x7f", false},
		{"https://hooks.example.com/a\tb", false},
	}
	for _, tt := range tests {
		t.Run(tt.url[:min(len(tt.url), 40)], func(t *testing.T) {
			err := app.CheckWebhookURL(tt.url)
			if tt.ok && err != nil {
				t.Fatalf("CheckWebhookURL(%q) = %v, want nil", tt.url, err)
			}
			if !tt.ok && !errors.Is(err, app.ErrInvalidWebhookURL) {
				t.Fatalf("CheckWebhookURL(%q) = %v, want ErrInvalidWebhookURL", tt.url, err)
			}
		})
	}
}

// A webhook URL comes back as its scheme and host only: never its path, query or user, where
// receivers put their tokens.
func TestRedactWebhookURL(t *testing.T) {
	for url, want := range map[string]string{
		"https://hooks.example.com/services/T0/B0/secret": "https://hooks.example.com/…",
		"HTTP://gw.example.com:8080/send?token=s3cr3t":    "http://gw.example.com:8080/…",
		"https://user:pass@hooks.example.com/x":           "https://hooks.example.com/…",
		"https://[2001:db8::1]:8443/hook#frag":            "https://[2001:db8::1]:8443/…",
		"not a url at all":                                "…",
	} {
		if got := app.RedactWebhookURL(url); got != want {
			t.Errorf("RedactWebhookURL(%q) = %q, want %q", url, got, want)
		}
	}
}
