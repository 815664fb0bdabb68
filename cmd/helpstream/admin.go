package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// knownAdminAction reports whether name is an action of `helpstream admin`.
func knownAdminAction(name string) bool {
	for _, a := range adminActions {
		if a.name == name {
			return true
		}
	}
	return false
}

// adminAction is one `helpstream admin …` action: its flags and what it does with them.
type adminAction struct {
	name    string
	summary string
	flags   func(fs *flag.FlagSet) func(ctx context.Context, svc *service.Service, out io.Writer) error
}

var adminActions = []adminAction{
	{"mobile-profile-set", "store a mobile profile template (a new version of its name): --company ID --name NAME --platform ios|android --file PATH", mobileProfileSet},
	{"mobile-profile-list", "list a company's mobile profile templates: --company ID", mobileProfileList},
	{"mobile-profile-remove", "take a mobile profile template out of the technicians' choice: --company ID --name NAME", mobileProfileRemove},
	{"canned-set", "add or replace a canned response: --company ID --title TITLE (--body TEXT | --body-file PATH)", cannedSet},
	{"canned-list", "list a company's canned responses: --company ID", cannedList},
	{"canned-remove", "remove a canned response: --company ID --title TITLE", cannedRemove},
	{"company-create", "create a company: --name", func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		name := fs.String("name", "", "company name")
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			id := uuid.New()
			if _, err := svc.App.CreateCompany(ctx, adminMeta(), app.CreateCompany{CompanyID: id, Name: *name}); err != nil {
				return err
			}
			fmt.Fprintf(out, "company %s created: %s\n", *name, id)
			return nil
		}
	}},
	{"company-list", "list companies with their portals", listAction((*app.Queries).Companies,
		func(svc *service.Service) func(context.Context, uuid.UUID) (*directory.Company, error) {
			return svc.App.Company
		},
		func(out io.Writer, id uuid.UUID, c *directory.Company) {
			fmt.Fprintf(out, "%s  %s\n", id, c.Name())
			for _, p := range c.Portals() {
				fmt.Fprintf(out, "    portal %s  %s\n", p.ID, p.Name)
			}
		})},
	{"portal-create", "add a customer portal to a company: --company ID --name", func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		company := idFlag(fs, "company")
		name := fs.String("name", "", "portal name")
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			companyID, err := company()
			if err != nil {
				return err
			}
			id := uuid.New()
			if _, err := svc.App.CreatePortal(ctx, adminMeta(), app.CreatePortal{CompanyID: companyID, PortalID: id, Name: *name}); err != nil {
				return err
			}
			fmt.Fprintf(out, "portal %s created: %s\n", *name, id)
			return nil
		}
	}},
	{"company-timezone", "set the time zone of a company's days in analytics and reports: --company ID --time-zone Europe/Paris", func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		company := idFlag(fs, "company")
		zone := fs.String("time-zone", "", "IANA time-zone name, such as Europe/Paris, or UTC")
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			companyID, err := company()
			if err != nil {
				return err
			}
			if _, err := svc.App.SetCompanyTimeZone(ctx, adminMeta(), app.SetCompanyTimeZone{CompanyID: companyID, TimeZone: *zone}); err != nil {
				return err
			}
			fmt.Fprintf(out, "company %s counts its days in %s\n", companyID, *zone)
			return nil
		}
	}},
	{"technician-create", "register a technician: --name --email --password", func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		name := fs.String("name", "", "full name")
		email := fs.String("email", "", "e-mail address, used to log in")
		password := fs.String("password", envOr("HELPSTREAM_TECHNICIAN_PASSWORD", ""), "password, 8 to 72 bytes (env HELPSTREAM_TECHNICIAN_PASSWORD)")
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			id := uuid.New()
			if _, err := svc.Accounts.RegisterTechnicianWithPassword(ctx, adminMeta(), app.RegisterTechnician{TechnicianID: id, Name: *name, Email: *email}, *password); err != nil {
				return err
			}
			fmt.Fprintf(out, "technician %s <%s> registered: %s\n", *name, *email, id)
			return nil
		}
	}},
	{"technician-list", "list technicians with their access and status", listAction((*app.Queries).Technicians,
		func(svc *service.Service) func(context.Context, uuid.UUID) (app.TechnicianProfile, error) {
			return svc.Queries.Profile
		},
		func(out io.Writer, id uuid.UUID, p app.TechnicianProfile) {
			fmt.Fprintf(out, "%s  %-20s %-28s %-9s companies: %v\n", id, p.Name, p.Email, p.Availability, p.Companies)
		})},
	{"password", "set a technician's password and end their sessions: --technician ID --password", func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		technician := idFlag(fs, "technician")
		password := fs.String("password", envOr("HELPSTREAM_TECHNICIAN_PASSWORD", ""), "new password (env HELPSTREAM_TECHNICIAN_PASSWORD)")
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			id, err := technician()
			if err != nil {
				return err
			}
			if _, err := svc.Accounts.SetPassword(ctx, adminMeta(), id, *password); err != nil {
				return err
			}
			fmt.Fprintln(out, "password set")
			return nil
		}
	}},
	{"grant", "let a technician serve a company: --technician ID --company ID", accessAction(true)},
	{"revoke", "take a technician's access to a company away and end their sessions: --technician ID --company ID", accessAction(false)},
	{"auditor-create", "register an auditor, who reads nothing until granted: --name --email --password", func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		name := fs.String("name", "", "full name")
		email := fs.String("email", "", "e-mail address, used to log in (unique across technicians and auditors)")
		password := fs.String("password", envOr("HELPSTREAM_AUDITOR_PASSWORD", ""), "password, 8 to 72 bytes (env HELPSTREAM_AUDITOR_PASSWORD)")
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			id := uuid.New()
			if _, err := svc.Accounts.RegisterAuditorWithPassword(ctx, adminMeta(), app.RegisterAuditor{AuditorID: id, Name: *name, Email: *email}, *password); err != nil {
				return err
			}
			fmt.Fprintf(out, "auditor %s <%s> registered: %s\n", *name, *email, id)
			return nil
		}
	}},
	{"auditor-list", "list auditors with the companies they may read", func(*flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			if err := svc.ProjectUntilCurrent(ctx, catchUpTimeout); err != nil { // the list comes from the read models
				return err
			}
			auditors, err := svc.Queries.Auditors(ctx)
			if err != nil {
				return err
			}
			for _, a := range auditors {
				reads := fmt.Sprintf("companies: %v", a.Companies)
				if a.AllCompanies {
					reads = "every company"
				}
				fmt.Fprintf(out, "%s  %-20s %-28s %s\n", a.ID, a.Name, a.Email, reads)
			}
			return nil
		}
	}},
	{"auditor-grant", "let an auditor read a company's requests, or every company's: AUDITOR_ID (--company ID | --all)", auditorAccessAction(true)},
	{"auditor-revoke", "take back an auditor's company, or every company: AUDITOR_ID (--company ID | --all)", auditorAccessAction(false)},
	{"auditor-password", "set an auditor's password and end their sessions: AUDITOR_ID --password", func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		password := fs.String("password", envOr("HELPSTREAM_AUDITOR_PASSWORD", ""), "new password (env HELPSTREAM_AUDITOR_PASSWORD)")
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			id, err := auditorOperand(fs)
			if err != nil {
				return err
			}
			if _, err := svc.Accounts.SetAuditorPassword(ctx, adminMeta(), id, *password); err != nil {
				return err
			}
			fmt.Fprintln(out, "password set")
			return nil
		}
	}},
	{"unlock", "lift the login lockout of an e-mail address and forget its failed logins: --email E", func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		email := fs.String("email", "", "the e-mail address, as typed at login (known to Helpstream or not)")
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			return unlock(ctx, svc.Accounts, *email, out)
		}
	}},
	{"routing-set", "set a company's routing: --company ID --mode off|round-robin|least-busy [--capacity N] [--technician-capacity ID=N ...] [--away-limit 10m]", routingSet},
	{"routing-show", "show a company's routing policy: --company ID", routingShow},
}

