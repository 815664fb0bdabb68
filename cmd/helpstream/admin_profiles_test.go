package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// `helpstream admin mobile-profile set|list|remove`: templates are validated and versioned per
// company; each refusal says what is wrong.
func TestAdminMobileProfiles(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	acme := uuid.New()
	if _, err := svc.App.CreateCompany(ctx, adminMeta(), app.CreateCompany{CompanyID: acme, Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	dir, files := t.TempDir(), t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plist := write("wifi.mobileconfig", `<?xml version="1.0"?><plist version="1.0"><dict><key>User</key><string>{customer_email}</string></dict></plist>`)
	android := write("wifi.json", `{"user": "{customer_email}"}`)
	broken := write("broken.mobileconfig", `<plist><dict></plist>`)
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(append([]string{"admin"}, args...), "--database-url", url, "--files-dir", files), &out)
		return strings.TrimSpace(out.String()), err
	}
	company := acme.String()
	steps := []struct {
		args    []string
		wantOut string
		wantErr string
	}{
		{[]string{"mobile-profile", "set", "--company", company, "--name", "Corporate Wi-Fi", "--platform", "ios", "--file", plist}, "version 1", ""},
		{[]string{"mobile-profile", "set", "--company", company, "--name", "Corporate Wi-Fi", "--platform", "ios", "--file", plist}, "version 2", ""},
		{[]string{"mobile-profile-set", "--company", company, "--name", "Android Wi-Fi", "--platform", "android", "--file", android}, "version 1", ""},
		{[]string{"mobile-profile", "set", "--company", company, "--name", "Broken", "--platform", "ios", "--file", broken}, "", "invalid mobile profile template"},
		{[]string{"mobile-profile", "set", "--company", company, "--name", "Wrong", "--platform", "ios", "--file", android}, "", "invalid mobile profile template"},
		{[]string{"mobile-profile", "set", "--company", company, "--name", "Win", "--platform", "windows", "--file", plist}, "", "--platform must be ios or android"},
		{[]string{"mobile-profile", "set", "--company", uuid.NewString(), "--name", "X", "--platform", "ios", "--file", plist}, "", "not found"},
		{[]string{"mobile-profile", "set", "--company", company, "--name", "", "--platform", "ios", "--file", plist}, "", "choose a mobile profile template"},
		{[]string{"mobile-profile", "list", "--company", company}, "v2", ""},
		{[]string{"mobile-profile", "remove", "--company", company, "--name", "Corporate Wi-Fi"}, "removed", ""},
		{[]string{"mobile-profile", "remove", "--company", company, "--name", "Corporate Wi-Fi"}, "", "not found"},
	}
	for _, s := range steps {
		out, err := cli(s.args...)
		switch {
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Fatalf("%v: error %v, want one saying %q", s.args, err, s.wantErr)
		case s.wantErr == "" && err != nil:
			t.Fatalf("%v: %v", s.args, err)
		case !strings.Contains(out, s.wantOut):
			t.Fatalf("%v: output %q lacks %q", s.args, out, s.wantOut)
		}
	}
	out, err := cli("mobile-profile", "list", "--company", company)
	if err != nil || strings.Contains(out, "Corporate Wi-Fi") || !strings.Contains(out, "Android Wi-Fi") {
		t.Fatalf("list after the removal: %q, %v", out, err)
	}
}
