package main

import (
	"io"
	"strings"
	"testing"
)

// serve checks --screen-sharing-url before it starts: a bad template refuses to start with
// a message naming the flag; a good one reaches the service's configuration.
func TestServeScreenSharingURLFlag(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string
	}{
		{"", ""},
		{"https://meet.example/{request}?s={session}", ""},
		{"ftp://meet.example/{request}", "--screen-sharing-url"},
		{"https://meet.example/{nope}", "unknown placeholder"},
		{"/relative/{request}", "--screen-sharing-url"},
	}
	for _, tt := range tests {
		f, err := parseServeFlags([]string{"--screen-sharing-url", tt.url, "--admin-token", "x"}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := f.config(io.Discard, "http://127.0.0.1")
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.url, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: error %v, want one saying %q", tt.url, err, tt.wantErr)
		case tt.wantErr == "" && (cfg.ScreenSharing == nil) != (tt.url == ""):
			t.Errorf("%q: provider %v", tt.url, cfg.ScreenSharing)
		}
	}
}
