package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// The commands made of subcommands, each of which lives in the file of its group.
func init() {
	register(commandGroup("events", "event-store tools: copy the whole event log to another store", []command{
		{"copy", copySummary, runEventsCopy},
	}))
	register(commandGroup("projections", "read models: run their projectors, rebuild them, show where they stand, retry their parked events", []command{
		{"run", projectionsRunSummary, runProjectionsRun},
		{"rebuild", projectionsRebuildSummary, runProjectionsRebuild},
		{"status", projectionsStatusSummary, runProjectionsStatus},
		{"retry", projectionsRetrySummary, runProjectionsRetry},
	}))
	register(commandGroup("analytics", "service-level analytics from the event stream: run the job, rebuild its tables, export them as CSV", []command{
		{"run", analyticsRunSummary, runAnalyticsRun},
		{"rebuild", analyticsRebuildSummary, runAnalyticsRebuild},
		{"export", analyticsExportSummary, runAnalyticsExport},
	}))
	register(commandGroup("stream", "the event stream to analytics consumers through Watermill: run a forwarder", []command{
		{"run", streamRunSummary, runStreamRun},
	}))
}

// commandGroup is a command made of subcommands, such as `helpstream events copy`: it runs the
// subcommand its first argument names, and its --help lists them. Without a subcommand, or
// with an unknown one, it prints the list to stderr and fails.
func commandGroup(name, summary string, subcommands []command) command {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "helpstream %s: %s\n\nUsage: helpstream %s <command> [flags]   (helpstream %s <command> --help for its flags)\n\nCommands:\n",
			name, summary, name, name)
		for _, c := range subcommands {
			fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
		}
	}
	run := func(ctx context.Context, args []string, out io.Writer) error {
		if len(args) == 0 {
			usage(os.Stderr)
			return errors.New(name + ": a command is required")
		}
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			usage(out)
			return nil
		}
		if c, ok := subcommand(subcommands, args[0]); ok {
			return c.run(ctx, args[1:], out)
		}
		usage(os.Stderr)
		return fmt.Errorf("%s: unknown command %q", name, args[0])
	}
	return command{name: name, summary: summary, run: run}
}

// subcommand returns the command of list called name.
func subcommand(list []command, name string) (command, bool) {
	for _, c := range list {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}
