package verify

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/anchor"
)

// How the anchors are trusted. An anchor's head covers its fields, the previous anchor's head
// and the streams' heads it lists, so a signed anchor vouches for the one before it when that
// one's head is the previous head it signed and its own head holds (over the log's streams, or
// the ones it lists); and so on back. verify therefore checks the signature of the last anchor
// of each unbroken run, walks back along the run, and checks another signature only where the
// run breaks: where a link or a head does not hold.

// anchorSet is the log's anchors, read before the log and judged once the log is read.
type anchorSet struct {
	pub ed25519.PublicKey
	// events are the anchor stream's events as read; anchors those that decode, in order (with
	// their lists of streams when listed).
	events  []eventlog.RecordedEvent
	anchors []anchor.Anchor
	source  []int // the event of each anchor
	// bounds are the anchors' positions, in order, that split the log into each anchor's part;
	// an anchor whose position goes back is left out (and reported).
	bounds []int // indexes into anchors
	// trusted says which anchors are vouched for; set by resolve.
	trusted []bool
	// expect holds, with listed anchors, what the trusted anchors signed of every stream: the
	// highest version signed, its hash and the anchor. With the stream's chain verified, that
	// one event vouches for every event before it.
	expect   map[string]expectation
	findings []Finding
}

type expectation struct {
	version int64
	hash    string
	anchor  int64
}

// expected returns what the anchors signed of stream; a nil set signed nothing.
func (s *anchorSet) expected(stream string) (expectation, bool) {
	if s == nil || s.expect == nil {
		return expectation{}, false
	}
	e, ok := s.expect[stream]
	return e, ok
}

// each calls f for every stream the anchors signed.
func (s *anchorSet) each(f func(stream string, e expectation)) {
	if s == nil {
		return
	}
	for stream, e := range s.expect {
		f(stream, e)
	}
}

// positions returns the positions that split the log, in order.
func (s *anchorSet) positions() []eventlog.Position {
	if s == nil {
		return nil
	}
	out := make([]eventlog.Position, len(s.bounds))
	for i, k := range s.bounds {
		out[i] = s.anchors[k].Position
	}
	return out
}

func (s *anchorSet) found(stream string, version int64, format string, args ...any) {
	s.findings = append(s.findings, Finding{Kind: KindAnchor, Stream: stream, Version: version, Message: fmt.Sprintf(format, args...)})
}

// readAnchors reads the anchor stream; listed reads each anchor's list of streams too.
func readAnchors(ctx context.Context, store eventlog.Store, pub ed25519.PublicKey, pageSize int, listed bool) (*anchorSet, error) {
	events, err := readWhole(ctx, store, anchor.Stream, pageSize)
	if err != nil {
		return nil, fmt.Errorf("verify: read the anchors: %w", err)
	}
	return newAnchorSet(events, pub, listed), nil
}

// newAnchorSet decodes the anchor events.
func newAnchorSet(events []eventlog.RecordedEvent, pub ed25519.PublicKey, listed bool) *anchorSet {
	s := &anchorSet{pub: pub, events: events}
	decode := anchor.DecodeSigned
	if listed {
		decode = anchor.Decode
	}
	for i, e := range events {
		a, err := decode(e)
		if err != nil {
			s.found(anchor.Stream, e.Version, "%v", err)
			continue
		}
		s.anchors, s.source = append(s.anchors, a), append(s.source, i)
		if n := len(s.bounds); n > 0 {
			if prev := s.anchors[s.bounds[n-1]]; a.Position.Compare(prev.Position) < 0 || a.Events < prev.Events {
				s.found(anchor.Stream, a.Number, "anchor #%d covers less of the log than anchor #%d before it", a.Number, prev.Number)
				continue
			}
		}
		s.bounds = append(s.bounds, len(s.anchors)-1)
	}
	return s
}

