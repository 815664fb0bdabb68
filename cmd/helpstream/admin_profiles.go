package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// mobileProfileSet is `helpstream admin mobile-profile set`: the file is validated (a
// well-formed plist for ios, a JSON object for android, at most 64 KiB) and stored as the
// name's next version.
func mobileProfileSet(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	name := fs.String("name", "", "template name the technicians choose from")
	platform := fs.String("platform", "", "ios (a .mobileconfig property list) or android (a JSON managed configuration)")
	file := fs.String("file", "", "the template file; placeholders: "+strings.Join(request.ProfilePlaceholders, " "))
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		p, err := request.ParsePlatform(*platform)
		if err != nil || !p.SupportsMobileProfiles() {
			return fmt.Errorf("--platform must be ios or android, not %q", *platform)
		}
		if *file == "" {
			return fmt.Errorf("--file is required")
		}
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		content, err := io.ReadAll(io.LimitReader(f, request.MaxProfileTemplateSize+1))
		if err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		version, err := svc.App.SetMobileProfileTemplate(ctx, adminMeta(), app.ProfileTemplate{CompanyID: companyID, Name: *name, Platform: p, Content: content})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "mobile profile template %q (%s) of company %s stored: version %d\n", strings.TrimSpace(*name), p, companyID, version)
		return nil
	}
}

func mobileProfileList(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		if _, err := svc.App.Company(ctx, companyID); err != nil {
			return err
		}
		list, err := svc.App.MobileProfileTemplates(ctx, adminMeta(), companyID)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(out, "no mobile profile templates")
		}
		for _, t := range list {
			fmt.Fprintf(out, "%-8s v%-3d %s  %s\n", t.Platform, t.Version, t.CreatedAt.Format("2006-01-02 15:04Z07:00"), t.Name)
		}
		return nil
	}
}

func mobileProfileRemove(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	name := fs.String("name", "", "template name")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		if err := svc.App.RemoveMobileProfileTemplate(ctx, adminMeta(), companyID, strings.TrimSpace(*name)); err != nil {
			return err
		}
		fmt.Fprintf(out, "mobile profile template %q of company %s removed (profiles already sent stay downloadable)\n", strings.TrimSpace(*name), companyID)
		return nil
	}
}
