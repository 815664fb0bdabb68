package main

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// `helpstream admin retention set|show`: the days are validated and shown as set, in words and
// as JSON; each refusal says what is wrong.
func TestAdminRetention(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	acme := uuid.New()
	if _, err := svc.App.CreateCompany(ctx, adminMeta(), app.CreateCompany{CompanyID: acme, Name: "Acme"}); err != nil {
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
		{[]string{"retention", "show", "--company", company}, []string{"Acme: keep customers' personal data (no retention set)"}, ""},
		{[]string{"retention", "set", "--company", company, "--days", "30"},
			[]string{"retention of company " + company + " set (version 0)", "Acme: erase customers' personal data 30 days after their last request closed"}, ""},
		{[]string{"retention-set", "--company", company, "--days", "30"}, []string{"has this retention already", "30 days"}, ""},
		{[]string{"retention", "show", "--company", company}, []string{"Acme: erase customers' personal data 30 days after their last request closed"}, ""},
		{[]string{"retention", "set", "--company", company, "--days", "1"}, []string{"set (version 1)", "Acme: erase customers' personal data 1 day after"}, ""},
		{[]string{"retention", "set", "--company", company, "--days", "0"}, []string{"set (version 2)", "Acme: keep customers' personal data (retention set to 0 days)"}, ""},
		{[]string{"retention", "set", "--company", company, "--days", "-1"}, nil, "whole number of days from 0"},
		{[]string{"retention", "set", "--company", company, "--days", "3651"}, nil, "whole number of days from 0"},
		{[]string{"retention", "set", "--company", company, "--days", "a month"}, nil, "invalid value"},
		{[]string{"retention", "set", "--company", company}, nil, "--days is required"},
		{[]string{"retention", "set", "--company", "acme", "--days", "30"}, nil, "--company must be a company ID"},
		{[]string{"retention", "set", "--company", uuid.NewString(), "--days", "30"}, nil, "not found"},
		{[]string{"retention", "show", "--company", uuid.NewString()}, nil, "not found"},
		{[]string{"retention", "set", "--company", company, "--days", "3650"}, []string{"set (version 3)", "3650 days"}, ""},
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

	// --json prints the API's shape.
	out, err := cli("retention", "show", "--company", company, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	want := map[string]any{"company_id": company, "erase_after_days": float64(3650), "set": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("--json: %v, want %v", got, want)
	}
}
