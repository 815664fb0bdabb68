package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

func init() {
	adminActions = append(adminActions,
		adminAction{"service-levels-set", `set a company's service-level targets and business hours, all at once: --company ID [--assign 15m] [--first-reply 1h] [--resolution 8h] [--open "mon-fri 09:00-17:00"]... (no --open: 24/7)`, serviceLevelsSet},
		adminAction{"service-levels-show", "show a company's service-level targets and business hours: --company ID", serviceLevelsShow},
	)
}

// repeated is a flag given any number of times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ", ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func serviceLevelsSet(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	assign := fs.Duration("assign", 0, "time to assign, in business hours (15m, 1h30m); 0 or absent: no target")
	firstReply := fs.Duration("first-reply", 0, "time to a technician's first chat message, in business hours; 0 or absent: no target")
	resolution := fs.Duration("resolution", 0, "time to close, in business hours; 0 or absent: no target")
	var open repeated
	fs.Var(&open, "open", `business hours in the company's time zone, "mon 09:00-17:00" or "mon-fri 09:00-17:00"; repeat for more; none: 24/7`)
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		var openings []servicelevel.Opening
		for _, line := range open {
			o, err := servicelevel.ParseOpenings(line)
			if err != nil {
				return fmt.Errorf("--open %q: %w", line, err)
			}
			openings = append(openings, o...)
		}
		hours, err := servicelevel.NewHours(openings)
		if err != nil {
			return fmt.Errorf("--open: %w", err)
		}
		goals := servicelevel.Goals{Assign: *assign, FirstReply: *firstReply, Resolution: *resolution}
		res, err := svc.App.SetServiceLevels(ctx, adminMeta(), app.SetServiceLevels{CompanyID: companyID, Goals: goals, Hours: hours})
		if err != nil {
			return err
		}
		if !res.Written {
			fmt.Fprintf(out, "company %s has these service levels already\n", companyID)
			return nil
		}
		fmt.Fprintf(out, "service levels of company %s set; they apply to requests submitted from now on\n", companyID)
		levels, err := svc.App.ServiceLevels(ctx, companyID)
		if err != nil {
			return err
		}
		printServiceLevels(out, levels)
		return nil
	}
}

func serviceLevelsShow(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		levels, err := svc.App.ServiceLevels(ctx, companyID)
		if err != nil {
			return err
		}
		printServiceLevels(out, levels)
		return nil
	}
}

func printServiceLevels(out io.Writer, l app.ServiceLevels) {
	zone := l.TimeZone
	if zone == "" {
		zone = "UTC (no time zone set)"
	}
	target := func(d time.Duration) string {
		if d == 0 {
			return "none"
		}
		return d.String()
	}
	fmt.Fprintf(out, "company %s, time zone %s\n", l.CompanyID, zone)
	if !l.Set {
		fmt.Fprintln(out, "  no service levels set")
	}
	fmt.Fprintf(out, "  assign within:       %s\n", target(l.Goals.Assign))
	fmt.Fprintf(out, "  first reply within:  %s\n", target(l.Goals.FirstReply))
	fmt.Fprintf(out, "  resolution within:   %s\n", target(l.Goals.Resolution))
	if l.Hours.AlwaysOpen() {
		fmt.Fprintln(out, "  business hours:      24/7")
		return
	}
	var hours []string
	for _, o := range l.Hours.Openings() {
		hours = append(hours, o.String())
	}
	fmt.Fprintf(out, "  business hours:      %s\n", strings.Join(hours, ", "))
}
