package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// capacityFlags is the repeatable --technician-capacity ID=N.
type capacityFlags map[uuid.UUID]int

func (c capacityFlags) String() string { return fmt.Sprint(map[uuid.UUID]int(c)) }

func (c capacityFlags) Set(v string) error {
	id, n, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want TECHNICIAN-ID=N, not %q", v)
	}
	tech, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return fmt.Errorf("%q is not a technician ID (a UUID)", id)
	}
	capacity, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil {
		return fmt.Errorf("capacity %q is not a whole number", n)
	}
	if _, twice := c[tech]; twice {
		return fmt.Errorf("technician %s is given twice", tech)
	}
	c[tech] = capacity
	return nil
}

// routingSet is `helpstream admin routing set`: the whole policy, replaced.
func routingSet(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	mode := fs.String("mode", "", "off, round-robin or least-busy")
	capacity := fs.Int("capacity", routing.DefaultCapacity, "most open requests a technician holds (the company's default)")
	overrides := capacityFlags{}
	fs.Var(overrides, "technician-capacity", "one technician's capacity instead of the default, TECHNICIAN-ID=N (repeatable)")
	awayLimit := fs.Duration("away-limit", 0, "give back the unanswered requests of an assignee Away or Offline this long (whole seconds, at most 168h); 0 never")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		if *mode == "" {
			return fmt.Errorf("--mode is required: off, round-robin or least-busy")
		}
		s := routing.Settings{Mode: routing.Mode(*mode), DefaultCapacity: *capacity, AwayLimit: *awayLimit}
		if len(overrides) > 0 {
			s.Capacities = overrides
		}
		res, err := svc.App.SetRoutingPolicy(ctx, adminMeta(), app.SetRoutingPolicy{CompanyID: companyID, Settings: s})
		if err != nil {
			return err
		}
		if !res.Written {
			fmt.Fprintf(out, "routing of company %s unchanged\n", companyID)
			return nil
		}
		fmt.Fprintf(out, "routing of company %s set (version %d)\n", companyID, res.Version)
		return printRouting(ctx, svc, companyID, out)
	}
}

func routingShow(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	company := idFlag(fs, "company")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		companyID, err := company()
		if err != nil {
			return err
		}
		return printRouting(ctx, svc, companyID, out)
	}
}

func printRouting(ctx context.Context, svc *service.Service, companyID uuid.UUID, out io.Writer) error {
	s, err := svc.App.RoutingPolicy(ctx, companyID)
	if err != nil {
		return err
	}
	away := "never"
	if s.AwayLimit > 0 {
		away = s.AwayLimit.String()
	}
	fmt.Fprintf(out, "mode:        %s\ncapacity:    %d\naway limit:  %s\n", s.Mode, s.DefaultCapacity, away)
	ids := make([]uuid.UUID, 0, len(s.Capacities))
	for id := range s.Capacities {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	for _, id := range ids {
		name := id.String()
		if t, err := svc.App.Technician(ctx, id); err == nil {
			name += " (" + t.Name() + ")"
		}
		fmt.Fprintf(out, "technician:  %s capacity %d\n", name, s.Capacities[id])
	}
	return nil
}
