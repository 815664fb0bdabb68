package erasure_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/erasure"
	"github.com/helpstream/helpstream/domain/request"
)

func TestCheckReason(t *testing.T) {
	for _, c := range []struct {
		reason string
		want   error
	}{
		{"GDPR art. 17 request #12", nil},
		{strings.Repeat("é", erasure.MaxReasonLength/2), nil},
		{"", erasure.ErrNoReason},
		{"   ", erasure.ErrNoReason},
		{strings.Repeat("r", erasure.MaxReasonLength+1), erasure.ErrReasonTooLong},
		{"two\nlines", erasure.ErrInvalidReason},
		{"bad \xff byte", erasure.ErrInvalidReason},
	} {
		if err := erasure.CheckReason(c.reason); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("CheckReason(%.20q) = %v, want %v", c.reason, err, c.want)
		}
	}
}

func TestAdmit(t *testing.T) {
	id, key := uuid.New(), uuid.New()
	e, err := erasure.New(id, key, "asked", nil, 2)
	if err != nil || e.Requests == nil || e.FilesDeleted != 2 {
		t.Fatalf("New: %+v, %v", e, err)
	}
	if _, err := erasure.New(uuid.Nil, key, "asked", nil, 0); err == nil {
		t.Error("New without an ID")
	}
	if _, err := erasure.New(id, key, "", nil, 0); !errors.Is(err, erasure.ErrNoReason) {
		t.Errorf("New without a reason: %v", err)
	}
	var x erasure.Erasure
	if err := x.Admit(e); err != nil || x.ID != id {
		t.Fatalf("Admit: %v", err)
	}
	if err := x.Admit(e); !errors.Is(err, erasure.ErrImpossibleEvent) {
		t.Errorf("a second erasure event: %v", err)
	}
	var y erasure.Erasure
	if err := y.Admit(&request.Closed{}); !errors.Is(err, erasure.ErrImpossibleEvent) {
		t.Errorf("another type: %v", err)
	}
	if err := y.Admit(&erasure.CustomerErased{}); !errors.Is(err, erasure.ErrImpossibleEvent) {
		t.Errorf("no ID: %v", err)
	}
}

func TestWithheld(t *testing.T) {
	for s, want := range map[string]bool{"[erased]": true, "enc:v1:x": true, "Ada": false, "": false, "[erased] ": false} {
		if erasure.Withheld(s) != want {
			t.Errorf("Withheld(%q) != %v", s, want)
		}
	}
}