// resolve decides which anchors are trusted. holds(i) reports whether anchor i's head is the
// one its fields and streams give (the log's streams, or its list). empty says the log holds
// nothing to anchor: no anchor is then no finding.
func (s *anchorSet) resolve(holds func(i int) bool, empty bool) {
	n := len(s.anchors)
	s.trusted = make([]bool, n)
	needSignature := true
	for i := n - 1; i >= 0; i-- {
		a := s.anchors[i]
		if needSignature {
			if err := a.VerifySignature(s.pub); err != nil {
				s.found(anchor.Stream, a.Number, "%v", err)
				continue // the one before needs a signature of its own
			}
		}
		s.trusted[i] = true
		needSignature = true
		if i == 0 {
			if a.Number == 0 && a.PreviousHead != "" {
				s.found(anchor.Stream, a.Number, "anchor #0 follows another anchor (its previous head is set): the anchors were written again from the start")
			}
			break
		}
		prev := s.anchors[i-1]
		if a.Number != prev.Number+1 {
			continue // the anchors between are missing: the anchor stream's versions say so
		}
		if a.PreviousHead != prev.Head {
			s.found(anchor.Stream, a.Number, "anchor #%d does not follow anchor #%d (its previous head differs)", a.Number, prev.Number)
			continue
		}
		needSignature = !holds(i)
	}
	if !slices.Contains(s.trusted, true) && !empty {
		s.found(anchor.Stream, -1, "no anchor in the log verifies with the key given: anchoring never ran, or the anchors were deleted or forged")
	}
}

// resolveListed resolves trust for anchors read with their lists, and gathers what the trusted
// ones signed of every stream.
func (s *anchorSet) resolveListed() {
	selfHeld := make([]bool, len(s.anchors))
	for i, a := range s.anchors {
		selfHeld[i] = a.HeadOver(a.Streams) == a.Head
	}
	s.resolve(func(i int) bool { return selfHeld[i] }, false)
	s.expect = map[string]expectation{}
	for i, a := range s.anchors {
		if !s.trusted[i] {
			continue
		}
		if !selfHeld[i] {
			s.found(anchor.Stream, a.Number, "anchor #%d was changed after it was signed: its head is not the one its fields and streams give", a.Number)
			continue
		}
		for _, h := range a.Streams {
			old, ok := s.expect[h.Stream]
			switch {
			case ok && h.Version < old.version:
				s.found(h.Stream, h.Version, "%s: anchor #%d signed version %d, below version %d that anchor #%d signed: the stream's tail was deleted and written again between them",
					h.Stream, a.Number, h.Version, old.version, old.anchor)
			case ok && h.Version == old.version && h.Hash != old.hash:
				s.found(h.Stream, h.Version, "%s: anchors #%d and #%d signed version %d with different hashes: the stream was rewritten between them",
					h.Stream, old.anchor, a.Number, h.Version)
			default:
				s.expect[h.Stream] = expectation{version: h.Version, hash: h.Hash, anchor: a.Number}
			}
		}
	}
}

// lastTrusted returns the last trusted anchor.
func (s *anchorSet) lastTrusted() (anchor.Anchor, bool) {
	for i := len(s.anchors) - 1; i >= 0; i-- {
		if s.trusted[i] {
			return s.anchors[i], true
		}
	}
	return anchor.Anchor{}, false
}

// logHeads is what the log says of each anchor's part of it: the heads of the streams that
// changed in it, and how many events the log holds up to the anchor's position.
type logHeads struct {
	entries [][]anchor.StreamHead // by bound, sorted by stream
	counted []int64               // by bound
	// events is how many events the log holds, and last the latest RecordedAt among them,
	// the anchor stream's not counted.
	events int64
	last   time.Time
	// lastVersion returns a stream's last version in the log, false for a stream it does not
	// hold.
	lastVersion func(stream string) (int64, bool)
}

