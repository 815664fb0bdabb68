package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
)

// `helpstream admin auditor-…`: an auditor registered, granted and revoked one company and
// every company, listed, their password set; each refusal says what is wrong and changes
// nothing. The auditor logs in with what the commands set, as an auditor.
func TestAdminAuditors(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	acme, globex := uuid.New(), uuid.New()
	for id, name := range map[uuid.UUID]string{acme: "Acme", globex: "Globex"} {
		if _, err := svc.App.CreateCompany(ctx, adminMeta(), app.CreateCompany{CompanyID: id, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	files := t.TempDir()
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(append([]string{"admin"}, args...), "--database-url", url, "--files-dir", files), &out)
		return strings.TrimSpace(out.String()), err
	}
	out, err := cli("auditor-create", "--name", "Ann Audit", "--email", "Ann@Example.com", "--password", "audit horse")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^auditor Ann Audit <Ann@Example.com> registered: ([0-9a-f-]{36})$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("auditor-create said %q", out)
	}
	ann := m[1]

	steps := []struct {
		name    string
		args    []string
		want    string // the output, or the error when wantErr
		wantErr bool
	}{
		{"grant a company", []string{"auditor-grant", ann, "--company", acme.String()}, "done", false},
		{"the operand after the flags", []string{"auditor-grant", "--company", globex.String(), ann}, "done", false},
		{"grant it again", []string{"auditor-grant", ann, "--company", acme.String()}, "nothing to change", false},
		{"grant every company", []string{"auditor-grant", ann, "--all"}, "done", false},
		{"revoke a company", []string{"auditor-revoke", ann, "--company", globex.String()}, "done", false},
		{"revoke every company", []string{"auditor-revoke", ann, "--all"}, "done", false},
		{"set the password", []string{"auditor-password", ann, "--password", "another horse"}, "password set", false},
		{"both a company and every company", []string{"auditor-grant", ann, "--company", acme.String(), "--all"}, ErrGrantChoice.Error(), true},
		{"neither", []string{"auditor-revoke", ann}, ErrGrantChoice.Error(), true},
		{"no auditor", []string{"auditor-grant", "--all"}, "give one AUDITOR_ID, not 0 arguments", true},
		{"two auditors", []string{"auditor-grant", ann, ann, "--all"}, "give one AUDITOR_ID, not 2 arguments", true},
		{"an auditor by name", []string{"auditor-grant", "ann", "--all"}, `AUDITOR_ID must be an auditor ID (a UUID), not "ann"`, true},
		{"a company by name", []string{"auditor-grant", ann, "--company", "acme"}, `--company must be a company ID (a UUID), not "acme"`, true},
		{"an unknown company", []string{"auditor-grant", ann, "--company", uuid.NewString()}, app.ErrNotFound.Error(), true},
		{"an unknown auditor", []string{"auditor-grant", uuid.NewString(), "--all"}, app.ErrNotFound.Error(), true},
		{"a grant never made", []string{"auditor-revoke", ann, "--company", globex.String()}, directory.ErrAuditorNoAccess.Error(), true},
		{"a weak password", []string{"auditor-password", ann, "--password", "short"}, app.ErrWeakPassword.Error(), true},
		{"an address taken", []string{"auditor-create", "--name", "Ann Two", "--email", "ann@example.com", "--password", "audit horse"}, app.ErrEmailTaken.Error(), true},
		{"no name", []string{"auditor-create", "--email", "bob@example.com", "--password", "audit horse"}, directory.ErrInvalidName.Error(), true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out, err := cli(s.args...)
			switch {
			case s.wantErr && (err == nil || !strings.Contains(err.Error(), s.want)):
				t.Fatalf("%q: %q, %v; want the error %q", s.args, out, err, s.want)
			case !s.wantErr && (err != nil || out != s.want):
				t.Fatalf("%q: %q, %v; want %q", s.args, out, err, s.want)
			}
		})
	}

	au, err := svc.App.Auditor(ctx, uuid.MustParse(ann))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(au.Companies(), []uuid.UUID{acme}) || au.AllCompanies() {
		t.Fatalf("the auditor reads %v (every company: %v), want Acme alone", au.Companies(), au.AllCompanies())
	}
	if _, err := cli("auditor-create", "--name", "Zed Audit", "--email", "zed@example.com", "--password", "audit horse"); err != nil {
		t.Fatal(err)
	}
	out, err = cli("auditor-list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], ann+"  Ann Audit") || !strings.Contains(lines[0], "companies: ["+acme.String()+"]") ||
		!strings.Contains(lines[1], "Zed Audit") || !strings.Contains(lines[1], "companies: []") {
		t.Fatalf("auditor-list:\n%s", out)
	}
	session, err := svc.Accounts.Login(ctx, "ann@example.com", "another horse")
	if err != nil || !session.IsAuditor() || session.AuditorID.String() != ann {
		t.Fatalf("the auditor's login: %+v, %v", session, err)
	}
	if _, err := svc.Accounts.Login(ctx, "ann@example.com", "audit horse"); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatalf("the old password: %v", err)
	}
}
