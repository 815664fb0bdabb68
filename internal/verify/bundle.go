package verify

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/anchor"
)

// An export bundle is one self-contained JSON file that an auditor checks with no database and
// no network (VerifyBundle): requests' whole streams, each event exactly as stored (its data as
// the exact bytes the hash covers, its metadata with the chain's hashes), the anchors that
// signed those streams and the log's latest anchor (each as its stored event), and the
// fingerprint of the public key they verify with.

// bundleFormat names the bundle's layout; a reader refuses another.
const bundleFormat = "helpstream-audit-bundle/1"

// MaxBundleSize bounds what VerifyBundle reads.
const MaxBundleSize = 1 << 30

type bundle struct {
	Format    string    `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	// Key is the fingerprint of the public key the anchors verify with; empty when the export
	// named none.
	Key     string         `json:"key,omitempty"`
	Streams []bundleStream `json:"streams"`
	Anchors []bundleEvent  `json:"anchors"`
}

type bundleStream struct {
	Stream string        `json:"stream"`
	Events []bundleEvent `json:"events"`
}

// bundleEvent is an event as stored. Data holds the payload's exact bytes as text; a payload
// that is not valid UTF-8 (which JSON text cannot carry exactly) is in DataBase64 instead.
type bundleEvent struct {
	Stream     string            `json:"stream"`
	Version    int64             `json:"version"`
	ID         uuid.UUID         `json:"id"`
	Type       string            `json:"type"`
	Data       string            `json:"data"`
	DataBase64 string            `json:"data_base64,omitempty"`
	Metadata   eventlog.Metadata `json:"metadata"`
	Position   eventlog.Position `json:"position"`
	RecordedAt time.Time         `json:"recorded_at"`
}

func toBundle(e eventlog.RecordedEvent) bundleEvent {
	b := bundleEvent{Stream: e.StreamID, Version: e.Version, ID: e.ID, Type: e.Type, Metadata: e.Metadata,
		Position: e.Position, RecordedAt: e.RecordedAt}
	if utf8.Valid(e.Data) {
		b.Data = string(e.Data)
	} else {
		b.DataBase64 = base64.StdEncoding.EncodeToString(e.Data)
	}
	return b
}

func (b bundleEvent) recorded() (eventlog.RecordedEvent, error) {
	data := []byte(b.Data)
	if b.DataBase64 != "" {
		var err error
		if data, err = base64.StdEncoding.DecodeString(b.DataBase64); err != nil {
			return eventlog.RecordedEvent{}, err
		}
	}
	return eventlog.RecordedEvent{ID: b.ID, StreamID: b.Stream, Version: b.Version, Type: b.Type, Data: data,
		Metadata: b.Metadata, Position: b.Position, RecordedAt: b.RecordedAt}, nil
}

// ErrNoSuchRequest is returned by Export for a request the log does not hold.
var ErrNoSuchRequest = errors.New("no such request in the log")

// Export writes a bundle of the requests' streams to w: every event of each, the anchors that
// signed any of them and the log's latest anchor, and the fingerprint of pub (when given) that
// the anchors verify with. It checks nothing: VerifyBundle does, anywhere.
func Export(ctx context.Context, store eventlog.Store, requestIDs []uuid.UUID, w io.Writer, pub ed25519.PublicKey) error {
	if store == nil || len(requestIDs) == 0 {
		return errors.New("export: a store and at least one request are required")
	}
	b := bundle{Format: bundleFormat, CreatedAt: time.Now().UTC(), Streams: []bundleStream{}, Anchors: []bundleEvent{}}
	if pub != nil {
		if len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("export: %w", anchor.ErrNotEd25519Key)
		}
		b.Key = anchor.Fingerprint(pub)
	}
	named := map[string]bool{}
	for _, id := range requestIDs {
		stream := request.Stream(id)
		if named[stream] {
			continue
		}
		events, err := readWhole(ctx, store, stream, DefaultPageSize)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if len(events) == 0 {
			return fmt.Errorf("export: %w: %s", ErrNoSuchRequest, id)
		}
		named[stream] = true
		s := bundleStream{Stream: stream, Events: make([]bundleEvent, len(events))}
		for i, e := range events {
			s.Events[i] = toBundle(e)
		}
		b.Streams = append(b.Streams, s)
	}
	anchors, err := readWhole(ctx, store, anchor.Stream, DefaultPageSize)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for i, e := range anchors {
		a, err := anchor.Decode(e)
		keep := i == len(anchors)-1 // the latest, whatever it says
		if err == nil {
			keep = keep || slices.ContainsFunc(a.Streams, func(h anchor.StreamHead) bool { return named[h.Stream] })
		}
		if keep {
			b.Anchors = append(b.Anchors, toBundle(e))
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("export: write the bundle: %w", err)
	}
	return nil
}

// readWhole reads a whole stream, in pages.
func readWhole(ctx context.Context, store eventlog.Store, stream string, pageSize int) ([]eventlog.RecordedEvent, error) {
	var all []eventlog.RecordedEvent
	for from := int64(0); ; {
		page, err := store.ReadStream(ctx, stream, from, eventlog.ReadOptions{Limit: pageSize})
		if err != nil {
			return nil, fmt.Errorf("read %s from version %d: %w", stream, from, err)
		}
		all = append(all, page...)
		if len(page) < pageSize {
			return all, nil
		}
		from = page[len(page)-1].Version + 1
	}
}

// ErrBadBundle is returned by VerifyBundle for a file that is not a readable bundle.
var ErrBadBundle = errors.New("not a readable audit bundle")

// VerifyBundle checks a bundle written by Export, offline: each stream's versions, hash chain
// and fold through the domain; with pub, that the bundle names pub's fingerprint, every
// anchor's signature and head, and that each bundled stream agrees with every anchor that
// signed it (holds the version it signed, with the hash it signed). Findings are the report's;
// an error means the file could not be read as a bundle.
func VerifyBundle(r io.Reader, pub ed25519.PublicKey) (Report, error) {
	started := time.Now()
	content, err := io.ReadAll(io.LimitReader(r, MaxBundleSize+1))
	if err != nil {
		return Report{}, fmt.Errorf("verify bundle: %w", err)
	}
	if len(content) > MaxBundleSize {
		return Report{}, fmt.Errorf("%w: larger than %d bytes", ErrBadBundle, MaxBundleSize)
	}
	var b bundle
	if err := json.Unmarshal(content, &b); err != nil {
		return Report{}, fmt.Errorf("%w: %w", ErrBadBundle, err)
	}
	if b.Format != bundleFormat {
		return Report{}, fmt.Errorf("%w: format %q, not %q", ErrBadBundle, b.Format, bundleFormat)
	}
	if pub != nil && len(pub) != ed25519.PublicKeySize {
		return Report{}, fmt.Errorf("verify bundle: %w", anchor.ErrNotEd25519Key)
	}
	var rep Report
	var found []Finding

	c := newChecker(nil, nil)
	events := map[string]map[int64]string{} // stream → version → hash, as bundled
	last := map[string]int64{}
	for _, s := range b.Streams {
		if _, twice := events[s.Stream]; twice {
			found = append(found, Finding{Kind: KindVersion, Stream: s.Stream, Version: -1, Message: s.Stream + ": the bundle holds the stream twice"})
			continue
		}
		events[s.Stream], last[s.Stream] = map[int64]string{}, -1
		for _, be := range s.Events {
			e, err := be.recorded()
			if err != nil {
				found = append(found, Finding{Kind: KindChain, Stream: s.Stream, Version: be.Version,
					Message: fmt.Sprintf("%s: version %d's data is not base64: %v", s.Stream, be.Version, err)})
				continue
			}
			e.StreamID = s.Stream // the hash covers the stream the event is bundled in
			c.check(&e)
			events[s.Stream][e.Version] = e.Metadata.Hash
			last[s.Stream] = max(last[s.Stream], e.Version)
			rep.Events++
		}
	}
	c.finish(func(string) bool { return false })
	c.report(&rep)

	if pub != nil {
		if want := anchor.Fingerprint(pub); b.Key != want {
			found = append(found, Finding{Kind: KindAnchor, Stream: anchor.Stream, Version: -1,
				Message: fmt.Sprintf("the bundle names the key %q, not the key given (%s)", b.Key, want)})
		}
		recorded := make([]eventlog.RecordedEvent, 0, len(b.Anchors))
		for _, be := range b.Anchors {
			e, err := be.recorded()
			if err != nil {
				found = append(found, Finding{Kind: KindAnchor, Stream: anchor.Stream, Version: be.Version,
					Message: fmt.Sprintf("anchor #%d's data is not base64: %v", be.Version, err)})
				continue
			}
			recorded = append(recorded, e)
		}
		slices.SortStableFunc(recorded, func(x, y eventlog.RecordedEvent) int { return cmp.Compare(x.Version, y.Version) })
		set := newAnchorSet(recorded, pub, true)
		set.resolveListed()
		found = append(found, set.findings...)
		rep.Anchors = trustedCount(set)
		for i, a := range set.anchors {
			if !set.trusted[i] {
				continue
			}
			for _, h := range a.Streams {
				hashes, bundled := events[h.Stream]
				if !bundled {
					continue
				}
				hash, held := hashes[h.Version]
				switch {
				case !held && last[h.Stream] < h.Version:
					found = append(found, Finding{Kind: KindAnchor, Stream: h.Stream, Version: last[h.Stream],
						Message: fmt.Sprintf("%s: the stream ends at version %d but anchor #%d signed version %d: its tail was deleted", h.Stream, last[h.Stream], a.Number, h.Version)})
				case held && hash != h.Hash:
					found = append(found, Finding{Kind: KindAnchor, Stream: h.Stream, Version: h.Version,
						Message: fmt.Sprintf("%s: version %d is not the event anchor #%d signed (its hash differs): the stream was rewritten after the anchor", h.Stream, h.Version, a.Number)})
				}
			}
		}
	}
	rep.add(found, 0)
	rep.finish()
	rep.Duration = time.Since(started)
	return rep, nil
}