// judgeLog resolves trust against the log, and names what the log and the trusted anchors
// disagree on.
func (s *anchorSet) judgeLog(log logHeads) {
	held := make([]bool, len(s.anchors))
	forBound := make([]int, len(s.anchors)) // anchor index → bound, -1 for an anchor outside them
	for i := range forBound {
		forBound[i] = -1
	}
	for b, i := range s.bounds {
		forBound[i] = b
		held[i] = s.anchors[i].HeadOver(log.entries[b]) == s.anchors[i].Head
	}
	s.resolve(func(i int) bool { return held[i] }, log.events == 0)
	missing := map[string]Finding{} // a deleted stream, named once, by the last anchor that signed it
	for i, a := range s.anchors {
		b := forBound[i]
		if !s.trusted[i] || b < 0 {
			continue
		}
		switch counted := log.counted[b]; {
		case counted < a.Events:
			s.found(anchor.Stream, a.Number, "the log holds %d events up to anchor #%d's position, the anchor counted %d: %d events were deleted",
				counted, a.Number, a.Events, a.Events-counted)
		case counted > a.Events:
			s.found(anchor.Stream, a.Number, "the log holds %d events up to anchor #%d's position, the anchor counted %d: %d events were put into the log before it after it was signed",
				counted, a.Number, a.Events, counted-a.Events)
		}
		if held[i] {
			continue
		}
		// The log disagrees with this anchor: read its list to name the streams.
		listedAnchor, err := anchor.Decode(s.events[s.source[i]])
		if err != nil || listedAnchor.HeadOver(listedAnchor.Streams) != a.Head {
			s.found(anchor.Stream, a.Number, "anchor #%d was changed after it was signed: its head is not the one its fields and streams give; the log's part it covers cannot be checked", a.Number)
			continue
		}
		s.compare(listedAnchor, log.entries[b], log.lastVersion, missing)
	}
	for _, f := range missing {
		s.findings = append(s.findings, f)
	}
	if last, ok := s.lastTrusted(); ok {
		if deadline := last.SignedAt.Add(2 * last.Interval); log.last.After(deadline) {
			s.found(anchor.Stream, last.Number, "the log holds events recorded until %s, more than twice the anchors' interval (%s) after the last anchor #%d, signed %s: anchoring stopped, or the anchors after #%d were deleted",
				log.last.UTC().Format(time.RFC3339), last.Interval, last.Number, last.SignedAt.UTC().Format(time.RFC3339), last.Number)
		}
	}
}

// compare names the streams on which an anchor's list and the log's part it covers disagree.
func (s *anchorSet) compare(a anchor.Anchor, logged []anchor.StreamHead, lastVersion func(string) (int64, bool), missing map[string]Finding) {
	i, j := 0, 0
	for i < len(a.Streams) || j < len(logged) {
		var signed, held *anchor.StreamHead
		switch {
		case j >= len(logged) || i < len(a.Streams) && a.Streams[i].Stream < logged[j].Stream:
			signed = &a.Streams[i]
			i++
		case i >= len(a.Streams) || logged[j].Stream < a.Streams[i].Stream:
			held = &logged[j]
			j++
		default:
			signed, held = &a.Streams[i], &logged[j]
			i, j = i+1, j+1
		}
		switch {
		case signed == nil:
			s.found(held.Stream, held.Version, "%s: the part of the log anchor #%d covers holds the stream up to version %d, which the anchor did not sign: its events were put into the log after it was signed",
				held.Stream, a.Number, held.Version)
		case held == nil || held.Version < signed.Version:
			last, ok := lastVersion(signed.Stream)
			switch {
			case !ok:
				missing[signed.Stream] = Finding{Kind: KindAnchor, Stream: signed.Stream, Version: -1,
					Message: fmt.Sprintf("%s: the stream is missing: anchor #%d signed it at version %d", signed.Stream, a.Number, signed.Version)}
			case last < signed.Version:
				s.found(signed.Stream, last, "%s: the stream ends at version %d but anchor #%d signed version %d: its tail was deleted", signed.Stream, last, a.Number, signed.Version)
			default:
				s.found(signed.Stream, signed.Version, "%s: version %d is not in the part of the log anchor #%d covers, where the anchor signed it: the stream's events were moved",
					signed.Stream, signed.Version, a.Number)
			}
		case held.Version > signed.Version:
			s.found(signed.Stream, held.Version, "%s: the part of the log anchor #%d covers holds the stream up to version %d, the anchor signed version %d: events were put into the log before it after it was signed",
				signed.Stream, a.Number, held.Version, signed.Version)
		case held.Hash != signed.Hash:
			s.found(signed.Stream, signed.Version, "%s: version %d is not the event anchor #%d signed (its hash differs): the stream was rewritten after the anchor",
				signed.Stream, signed.Version, a.Number)
		}
	}
}

