package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

func init() {
	adminActions = append(adminActions,
		adminAction{"retention-set", fmt.Sprintf("set how long a company keeps its customers' personal data after their last request closed: --company ID --days N (0 keeps it; at most %d)", retention.MaxDays), retentionSet},
		adminAction{"retention-show", "show a company's retention of personal data: --company ID [--json]", retentionShow},
	)
}

// errDaysRequired refuses `retention set` without --days: a retention left out must not read as
// 0, which keeps the data and would silently undo a retention.
var errDaysRequired = fmt.Errorf("--days is required: 0 (keep) to %d", retention.MaxDays)

func retentionSet(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	days := fs.Int("days", 0, fmt.Sprintf("erase a customer's personal data this many days after their last request closed; 0 keeps it; at most %d", retention.MaxDays))
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		if !flagGiven(fs, "days") {
			return errDaysRequired
		}
		res, err := svc.App.SetRetention(ctx, adminMeta(), app.SetRetention{CompanyID: companyID, EraseAfterDays: *days})
		if err != nil {
			return err
		}
		if !res.Written {
			fmt.Fprintf(out, "company %s has this retention already\n", companyID)
		} else {
			fmt.Fprintf(out, "retention of company %s set (version %d)\n", companyID, res.Version)
		}
		r, err := svc.App.Retention(ctx, companyID)
		if err != nil {
			return err
		}
		return printRetention(ctx, svc, out, r)
	}
}

func retentionShow(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	asJSON := fs.Bool("json", false, "print the retention as JSON, as GET /api/v1/admin/companies/{companyID}/retention answers it")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		r, err := svc.App.Retention(ctx, companyID)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(out, retentionJSON{CompanyID: r.CompanyID, EraseAfterDays: r.EraseAfterDays, Set: r.Set})
		}
		return printRetention(ctx, svc, out, r)
	}
}

// retentionJSON is a retention in the API's shape, so that scripts read one shape.
type retentionJSON struct {
	CompanyID      uuid.UUID `json:"company_id"`
	EraseAfterDays int       `json:"erase_after_days"`
	Set            bool      `json:"set"`
}

// printRetention says a company's retention in one line, under the company's name.
func printRetention(ctx context.Context, svc *service.Service, out io.Writer, r app.Retention) error {
	c, err := svc.App.Company(ctx, r.CompanyID)
	if err != nil {
		return err
	}
	switch {
	case !r.Set:
		fmt.Fprintf(out, "%s: keep customers' personal data (no retention set)\n", c.Name())
	case r.EraseAfterDays == 0:
		fmt.Fprintf(out, "%s: keep customers' personal data (retention set to 0 days)\n", c.Name())
	case r.EraseAfterDays == 1:
		fmt.Fprintf(out, "%s: erase customers' personal data 1 day after their last request closed\n", c.Name())
	default:
		fmt.Fprintf(out, "%s: erase customers' personal data %d days after their last request closed\n", c.Name(), r.EraseAfterDays)
	}
	return nil
}

// flagGiven reports whether the command line set the flag named name.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
