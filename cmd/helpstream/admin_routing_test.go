package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// `helpstream admin routing set|show`: the policy is set, shown, and every refusal says what is
// wrong.
func TestAdminRouting(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	acme, tech := uuid.New(), uuid.New()
	if _, err := svc.App.CreateCompany(ctx, adminMeta(), app.CreateCompany{CompanyID: acme, Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.App.RegisterTechnician(ctx, adminMeta(), app.RegisterTechnician{TechnicianID: tech, Name: "Alice Martin", Email: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
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
		{[]string{"routing", "show", "--company", company}, "mode:        off", ""},
		{[]string{"routing", "set", "--company", company, "--mode", "round-robin", "--capacity", "3", "--technician-capacity", tech.String() + "=6", "--away-limit", "10m"}, "set (version 0)", ""},
		{[]string{"routing", "show", "--company", company}, "technician:  " + tech.String() + " (Alice Martin) capacity 6", ""},
		{[]string{"routing-show", "--company", company}, "away limit:  10m0s", ""},
		{[]string{"routing", "set", "--company", company, "--mode", "round-robin", "--capacity", "3", "--technician-capacity", tech.String() + "=6", "--away-limit", "10m"}, "unchanged", ""},
		{[]string{"routing", "set", "--company", company, "--mode", "least-busy"}, "mode:        least-busy", ""},
		{[]string{"routing", "set", "--company", company}, "", "--mode is required"},
		{[]string{"routing", "set", "--company", company, "--mode", "fastest"}, "", "mode must be off, round-robin or least-busy"},
		{[]string{"routing", "set", "--company", company, "--mode", "off", "--capacity", "0"}, "", "capacity must be 1 to 1000"},
		{[]string{"routing", "set", "--company", company, "--mode", "off", "--away-limit", "1500ms"}, "", "away limit"},
		{[]string{"routing", "set", "--company", company, "--mode", "off", "--technician-capacity", "alice=3"}, "", "not a technician ID"},
		{[]string{"routing", "set", "--company", company, "--mode", "off", "--technician-capacity", tech.String()}, "", "TECHNICIAN-ID=N"},
		{[]string{"routing", "set", "--company", uuid.NewString(), "--mode", "off"}, "", "not found"},
		{[]string{"routing", "show", "--company", "acme"}, "", "--company must be a company ID"},
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
}
