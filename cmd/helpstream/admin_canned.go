package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// cannedSet is `helpstream admin canned set`: the response named by its title is replaced, or
// added under a new ID.
func cannedSet(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	title := fs.String("title", "", "the title technicians pick it by (unique in the company, any case)")
	body := fs.String("body", "", "the text; placeholders: "+strings.Join(directory.CannedPlaceholders, " "))
	bodyFile := fs.String("body-file", "", "a file holding the text, in place of --body")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		text := *body
		if *bodyFile != "" {
			if text != "" {
				return fmt.Errorf("give --body or --body-file, not both")
			}
			b, err := os.ReadFile(*bodyFile)
			if err != nil {
				return fmt.Errorf("--body-file: %w", err)
			}
			text = string(b)
		}
		c, err := svc.App.Company(ctx, companyID)
		if err != nil {
			return err
		}
		id := uuid.New()
		if existing, ok := c.CannedResponseByTitle(*title); ok {
			id = existing.ID
		}
		res, err := svc.App.SaveCannedResponse(ctx, adminMeta(), app.SaveCannedResponse{CompanyID: companyID, ResponseID: id, Title: *title, Body: text})
		if err != nil {
			return err
		}
		what := "saved"
		if !res.Written {
			what = "unchanged"
		}
		fmt.Fprintf(out, "canned response %q of company %s %s: %s\n", strings.TrimSpace(*title), companyID, what, id)
		return nil
	}
}

func cannedList(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		list, err := svc.App.CompanyCannedResponses(ctx, companyID)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(out, "no canned responses")
		}
		for _, r := range list {
			first, _, _ := strings.Cut(r.Body, "\n")
			fmt.Fprintf(out, "%s  %-30s %s\n", r.ID, r.Title, first)
		}
		return nil
	}
}

func cannedRemove(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	title := fs.String("title", "", "the title of the canned response")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		c, err := svc.App.Company(ctx, companyID)
		if err != nil {
			return err
		}
		r, ok := c.CannedResponseByTitle(*title)
		if !ok {
			return fmt.Errorf("canned response %q of company %s: %w", strings.TrimSpace(*title), companyID, app.ErrNotFound)
		}
		if _, err := svc.App.RemoveCannedResponse(ctx, adminMeta(), app.RemoveCannedResponse{CompanyID: companyID, ResponseID: r.ID}); err != nil {
			return err
		}
		fmt.Fprintf(out, "canned response %q of company %s removed\n", r.Title, companyID)
		return nil
	}
}
