package verify

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/anchor"
)

// anchorSet is what the anchors say the log holds, once each is checked.
type anchorSet struct {
	// events are the anchor stream's events, as read.
	events []eventlog.RecordedEvent
	// verified are the anchors whose signature and head hold, in order: only those are
	// trusted.
	verified []anchor.Anchor
	// expect holds, for every stream an anchor signed, the highest version signed, its hash
	// and the anchor: the stream must hold that event, with that hash. With the stream's chain
	// verified, that one event vouches for every event before it.
	expect map[string]expectation
	// findings are about the anchors themselves.
	findings []Finding
}

type expectation struct {
	version int64
	hash    string
	anchor  int64
}

// expected returns what the anchors signed of stream; a nil set signed nothing.
func (s *anchorSet) expected(stream string) (expectation, bool) {
	if s == nil {
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

// loadAnchors reads the anchor stream and checks every anchor with pub.
func loadAnchors(ctx context.Context, store eventlog.Store, pub ed25519.PublicKey, pageSize int) (*anchorSet, error) {
	var events []eventlog.RecordedEvent
	for from := int64(0); ; {
		page, err := store.ReadStream(ctx, anchor.Stream, from, eventlog.ReadOptions{Limit: pageSize})
		if err != nil {
			return nil, fmt.Errorf("verify: read the anchors: %w", err)
		}
		events = append(events, page...)
		if len(page) < pageSize {
			break
		}
		from = page[len(page)-1].Version + 1
	}
	return checkAnchors(events, pub), nil
}

// checkAnchors checks each anchor's signature and head, that each follows the one before, and
// gathers what they signed of every stream.
func checkAnchors(events []eventlog.RecordedEvent, pub ed25519.PublicKey) *anchorSet {
	s := &anchorSet{events: events, expect: map[string]expectation{}}
	found := func(version int64, format string, args ...any) {
		s.findings = append(s.findings, Finding{Kind: KindAnchor, Stream: anchor.Stream, Version: version, Message: fmt.Sprintf(format, args...)})
	}
	var prev *anchor.Anchor
	for _, e := range events {
		a, err := anchor.Decode(e)
		if err != nil {
			found(e.Version, "%v", err)
			continue
		}
		if err := a.Verify(pub); err != nil {
			found(a.Number, "%v", err)
			continue
		}
		switch {
		case prev == nil && a.Number == 0 && a.PreviousHead != "":
			found(a.Number, "anchor #0 follows another anchor (its previous head is set): the anchors were written again from the start")
		case prev == nil || a.Number != prev.Number+1:
			// The anchors between are missing or did not verify: named where they are.
		case a.PreviousHead != prev.Head:
			found(a.Number, "anchor #%d does not follow anchor #%d (its previous head differs)", a.Number, prev.Number)
		case a.Position.Compare(prev.Position) < 0 || a.Events < prev.Events:
			found(a.Number, "anchor #%d covers less of the log than anchor #%d before it", a.Number, prev.Number)
			continue
		}
		for _, h := range a.Streams {
			old, ok := s.expect[h.Stream]
			switch {
			case ok && h.Version < old.version:
				s.findings = append(s.findings, Finding{Kind: KindAnchor, Stream: h.Stream, Version: h.Version,
					Message: fmt.Sprintf("%s: anchor #%d signed version %d, below version %d that anchor #%d signed: the stream's tail was deleted and written again between them",
						h.Stream, a.Number, h.Version, old.version, old.anchor)})
			case ok && h.Version == old.version && h.Hash != old.hash:
				s.findings = append(s.findings, Finding{Kind: KindAnchor, Stream: h.Stream, Version: h.Version,
					Message: fmt.Sprintf("%s: anchors #%d and #%d signed version %d with different hashes: the stream was rewritten between them",
						h.Stream, old.anchor, a.Number, h.Version)})
			default:
				s.expect[h.Stream] = expectation{version: h.Version, hash: h.Hash, anchor: a.Number}
			}
		}
		s.verified = append(s.verified, a)
		prev = &s.verified[len(s.verified)-1]
	}
	return s
}

// logCounter holds the log, read in its order, to the anchors' event counts, and tells when the
// log's last events were recorded.
type logCounter struct {
	anchors []anchor.Anchor // in increasing positions
	next    int             // the first anchor whose position the log has not passed
	count   int64           // events read, the anchor stream's not counted
	last    time.Time       // the latest RecordedAt among them
	found   []Finding
}

func newLogCounter(s *anchorSet) *logCounter {
	c := &logCounter{}
	if s == nil {
		return c
	}
	for _, a := range s.verified {
		if n := len(c.anchors); n == 0 || a.Position.Compare(c.anchors[n-1].Position) >= 0 {
			c.anchors = append(c.anchors, a)
		}
	}
	return c
}

// see counts the next event of the log.
func (c *logCounter) see(e *eventlog.RecordedEvent) {
	if e.StreamID == anchor.Stream {
		return
	}
	for c.next < len(c.anchors) && e.Position.Compare(c.anchors[c.next].Position) > 0 {
		c.check(c.anchors[c.next])
		c.next++
	}
	c.count++
	if e.RecordedAt.After(c.last) {
		c.last = e.RecordedAt
	}
}

// check compares the events read up to a's position with a's count.
func (c *logCounter) check(a anchor.Anchor) {
	switch {
	case c.count < a.Events:
		c.found = append(c.found, Finding{Kind: KindAnchor, Stream: anchor.Stream, Version: a.Number,
			Message: fmt.Sprintf("the log holds %d events up to anchor #%d's position, the anchor counted %d: %d events were deleted",
				c.count, a.Number, a.Events, a.Events-c.count)})
	case c.count > a.Events:
		c.found = append(c.found, Finding{Kind: KindAnchor, Stream: anchor.Stream, Version: a.Number,
			Message: fmt.Sprintf("the log holds %d events up to anchor #%d's position, the anchor counted %d: %d events were put into the log before it after it was signed",
				c.count, a.Number, a.Events, c.count-a.Events)})
	}
}

// end checks the anchors the log did not reach, and that anchors went on as long as the log.
func (c *logCounter) end(s *anchorSet) []Finding {
	if s == nil {
		return nil
	}
	for ; c.next < len(c.anchors); c.next++ {
		c.check(c.anchors[c.next])
	}
	if len(s.verified) == 0 {
		if c.count > 0 {
			c.found = append(c.found, Finding{Kind: KindAnchor, Stream: anchor.Stream, Version: -1,
				Message: fmt.Sprintf("the log holds %d events and no anchor that verifies with the key given: anchoring never ran, or the anchors were deleted", c.count)})
		}
		return c.found
	}
	last := s.verified[len(s.verified)-1]
	if deadline := last.SignedAt.Add(2 * last.Interval); c.last.After(deadline) {
		c.found = append(c.found, Finding{Kind: KindAnchor, Stream: anchor.Stream, Version: last.Number,
			Message: fmt.Sprintf("the log holds events recorded until %s, more than twice the anchors' interval (%s) after the last anchor #%d, signed %s: anchoring stopped, or the anchors after #%d were deleted",
				c.last.UTC().Format(time.RFC3339), last.Interval, last.Number, last.SignedAt.UTC().Format(time.RFC3339), last.Number)})
	}
	return c.found
}
