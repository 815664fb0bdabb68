package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/anchor"
	"github.com/helpstream/helpstream/internal/privacy"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/verify"
	"github.com/helpstream/helpstream/projections"
)

const auditVerifySummary = "verify the log: every stream's hash chain and versions, every event folded through the domain, with --public-key the signed anchors (deleted tails and streams), with --projections every read-model row against a fresh fold; or an export bundle offline (--bundle); exits non-zero on any finding"

// errFindings makes the command exit non-zero once its report is printed.
var errFindings = errors.New("verification found problems")

func runAuditVerify(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("audit verify", auditVerifySummary, out)
	stream := fs.String("stream", "", "verify this stream alone (e.g. request-<uuid>)")
	fs.Bool("all", true, "verify the whole log, read once in its order (the default without --stream)")
	withProjections := fs.Bool("projections", false, "also compare every read-model row with a fresh fold of the log (in scratch tables, dropped after)")
	publicKey := fs.String("public-key", envOr("HELPSTREAM_ANCHOR_PUBLIC_KEY", ""), "the anchors' public key (file from `audit keygen`, or ed25519:… text): checks every anchor and the log against them (env HELPSTREAM_ANCHOR_PUBLIC_KEY)")
	bundle := fs.String("bundle", "", "verify this export bundle offline (no database, no network) instead of the log")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	progress := fs.Bool("progress", isTerminal(os.Stderr), "draw a progress bar on stderr (default: when stderr is a terminal)")
	flags := addProjectionFlags(fs)
	if help, err := parseFlagsOnly(fs, args); help || err != nil {
		return err
	}
	var pub ed25519.PublicKey
	if *publicKey != "" {
		var err error
		if pub, err = loadPublicKey(*publicKey); err != nil {
			return err
		}
	}
	var report verify.Report
	if *bundle != "" {
		if *stream != "" || *withProjections {
			return errors.New("audit verify: --bundle checks the bundle alone; drop --stream and --projections")
		}
		f, err := os.Open(*bundle)
		if err != nil {
			return fmt.Errorf("audit verify: %w", err)
		}
		defer f.Close()
		if report, err = verify.VerifyBundle(f, pub); err != nil {
			return err
		}
	} else {
		// The chains cover the log as stored: no key is needed, unless the read models are
		// compared too (they hold the fields opened).
		open := openLogAsStored
		if *withProjections {
			open = openProjectionStores
		}
		pool, store, closeStores, err := open(ctx, flags)
		if err != nil {
			return err
		}
		defer closeStores()
		cfg := verify.Config{Store: privacy.Unwrap(store), Stream: *stream, Anchors: pub}
		if *withProjections {
			comparer, err := projections.NewComparer(pool, store, service.ReadModels(), projections.CompareOptions{})
			if err != nil {
				return err
			}
			cfg.Projections = comparer
		}
		bar := newProgressBar(os.Stderr, *progress)
		cfg.Progress = bar.update
		report, err = verify.Log(ctx, cfg)
		bar.done()
		if err != nil {
			return err
		}
	}
	if err := printVerifyReport(out, report, pub != nil, *asJSON); err != nil {
		return err
	}
	if !report.OK() {
		return errFindings
	}
	return nil
}

// loadPublicKey reads an anchors' public key from a file, or from its one-line text form.
func loadPublicKey(s string) (ed25519.PublicKey, error) {
	if strings.HasPrefix(s, "ed25519:") {
		return anchor.ParsePublicKey(s)
	}
	pub, err := anchor.LoadPublicKey(s)
	if err != nil {
		return nil, fmt.Errorf("--public-key: %w", err)
	}
	return pub, nil
}

