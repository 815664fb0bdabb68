package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
)

func TestSetCompanyTimeZone(t *testing.T) {
	w := newWorld(t, 0)
	ctx := context.Background()
	admin := app.Meta{Actor: app.Admin}
	set := func(company uuid.UUID, zone string) (app.Result, error) {
		return w.app.SetCompanyTimeZone(ctx, admin, app.SetCompanyTimeZone{CompanyID: company, TimeZone: zone})
	}
	res := must(t, func() (app.Result, error) { return set(w.companyID, "Europe/Paris") })
	if !res.Written {
		t.Error("the first zone wrote nothing")
	}
	if res := must(t, func() (app.Result, error) { return set(w.companyID, "Europe/Paris") }); res.Written {
		t.Error("the same zone again wrote an event")
	}
	c, err := w.app.Company(ctx, w.companyID)
	if err != nil || c.TimeZone() != "Europe/Paris" {
		t.Fatalf("company zone %q, %v", c.TimeZone(), err)
	}
	if _, err := set(w.companyID, "Europe/Atlantis"); !errors.Is(err, directory.ErrInvalidTimeZone) {
		t.Errorf("an unknown zone: %v", err)
	}
	if _, err := set(uuid.New(), "UTC"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("an unknown company: %v", err)
	}
}
