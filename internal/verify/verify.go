// Package verify is the auditor's check of the event log: every stream's hash chain and
// versions, every stream folded through the domain, the log against its signed anchors, and the
// read models against a fresh fold of the log. It reads the log through the event-store port
// only, so it works on every store; and it checks the same way an export bundle, offline.
//
// What it finds, it names in words a person understands, with the stream and version (or the
// read model's table and row) at fault: "request-… version 3 was changed after it was
// written", "stream request-… ends at version 2 but anchor #7 signed version 5: its tail was
// deleted".
//
// What it cannot see: without anchors, a stream's deleted tail or a deleted stream leave valid,
// shorter chains (a per-stream chain has no end marker). With anchors, whatever changed after
// the last anchor (at most an interval's events), and a log whose anchors were deleted and
// written again from the start by a server holding the key. An auditor who keeps a copy of an
// anchor (an export bundle holds the latest) can hold the log to it later.
package verify

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Kind says what a finding is about.
type Kind string

const (
	// KindChain: an event's hash does not hold, or does not follow the event before it.
	KindChain Kind = "chain"
	// KindVersion: a stream's versions are not 0, 1, 2… in the log's order.
	KindVersion Kind = "version"
	// KindFold: an event does not decode, or no command could have recorded it.
	KindFold Kind = "fold"
	// KindAnchor: an anchor does not verify, or the log disagrees with one.
	KindAnchor Kind = "anchor"
	// KindProjection: a read model's row differs from a fresh fold of the log.
	KindProjection Kind = "projection"
)

// Finding is one thing wrong with the log or a read model.
type Finding struct {
	Kind Kind `json:"kind"`
	// Stream is the stream at fault; empty when the finding is about no one stream.
	Stream string `json:"stream,omitempty"`
	// Version is the event at fault; -1 when the finding is about no one event.
	Version int64 `json:"version"`
	// Table and Row name a read model's row that differs (KindProjection).
	Table string `json:"table,omitempty"`
	Row   string `json:"row,omitempty"`
	// Message says what is wrong, in words for a person.
	Message string `json:"message"`
}

func (f Finding) String() string { return f.Message }

// Report is what a verification checked and found.
type Report struct {
	// Streams and Events are how many streams and events were checked.
	Streams int64 `json:"streams"`
	Events  int64 `json:"events"`
	// Anchors is how many anchors were checked (none without a public key).
	Anchors int `json:"anchors"`
	// Tables is how many read-model tables were compared with a fresh fold.
	Tables int `json:"tables"`
	// Unfolded counts the streams of kinds that no aggregate folds, by their prefix
	// ("auditor-"): their chains and versions were checked, not their transitions.
	Unfolded map[string]int64 `json:"unfolded,omitempty"`
	// Findings is what is wrong, sorted by kind, stream and version.
	Findings []Finding `json:"findings"`
	// Omitted counts the findings left out beyond MaxFindings (or beyond MaxStreamFindings
	// in one stream).
	Omitted int64 `json:"omitted"`
	// Duration is how long the verification took.
	Duration time.Duration `json:"duration_ns"`
}

// OK reports whether nothing was found.
func (r Report) OK() bool { return len(r.Findings) == 0 && r.Omitted == 0 }

// Projections compares read models with a fresh fold of the log (projections.Comparer does, on
// PostgreSQL).
type Projections interface {
	// CompareWithFold folds the log afresh beside the live read models and calls differs once
	// for each row that differs, with the row's table, its key, and what differs in words. It
	// returns the number of tables it compared.
	CompareWithFold(ctx context.Context, differs func(table, row, how string)) (tables int, err error)
}

// Limits on what one verification reports.
const (
	// MaxFindings caps the findings of a report; the rest are counted in Omitted.
	MaxFindings = 10_000
	// MaxStreamFindings caps the findings about one stream.
	MaxStreamFindings = 20
)

// Defaults of Config.
const (
	DefaultPageSize = 5000
)

// Config says what to verify.
type Config struct {
	// Store is the log to verify. Required.
	Store eventlog.Store
	// Stream, when set, verifies that stream alone, read with ReadStream; empty verifies the
	// whole log, read once in its global order.
	Stream string
	// Anchors, when set, is the public key the log's anchors must be signed with: every anchor
	// is checked, and the log against them. Without it anchors are not checked (their stream's
	// chain is, as any stream's).
	Anchors ed25519.PublicKey
	// Projections, when set, compares every read-model row with a fresh fold of the log, after
	// the log is verified (whatever Stream says).
	Projections Projections
	// Progress, when set, is called as events are read with how many were read and the log's
	// event count when known (the last anchor's count, which the log outgrows by at most an
	// interval's events: total never falls below done), else 0. It runs on verify's reading
	// goroutine: it must return quickly.
	Progress func(done, total int64)
	// Workers is how many goroutines check streams, each a share of the streams (by a hash of
	// their ID). Default GOMAXPROCS, at most 8.
	Workers int
	// PageSize is how many events one read of the log takes. Default 5000.
	PageSize int
}

