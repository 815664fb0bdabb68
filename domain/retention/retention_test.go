package retention_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/retention"
)

func TestPolicy(t *testing.T) {
	company := uuid.New()
	for _, tc := range []struct {
		name    string
		days    int
		wantErr error
	}{
		{"keep", 0, nil},
		{"thirty days", 30, nil},
		{"ten years", retention.MaxDays, nil},
		{"negative", -1, retention.ErrInvalidDays},
		{"too long", retention.MaxDays + 1, retention.ErrInvalidDays},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := retention.New(company, tc.days)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("New(%d): %v, want %v", tc.days, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if p.EraseAfterDays() != tc.days || len(p.Changes()) != 1 {
				t.Fatalf("policy %d days, %d changes", p.EraseAfterDays(), len(p.Changes()))
			}
		})
	}
	if _, err := retention.New(uuid.Nil, 3); !errors.Is(err, retention.ErrMissingCompany) {
		t.Fatalf("no company: %v", err)
	}
}

func TestSetRecordsOnlyChanges(t *testing.T) {
	company := uuid.New()
	p, err := retention.FromHistory([]eventlog.Event{&retention.PolicySet{CompanyID: company, EraseAfterDays: 30}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Set(30); err != nil || len(p.Changes()) != 0 {
		t.Fatalf("setting the same retention: %v, %d changes", err, len(p.Changes()))
	}
	if err := p.Set(7); err != nil || len(p.Changes()) != 1 || p.EraseAfterDays() != 7 {
		t.Fatalf("setting another retention: %v, %d changes, %d days", err, len(p.Changes()), p.EraseAfterDays())
	}
}

func TestAdmit(t *testing.T) {
	company := uuid.New()
	for _, tc := range []struct {
		name string
		e    eventlog.Event
		ok   bool
	}{
		{"a retention", &retention.PolicySet{CompanyID: company, EraseAfterDays: 90}, true},
		{"keep", &retention.PolicySet{CompanyID: company}, true},
		{"another company", &retention.PolicySet{CompanyID: uuid.New(), EraseAfterDays: 90}, false},
		{"negative days", &retention.PolicySet{CompanyID: company, EraseAfterDays: -4}, false},
		{"no company", &retention.PolicySet{EraseAfterDays: 4}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := new(retention.Policy)
			if err := p.Admit(&retention.PolicySet{CompanyID: company, EraseAfterDays: 1}); err != nil {
				t.Fatal(err)
			}
			err := p.Admit(tc.e)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, retention.ErrImpossibleEvent)) {
				t.Fatalf("Admit: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