func printVerifyReport(out io.Writer, r verify.Report, anchored, asJSON bool) error {
	if asJSON {
		if r.Findings == nil {
			r.Findings = []verify.Finding{}
		}
		return writeJSON(out, r)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(out, "FINDING %-10s %s\n", f.Kind, f.Message)
	}
	if r.Omitted > 0 {
		fmt.Fprintf(out, "… and %d findings more\n", r.Omitted)
	}
	fmt.Fprintf(out, "checked %d streams, %d events", r.Streams, r.Events)
	if anchored {
		fmt.Fprintf(out, ", %d anchors", r.Anchors)
	} else {
		fmt.Fprint(out, ", no anchors (no --public-key)")
	}
	if r.Tables > 0 {
		fmt.Fprintf(out, ", %d read-model tables", r.Tables)
	}
	fmt.Fprintf(out, " in %s\n", r.Duration.Round(time.Millisecond))
	if r.OK() {
		fmt.Fprintln(out, "OK: no findings")
	} else {
		fmt.Fprintf(out, "FAILED: %d findings\n", int64(len(r.Findings))+r.Omitted)
	}
	return nil
}

const auditExportSummary = "write a self-contained bundle of requests (their events, hash chains, the anchors that signed them, the key's fingerprint) that `audit verify --bundle` checks with no database"

func runAuditExport(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("audit export", auditExportSummary+"\n\nUsage: helpstream audit export REQUEST_ID… --out FILE", out)
	file := fs.String("out", "", "the bundle file to write (required)")
	publicKey := fs.String("public-key", envOr("HELPSTREAM_ANCHOR_PUBLIC_KEY", ""), "the anchors' public key, whose fingerprint the bundle names (env HELPSTREAM_ANCHOR_PUBLIC_KEY)")
	flags := addProjectionFlags(fs)
	ids, help, err := parseOperands(fs, args)
	if help || err != nil {
		return err
	}
	if *file == "" || len(ids) == 0 {
		return errors.New("audit export: give one or more request IDs and --out FILE")
	}
	requests := make([]uuid.UUID, 0, len(ids))
	for _, s := range ids {
		id, err := uuid.Parse(s)
		if err != nil {
			return fmt.Errorf("audit export: %q is not a request ID", s)
		}
		requests = append(requests, id)
	}
	var pub ed25519.PublicKey
	if *publicKey != "" {
		if pub, err = loadPublicKey(*publicKey); err != nil {
			return err
		}
	}
	_, store, closeStores, err := openLogAsStored(ctx, flags)
	if err != nil {
		return err
	}
	defer closeStores()
	tmp := *file + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	if err := verify.Export(ctx, privacy.Unwrap(store), requests, f, pub); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("audit export: %w", err)
	}
	if err := os.Rename(tmp, *file); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	fmt.Fprintf(out, "wrote %s: %d requests; check it with `helpstream audit verify --bundle %s --public-key KEY`\n", *file, len(requests), *file)
	return nil
}

// isTerminal reports whether f is a terminal (a character device), where a progress bar
// belongs; a file or a pipe gets none.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progressBar redraws one line on a terminal, at most every 100 ms.
type progressBar struct {
	w       io.Writer
	on      bool
	started time.Time
	drawn   time.Time
}

func newProgressBar(w io.Writer, on bool) *progressBar {
	return &progressBar{w: w, on: on, started: time.Now()}
}

func (p *progressBar) update(done, total int64) {
	if !p.on || time.Since(p.drawn) < 100*time.Millisecond {
		return
	}
	p.drawn = time.Now()
	rate := float64(done) / max(time.Since(p.started).Seconds(), 1e-3)
	if total <= 0 {
		fmt.Fprintf(p.w, "\rverifying: %d events (%.0f/s)   ", done, rate)
		return
	}
	const width = 40
	filled := int(min(done, total) * width / total)
	fmt.Fprintf(p.w, "\r[%s%s] %3d%%  %d/%d events (%.0f/s)   ", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		min(done, total)*100/total, done, total, rate)
}

func (p *progressBar) done() {
	if p.on && !p.drawn.IsZero() {
		fmt.Fprintln(p.w)
	}
}
