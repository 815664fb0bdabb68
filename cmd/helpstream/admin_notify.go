package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/notifier"
	"github.com/helpstream/helpstream/internal/service"
)

// The notifications' dead letters (R5): listed and queued again by an admin. They sit beside
// admin.go's actions, in a file of their own.
func init() {
	adminActions = append(adminActions,
		adminAction{"webhook-dead-letters", "list notifications that failed every attempt: [--channel webhook|email|all] [--from POSITION] [--limit N]", deadLettersAction},
		adminAction{"webhook-replay", "queue dead notifications again, from a log position on: --from POSITION [--channel webhook|email|all]", replayAction},
	)
}

// channelFlag adds --channel and returns a function that reads it as notifier's channel
// ("" for every channel).
func channelFlag(fs *flag.FlagSet) func() (string, error) {
	ch := fs.String("channel", notifier.ChannelWebhook, "webhook, email or all")
	return func() (string, error) {
		switch *ch {
		case "all":
			return "", nil
		case notifier.ChannelWebhook, notifier.ChannelEmail:
			return *ch, nil
		default:
			return "", fmt.Errorf("--channel %q: want webhook, email or all", *ch)
		}
	}
}

// positionFlag adds --from, a log position ("<hi>-<lo>", as the dead letters show it).
func positionFlag(fs *flag.FlagSet, usage string) func() (eventlog.Position, error) {
	from := fs.String("from", "", usage)
	return func() (eventlog.Position, error) {
		if *from == "" || *from == "0" {
			return eventlog.Start(), nil
		}
		pos, err := eventlog.ParsePosition(*from)
		if err != nil {
			return eventlog.Position{}, fmt.Errorf("--from %q: %w", *from, err)
		}
		return pos, nil
	}
}

func deadLettersAction(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	channel := channelFlag(fs)
	from := positionFlag(fs, "list those at or after this log position (default: all)")
	limit := fs.Int("limit", 100, "list at most this many")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		ch, err := channel()
		if err != nil {
			return err
		}
		pos, err := from()
		if err != nil {
			return err
		}
		dead, err := notifier.DeadLetters(ctx, svc.Pool, ch, pos, *limit)
		if err != nil {
			return err
		}
		if len(dead) == 0 {
			fmt.Fprintln(out, "no dead notifications")
			return nil
		}
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "POSITION\tCHANNEL\tTECHNICIAN\tREQUEST\tATTEMPTS\tLAST ATTEMPT\tLAST ERROR\tIDEMPOTENCY KEY")
		for _, d := range dead {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.Position, d.Channel, d.TechnicianID, d.RequestID, d.Attempts,
				d.LastAttempt.UTC().Format(time.RFC3339), d.LastError, d.ID)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(out, "\nqueue them again with: helpstream admin webhook-replay --from POSITION")
		return nil
	}
}

func replayAction(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	channel := channelFlag(fs)
	from := positionFlag(fs, "queue again the dead notifications of events at or after this log position (webhook-dead-letters shows them); required")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		if f := fs.Lookup("from"); f.Value.String() == "" {
			return fmt.Errorf("--from is required (a position from webhook-dead-letters, or 0 for all)")
		}
		ch, err := channel()
		if err != nil {
			return err
		}
		pos, err := from()
		if err != nil {
			return err
		}
		n, err := notifier.Replay(ctx, svc.Pool, ch, pos)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%d dead notification(s) queued again; a running `helpstream serve` sends them in log order per technician and channel\n", n)
		return nil
	}
}