func (c *Config) setDefaults() {
	c.Workers = cmp.Or(c.Workers, min(runtime.GOMAXPROCS(0), 8))
	c.PageSize = cmp.Or(c.PageSize, DefaultPageSize)
}

// Validate reports every field that holds an unusable value.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if c.Anchors != nil && len(c.Anchors) != ed25519.PublicKeySize {
		errs = append(errs, fmt.Errorf("Anchors is not an Ed25519 public key (%d bytes)", len(c.Anchors)))
	}
	if c.Workers < 0 || c.PageSize < 0 {
		errs = append(errs, errors.New("Workers and PageSize must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("verify config: %w", err)
	}
	return nil
}

// Log verifies the log as cfg says. Findings are the report's; an error means the verification
// could not be done (the store or the read models unreachable, ctx ended).
func Log(ctx context.Context, cfg Config) (Report, error) {
	started := time.Now()
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	var anchors *anchorSet
	if cfg.Anchors != nil {
		// A read of the whole log gathers the streams' heads itself and reads an anchor's list
		// only where the log disagrees with it; one stream needs the lists.
		var err error
		if anchors, err = readAnchors(ctx, cfg.Store, cfg.Anchors, cfg.PageSize, cfg.Stream != ""); err != nil {
			return Report{}, err
		}
	}
	var rep Report
	var err error
	if cfg.Stream != "" {
		rep, err = verifyStream(ctx, cfg, anchors)
	} else {
		rep, err = verifyAll(ctx, cfg, anchors)
	}
	if err != nil {
		return rep, err
	}
	if cfg.Projections != nil {
		var found []Finding
		rep.Tables, err = cfg.Projections.CompareWithFold(ctx, func(table, row, how string) {
			message := fmt.Sprintf("read model %s row %s differs from a fresh fold of the log: %s", table, row, how)
			if row == "" {
				message = fmt.Sprintf("read model %s: %s", table, how)
			}
			found = append(found, Finding{Kind: KindProjection, Version: -1, Table: table, Row: row, Message: message})
		})
		if err != nil {
			return rep, fmt.Errorf("verify: compare the read models with a fresh fold: %w", err)
		}
		rep.add(found, 0)
	}
	rep.finish()
	rep.Duration = time.Since(started)
	return rep, nil
}

// add adds findings, keeping at most MaxFindings.
func (r *Report) add(found []Finding, omitted int64) {
	r.Omitted += omitted
	room := max(MaxFindings-len(r.Findings), 0)
	if len(found) > room {
		r.Omitted += int64(len(found) - room)
		found = found[:room]
	}
	r.Findings = append(r.Findings, found...)
}

var kindOrder = map[Kind]int{KindAnchor: 0, KindVersion: 1, KindChain: 2, KindFold: 3, KindProjection: 4}

// finish sorts the findings.
func (r *Report) finish() {
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.Version, b.Version),
			cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]), strings.Compare(a.Table, b.Table), strings.Compare(a.Row, b.Row))
	})
}

// ErrNoSuchStream is returned by Log for a Stream the log does not hold and no anchor signed.
var ErrNoSuchStream = errors.New("no such stream in the log")

// verifyStream verifies one stream, read with ReadStream.
func verifyStream(ctx context.Context, cfg Config, anchors *anchorSet) (Report, error) {
	var rep Report
	if anchors != nil {
		anchors.resolveListed()
	}
	c := newChecker(anchors, nil)
	for from := int64(0); ; {
		page, err := cfg.Store.ReadStream(ctx, cfg.Stream, from, eventlog.ReadOptions{Limit: cfg.PageSize})
		if err != nil {
			return rep, fmt.Errorf("verify: read %s from version %d: %w", cfg.Stream, from, err)
		}
		for i := range page {
			c.check(&page[i])
		}
		rep.Events += int64(len(page))
		if cfg.Progress != nil {
			cfg.Progress(rep.Events, 0)
		}
		if len(page) < cfg.PageSize {
			break
		}
		from = page[len(page)-1].Version + 1
	}
	c.finish(func(stream string) bool { return stream == cfg.Stream })
	c.report(&rep)
	if anchors != nil {
		rep.Anchors = trustedCount(anchors)
		rep.add(anchors.findings, 0)
		// The anchor stream's own chain, which a read of the whole log checks with the rest.
		ac := newChecker(nil, nil)
		for i := range anchors.events {
			ac.check(&anchors.events[i])
		}
		ac.finish(func(string) bool { return false })
		rep.add(ac.findings, ac.omitted)
	}
	if rep.Events == 0 && !slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Stream == cfg.Stream }) {
		return rep, fmt.Errorf("verify: %w: %s", ErrNoSuchStream, cfg.Stream)
	}
	return rep, nil
}