// unlock is `helpstream admin unlock`.
func unlock(ctx context.Context, accounts *app.Accounts, email string, out io.Writer) error {
	if strings.TrimSpace(email) == "" {
		return errors.New("--email is required")
	}
	u, err := accounts.Unlock(ctx, email)
	if err != nil {
		return err
	}
	switch {
	case u.WasLocked:
		fmt.Fprintf(out, "%s unlocked (%d failed logins forgotten)\n", u.Email, u.Failures)
	case u.Failures > 0:
		fmt.Fprintf(out, "%s was not locked; %d failed logins forgotten\n", u.Email, u.Failures)
	default:
		fmt.Fprintf(out, "%s was not locked and had no failed logins\n", u.Email)
	}
	return nil
}

func accessAction(grant bool) func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	return func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		technician := idFlag(fs, "technician")
		company := idFlag(fs, "company")
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			techID, err := technician()
			if err != nil {
				return err
			}
			companyID, err := company()
			if err != nil {
				return err
			}
			if grant {
				_, err = svc.App.GrantAccess(ctx, adminMeta(), app.GrantAccess{TechnicianID: techID, CompanyID: companyID})
			} else {
				_, err = svc.Accounts.RevokeAccess(ctx, adminMeta(), app.RevokeAccess{TechnicianID: techID, CompanyID: companyID})
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(out, "done")
			return nil
		}
	}
}

// ErrGrantChoice is returned by auditor-grant and auditor-revoke unless they are given exactly one
// of --company and --all.
var ErrGrantChoice = errors.New("give either --company ID or --all")

