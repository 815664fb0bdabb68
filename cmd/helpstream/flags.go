package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// newFlagSet returns a flag set whose --help prints the command's summary before its flags.
func newFlagSet(name, summary string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("helpstream "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "helpstream %s: %s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning --help into a nil error.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, err
	}
	return false, nil
}

// parseFlagsOnly is parseFlags for a command that takes no arguments besides its flags: any
// is an error.
func parseFlagsOnly(fs *flag.FlagSet, args []string) (help bool, err error) {
	if help, err := parseFlags(fs, args); help || err != nil {
		return help, err
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("%s: unexpected arguments %q", strings.TrimPrefix(fs.Name(), "helpstream "), fs.Args())
	}
	return false, nil
}

// envOr returns the environment variable's value, or def when it is unset or empty.
func envOr(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}

// defaultDatabaseURL is the local PostgreSQL every machine of ours runs.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/helpstream?sslmode=disable"

// eventStoreFlag adds --event-store, which every command that opens the stores shares; empty
// means the event store lives in the --database-url database.
func eventStoreFlag(fs *flag.FlagSet) *string {
	return fs.String("event-store", envOr("HELPSTREAM_EVENT_STORE", ""), "event store URL: postgres://… or esdb://host:2113?tls=false; default: the database (env HELPSTREAM_EVENT_STORE)")
}

// writeJSON prints v as indented JSON, for a command's --json or --format json.
func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
