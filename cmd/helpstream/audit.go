package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/helpstream/helpstream/internal/anchor"
)

// The auditors' commands: a request's history, views as they were, the log's verification,
// export bundles and the anchors' key. Each reads the stores directly (an operator's or an
// auditor's access to the database), never through a server.
func init() {
	register(commandGroup("audit", "auditors' tools: a request's history, any view as it was at a moment, verify the log, export verifiable bundles, the anchors' key", []command{
		{"history", auditHistorySummary, runAuditHistory},
		{"view", auditViewSummary, runAuditView},
		{"verify", auditVerifySummary, runAuditVerify},
		{"export", auditExportSummary, runAuditExport},
		{"keygen", auditKeygenSummary, runAuditKeygen},
		{"access-log", auditAccessLogSummary, runAuditAccessLog},
	}))
}

const auditKeygenSummary = "make the Ed25519 key pair that signs the log's anchors: the private key for `serve --anchor-key`, the public key for auditors"

func runAuditKeygen(_ context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("audit keygen", auditKeygenSummary, out)
	dir := fs.String("out", "anchor-key", "directory to write "+anchor.PrivateKeyFile+" (mode 0600) and "+anchor.PublicKeyFile+" into; an existing key is never overwritten")
	if help, err := parseFlagsOnly(fs, args); help || err != nil {
		return err
	}
	files, err := anchor.GenerateKeyFiles(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "private key: %s (for `helpstream serve --anchor-key %s`; keep it on the servers only)\n", files.PrivateKey, files.PrivateKey)
	fmt.Fprintf(out, "public key:  %s (give it to auditors: `helpstream audit verify --public-key %s`)\n", files.PublicKey, files.PublicKey)
	fmt.Fprintf(out, "             %s\n", anchor.FormatPublicKey(files.Public))
	fmt.Fprintf(out, "fingerprint: %s\n", anchor.Fingerprint(files.Public))
	return nil
}

// instantLayouts are the forms a moment can take on the command line and in as_of: RFC 3339
// with or without fractions, or a date and time (UTC unless it names a zone).
var instantLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

var errBadInstant = errors.New("a moment is written 2026-12-04T15:04:05Z (RFC 3339), 2026-12-04 15:04:05 (UTC) or 2026-12-04")

// parseInstant reads a moment given as --as-of.
func parseInstant(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range instantLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: %w", s, errBadInstant)
}

// parseOperands parses a command's flags and operands in any order, turning --help into a nil
// error as parseFlags does, and returns the operands.
func parseOperands(fs *flag.FlagSet, args []string) (operands []string, help bool, err error) {
	if err := parseInterleaved(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, true, nil
		}
		return nil, false, err
	}
	return fs.Args(), false, nil
}
