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

// `helpstream admin canned set|list|remove`: a title names a response; set again replaces it;
// each refusal says what is wrong.
func TestAdminCannedResponses(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	acme := uuid.New()
	if _, err := svc.App.CreateCompany(ctx, adminMeta(), app.CreateCompany{CompanyID: acme, Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	bodyFile := filepath.Join(t.TempDir(), "reboot.txt")
	if err := os.WriteFile(bodyFile, []byte("Please restart, {customer_name}.\nThen tell me."), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(append([]string{"admin"}, args...), "--database-url", url, "--files-dir", files), &out)
		return strings.TrimSpace(out.String()), err
	}
	company := acme.String()
	for _, s := range []struct {
		args             []string
		wantOut, wantErr string
	}{
		{[]string{"canned", "set", "--company", company, "--title", "Greeting", "--body", "Hello {customer_name}"}, "saved", ""},
		// The title names the response whatever its case: this renames it, and back.
		{[]string{"canned", "set", "--company", company, "--title", "greeting", "--body", "Hello {customer_name}"}, "saved", ""},
		{[]string{"canned", "set", "--company", company, "--title", "Greeting", "--body", "Hello {customer_name}"}, "saved", ""},
		{[]string{"canned", "set", "--company", company, "--title", "Greeting", "--body", "Hello {customer_name}"}, "unchanged", ""},
		{[]string{"canned", "set", "--company", company, "--title", "Greeting", "--body", "Hi {customer_name}!"}, "saved", ""},
		{[]string{"canned-set", "--company", company, "--title", "Reboot", "--body-file", bodyFile}, "saved", ""},
		{[]string{"canned", "set", "--company", company, "--title", "Both", "--body", "x", "--body-file", bodyFile}, "", "not both"},
		{[]string{"canned", "set", "--company", company, "--title", "", "--body", "x"}, "", "title must be 1 to 100"},
		{[]string{"canned", "set", "--company", company, "--title", "Empty", "--body", " "}, "", "body must be 1 to 5000"},
		{[]string{"canned", "set", "--company", uuid.NewString(), "--title", "X", "--body", "x"}, "", "not found"},
		{[]string{"canned", "list", "--company", company}, "Reboot", ""},
		{[]string{"canned", "remove", "--company", company, "--title", "GREETING"}, "removed", ""},
		{[]string{"canned", "remove", "--company", company, "--title", "Greeting"}, "", "not found"},
	} {
		out, err := cli(s.args...)
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) {
				t.Errorf("%v: err %v, want %q", s.args, err, s.wantErr)
			}
			continue
		}
		if err != nil || !strings.Contains(out, s.wantOut) {
			t.Errorf("%v: %q %v, want %q", s.args, out, err, s.wantOut)
		}
	}
	c, err := svc.App.Company(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	if rs := c.CannedResponses(); len(rs) != 1 || rs[0].Title != "Reboot" || rs[0].Body != "Please restart, {customer_name}.\nThen tell me." {
		t.Fatalf("left %+v", rs)
	}
}