// intervals gathers, as a checker meets a stream's events in the log's order, the head of each
// stream in each anchor's part of the log.
type intervals struct {
	bounds  []eventlog.Position
	at      int // the part of the log the last event met is in; len(bounds) past the last anchor
	entries [][]anchor.StreamHead
}

func newIntervals(bounds []eventlog.Position) *intervals {
	return &intervals{bounds: bounds, entries: make([][]anchor.StreamHead, len(bounds))}
}

// see notes e, the next event of the log among those of the checker's streams.
func (iv *intervals) see(st *streamState, e *eventlog.RecordedEvent) {
	if iv == nil || e.StreamID == anchor.Stream {
		return
	}
	for iv.at < len(iv.bounds) && e.Position.Compare(iv.bounds[iv.at]) > 0 {
		iv.at++
	}
	if iv.at == len(iv.bounds) {
		return
	}
	switch {
	case st.part != iv.at+1:
		iv.flush(e.StreamID, st)
		st.part, st.partVersion, st.partHash = iv.at+1, e.Version, e.Metadata.Hash
	case e.Version > st.partVersion:
		st.partVersion, st.partHash = e.Version, e.Metadata.Hash
	}
}

// flush records the stream's head in the part of the log it was last met in.
func (iv *intervals) flush(stream string, st *streamState) {
	if st.part > 0 {
		iv.entries[st.part-1] = append(iv.entries[st.part-1], anchor.StreamHead{Stream: stream, Version: st.partVersion, Hash: st.partHash})
		st.part = 0
	}
}

// mergeIntervals joins the checkers' heads of each part of the log, sorted by stream.
func mergeIntervals(parts []*intervals) [][]anchor.StreamHead {
	if len(parts) == 0 || parts[0] == nil {
		return nil
	}
	out := make([][]anchor.StreamHead, len(parts[0].entries))
	for b := range out {
		for _, p := range parts {
			out[b] = append(out[b], p.entries[b]...)
		}
		slices.SortFunc(out[b], func(x, y anchor.StreamHead) int { return strings.Compare(x.Stream, y.Stream) })
	}
	return out
}

// logCounter counts, in the log's order, the events up to each anchor's position.
type logCounter struct {
	bounds  []eventlog.Position
	next    int
	count   int64
	counted []int64
	last    time.Time
}

func newLogCounter(bounds []eventlog.Position) *logCounter {
	return &logCounter{bounds: bounds, counted: make([]int64, len(bounds))}
}

// see counts the next event of the log.
func (c *logCounter) see(e *eventlog.RecordedEvent) {
	if e.StreamID == anchor.Stream {
		return
	}
	for c.next < len(c.bounds) && e.Position.Compare(c.bounds[c.next]) > 0 {
		c.counted[c.next] = c.count
		c.next++
	}
	c.count++
	if e.RecordedAt.After(c.last) {
		c.last = e.RecordedAt
	}
}

// end counts the anchors the log did not reach.
func (c *logCounter) end() {
	for ; c.next < len(c.bounds); c.next++ {
		c.counted[c.next] = c.count
	}
}