func auditorAccessAction(grant bool) func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	return func(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		company := fs.String("company", "", "company ID")
		all := fs.Bool("all", false, "every company, those created later too")
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			auditorID, err := auditorOperand(fs)
			if err != nil {
				return err
			}
			if (*company == "") != *all {
				return ErrGrantChoice
			}
			var companyID uuid.UUID
			if *company != "" {
				if companyID, err = uuid.Parse(strings.TrimSpace(*company)); err != nil {
					return fmt.Errorf("--company must be a company ID (a UUID), not %q", *company)
				}
			}
			var res app.Result
			if grant {
				res, err = svc.App.GrantAuditorAccess(ctx, adminMeta(), app.GrantAuditorAccess{AuditorID: auditorID, CompanyID: companyID, AllCompanies: *all})
			} else {
				res, err = svc.App.RevokeAuditorAccess(ctx, adminMeta(), app.RevokeAuditorAccess{AuditorID: auditorID, CompanyID: companyID, AllCompanies: *all})
			}
			if err != nil {
				return err
			}
			if !res.Written {
				fmt.Fprintln(out, "nothing to change")
				return nil
			}
			fmt.Fprintln(out, "done")
			return nil
		}
	}
}

// auditorOperand reads the action's one operand, AUDITOR_ID.
func auditorOperand(fs *flag.FlagSet) (uuid.UUID, error) {
	if fs.NArg() != 1 {
		return uuid.Nil, fmt.Errorf("give one AUDITOR_ID, not %d arguments", fs.NArg())
	}
	id, err := uuid.Parse(strings.TrimSpace(fs.Arg(0)))
	if err != nil {
		return uuid.Nil, fmt.Errorf("AUDITOR_ID must be an auditor ID (a UUID), not %q", fs.Arg(0))
	}
	return id, nil
}

// parseInterleaved parses args whose operands may come before, between or after the flags
// ("auditor-grant ID --all" as well as "auditor-grant --all ID"); the operands are fs.Args()
// afterwards, in their order.
func parseInterleaved(fs *flag.FlagSet, args []string) error {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		operands = append(operands, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, operands...))
}

func adminMeta() app.Meta {
	return app.Meta{Actor: app.Admin, CorrelationID: "cli-" + uuid.NewString()}
}

// idFlag adds --what, a what ID (a UUID), and returns what parses it once the flags are.
func idFlag(fs *flag.FlagSet, what string) func() (uuid.UUID, error) {
	s := fs.String(what, "", what+" ID")
	return func() (uuid.UUID, error) {
		id, err := uuid.Parse(strings.TrimSpace(*s))
		if err != nil {
			return uuid.Nil, fmt.Errorf("--%s must be a %s ID (a UUID), not %q", what, what, *s)
		}
		return id, nil
	}
}

// listAction is an action without flags that lists what the read models hold: it brings them
// up to the log, then, in the order of their names, gets each ID list returns with get and
// prints it, until one fails.
func listAction[T any](list func(*app.Queries, context.Context) (map[uuid.UUID]string, error),
	get func(*service.Service) func(context.Context, uuid.UUID) (T, error),
	print func(out io.Writer, id uuid.UUID, item T)) func(*flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	return func(*flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
		return func(ctx context.Context, svc *service.Service, out io.Writer) error {
			if err := svc.ProjectUntilCurrent(ctx, catchUpTimeout); err != nil { // the lists come from the read models
				return err
			}
			names, err := list(svc.Queries, ctx)
			if err != nil {
				return err
			}
			ids := slices.Collect(maps.Keys(names))
			slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(names[a], names[b]) })
			for _, id := range ids {
				item, err := get(svc)(ctx, id)
				if err != nil {
					return err
				}
				print(out, id, item)
			}
			return nil
		}
	}
}

// catchUpTimeout bounds how long a listing waits for the read models to reach the log.
const catchUpTimeout = 30 * time.Second

func init() {
	const summary = "administer companies, portals, technicians, auditors, access grants and login lockouts"
	register(command{name: "admin", summary: summary, run: func(ctx context.Context, args []string, out io.Writer) error {
		usage := func(w io.Writer) {
			fmt.Fprintf(w, "helpstream admin: %s\n\nUsage: helpstream admin <action> [flags]\n\nActions:\n", summary)
			for _, a := range adminActions {
				fmt.Fprintf(w, "  %-18s %s\n", a.name, a.summary)
			}
		}
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			usage(out)
			return nil
		}
		if len(args) > 1 && knownAdminAction(args[0]+"-"+args[1]) {
			// `admin mobile-profile set …` is `admin mobile-profile-set …`, and so for every
			// group of actions (canned set|list|remove, …).
			args = append([]string{args[0] + "-" + args[1]}, args[2:]...)
		}
		for _, action := range adminActions {
			if action.name != args[0] {
				continue
			}
			fs := newFlagSet("admin "+action.name, action.summary, out)
			stores := addStoreFlags(fs)
			do := action.flags(fs)
			if err := parseInterleaved(fs, args[1:]); err != nil {
				return err
			}
			cfg, err := stores.config()
			if err != nil {
				return err
			}
			svc, err := service.New(ctx, cfg)
			if err != nil {
				return err
			}
			defer svc.Close()
			return do(ctx, svc, out)
		}
		usage(out)
		return errors.New("unknown admin action " + args[0])
	}})
}
