package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// `helpstream admin service-levels set|show`: targets and business hours are validated and
// shown as set; each refusal says what is wrong.
func TestAdminServiceLevels(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	acme := uuid.New()
	if _, err := svc.App.CreateCompany(ctx, adminMeta(), app.CreateCompany{CompanyID: acme, Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.App.SetCompanyTimeZone(ctx, adminMeta(), app.SetCompanyTimeZone{CompanyID: acme, TimeZone: "Europe/Paris"}); err != nil {
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
		wantOut []string
		wantErr string
	}{
		{[]string{"service-levels", "show", "--company", company}, []string{"time zone Europe/Paris", "no service levels set", "24/7"}, ""},
		{[]string{"service-levels", "set", "--company", company, "--assign", "15m", "--resolution", "8h", "--open", "mon-fri 09:00-17:00", "--open", "sat 10:00-12:00"},
			[]string{"apply to requests submitted from now on", "assign within:       15m0s", "first reply within:  none", "resolution within:   8h0m0s", "mon 09:00-17:00", "fri 09:00-17:00", "sat 10:00-12:00"}, ""},
		{[]string{"service-levels-set", "--company", company, "--assign", "15m", "--resolution", "8h", "--open", "mon-fri 09:00-17:00", "--open", "sat 10:00-12:00"}, []string{"has these service levels already"}, ""},
		{[]string{"service-levels", "show", "--company", company}, []string{"assign within:       15m0s", "sat 10:00-12:00"}, ""},
		{[]string{"service-levels", "set", "--company", company, "--assign", "500ms"}, nil, "whole number of seconds"},
		{[]string{"service-levels", "set", "--company", company, "--resolution", "-1h"}, nil, "whole number of seconds"},
		{[]string{"service-levels", "set", "--company", company, "--open", "mon 17:00-09:00"}, nil, "business hours are"},
		{[]string{"service-levels", "set", "--company", company, "--open", "mon 09:00-12:00", "--open", "mon 11:00-13:00"}, nil, "must not overlap"},
		{[]string{"service-levels", "set", "--company", company, "--open", "someday 09:00-12:00"}, nil, "business hours are"},
		{[]string{"service-levels", "set", "--company", "acme"}, nil, "--company must be a company ID"},
		{[]string{"service-levels", "set", "--company", uuid.NewString(), "--assign", "1m"}, nil, "not found"},
		{[]string{"service-levels", "show", "--company", uuid.NewString()}, nil, "not found"},
		{[]string{"service-levels", "set", "--company", company}, []string{"apply to requests submitted from now on", "assign within:       none", "24/7"}, ""},
	}
	for _, s := range steps {
		out, err := cli(s.args...)
		switch {
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Fatalf("%v: error %v, want one saying %q", s.args, err, s.wantErr)
		case s.wantErr == "" && err != nil:
			t.Fatalf("%v: %v", s.args, err)
		}
		for _, want := range s.wantOut {
			if !strings.Contains(out, want) {
				t.Fatalf("%v: output %q lacks %q", s.args, out, want)
			}
		}
	}
}
