package verify

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/erasure"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/anchor"
)

// checker checks streams event by event, as the log's order brings them: each stream's versions
// and hash chain, its fold through the domain, and what the anchors signed of it. One goroutine
// uses a checker; several share the streams of a log, each stream checked by one.
type checker struct {
	hasher  eventlog.ChainHasher
	streams map[string]*streamState
	// anchors is shared by every checker, and only read; parts, when set, gathers the
	// streams' heads in each anchor's part of the log (a read of the whole log).
	anchors *anchorSet
	parts   *intervals

	findings []Finding
	omitted  int64
	unfolded map[string]int64
	// slab hands out stream states a block at a time: a log holds hundreds of thousands of
	// streams.
	slab []streamState
}

// admitter is an aggregate that folds an event only when it could follow its history.
type admitter interface {
	Admit(e eventlog.Event) error
}

// streamKind is how a stream's events are folded, by the stream's prefix.
type streamKind struct {
	prefix string
	codec  *eventlog.Codec
	// newAggregate returns the empty aggregate the stream's events are admitted into.
	newAggregate func() admitter
	// createdID is the ID the stream's first event gives its aggregate.
	createdID func(e eventlog.Event) (uuid.UUID, bool)
}

var kinds = []streamKind{
	{request.StreamPrefix, request.Codec(), func() admitter { return new(request.Request) }, func(e eventlog.Event) (uuid.UUID, bool) {
		s, ok := e.(*request.Submitted)
		if !ok {
			return uuid.Nil, false
		}
		return s.RequestID, true
	}},
	{"company-", directory.Codec(), func() admitter { return new(directory.Company) }, func(e eventlog.Event) (uuid.UUID, bool) {
		s, ok := e.(*directory.CompanyCreated)
		if !ok {
			return uuid.Nil, false
		}
		return s.CompanyID, true
	}},
	{"technician-", directory.Codec(), func() admitter { return new(directory.Technician) }, func(e eventlog.Event) (uuid.UUID, bool) {
		s, ok := e.(*directory.TechnicianRegistered)
		if !ok {
			return uuid.Nil, false
		}
		return s.TechnicianID, true
	}},
	{"auditor-", directory.Codec(), func() admitter { return new(directory.Auditor) }, func(e eventlog.Event) (uuid.UUID, bool) {
		s, ok := e.(*directory.AuditorRegistered)
		if !ok {
			return uuid.Nil, false
		}
		return s.AuditorID, true
	}},
	{routing.StreamPrefix, routing.Codec(), func() admitter { return new(routing.Policy) }, func(e eventlog.Event) (uuid.UUID, bool) {
		s, ok := e.(*routing.PolicySet)
		if !ok {
			return uuid.Nil, false
		}
		return s.CompanyID, true
	}},
	{servicelevel.StreamPrefix, servicelevel.Codec(), func() admitter { return new(servicelevel.Policy) }, func(e eventlog.Event) (uuid.UUID, bool) {
		s, ok := e.(*servicelevel.TargetsSet)
		if !ok {
			return uuid.Nil, false
		}
		return s.CompanyID, true
	}},
	{retention.StreamPrefix, retention.Codec(), func() admitter { return new(retention.Policy) }, func(e eventlog.Event) (uuid.UUID, bool) {
		s, ok := e.(*retention.PolicySet)
		if !ok {
			return uuid.Nil, false
		}
		return s.CompanyID, true
	}},
	{erasure.StreamPrefix, erasure.Codec(), func() admitter { return new(erasure.Erasure) }, func(e eventlog.Event) (uuid.UUID, bool) {
		s, ok := e.(*erasure.CustomerErased)
		if !ok {
			return uuid.Nil, false
		}
		return s.ErasureID, true
	}},
}

// kindOf returns the kind of a stream, nil for a stream no aggregate folds.
func kindOf(stream string) *streamKind {
	for i := range kinds {
		if strings.HasPrefix(stream, kinds[i].prefix) {
			return &kinds[i]
		}
	}
	return nil
}

// streamState is where the check of one stream stands.
type streamState struct {
	// next is one past the highest version met; lastHash that event's stored hash, and
	// lastSound whether its own hash held (only then is the next event's link to it checked).
	next      int64
	lastHash  string
	lastSound bool
	// missing are the versions below next not met yet: a gap, or events the log holds later
	// (reordered).
	missing []versionRange
	// tampered is set at the first chain or version finding: the fold of a stream known to be
	// tampered with would only repeat it, so its fold findings are left out.
	tampered bool
	kind     *streamKind
	// aggregate is the fold so far; nil once the fold stopped (at a finding) or for a stream
	// no aggregate folds.
	aggregate admitter
	findings  int
	// part is the anchor's part of the log (1-based, 0 for none) the stream was last met in,
	// partVersion and partHash its head there (see intervals).
	part        int
	partVersion int64
	partHash    string
}

type versionRange struct{ from, to int64 } // inclusive

// maxGaps bounds the gaps kept per stream to fill when their events come late: past it, a gap
// is reported at once (and bounds the work of a crafted bundle full of gaps).
const maxGaps = 1000

func newChecker(anchors *anchorSet, parts *intervals) *checker {
	return &checker{streams: map[string]*streamState{}, anchors: anchors, parts: parts, unfolded: map[string]int64{}}
}

// found records a finding about stream, within the caps.
func (c *checker) found(st *streamState, kind Kind, stream string, version int64, format string, args ...any) {
	if kind == KindChain || kind == KindVersion {
		st.tampered = true
	}
	st.findings++
	if st.findings > MaxStreamFindings || len(c.findings) >= MaxFindings {
		c.omitted++
		return
	}
	c.findings = append(c.findings, Finding{Kind: kind, Stream: stream, Version: version, Message: stream + ": " + fmt.Sprintf(format, args...)})
}

// check checks the next event of its stream in the log's order.
func (c *checker) check(e *eventlog.RecordedEvent) {
	st := c.streams[e.StreamID]
	if st == nil {
		if len(c.slab) == 0 {
			c.slab = make([]streamState, 1024)
		}
		st, c.slab = &c.slab[0], c.slab[1:]
		st.kind = kindOf(e.StreamID)
		if st.kind != nil {
			st.aggregate = st.kind.newAggregate()
		} else {
			c.unfolded[prefixOf(e.StreamID)]++
		}
		c.streams[e.StreamID] = st
	}
	if e.Version < 0 || e.Version == math.MaxInt64 {
		c.found(st, KindVersion, e.StreamID, e.Version, "an event has the version %d, which no stream reaches", e.Version)
		return
	}
	sound := c.hasher.Sealed(e)
	inOrder := true
	switch {
	case e.Version == st.next:
		if st.next > 0 && st.lastSound && sound && e.Metadata.PreviousHash != st.lastHash {
			c.found(st, KindChain, e.StreamID, e.Version-1, "version %d does not follow version %d (its previous hash differs): version %d was replaced, or the events before it were rewritten",
				e.Version, e.Version-1, e.Version-1)
		} else if st.next == 0 && sound && e.Metadata.PreviousHash != "" {
			c.found(st, KindChain, e.StreamID, 0, "version 0 follows an event (it has a previous hash): the stream's first events were removed and it was numbered again")
		}
	case e.Version > st.next:
		if len(st.missing) < maxGaps {
			st.missing = append(st.missing, versionRange{st.next, e.Version - 1})
		} else {
			c.found(st, KindVersion, e.StreamID, st.next, "the events at versions %d to %d are missing", st.next, e.Version-1)
		}
	default: // below next: a gap filled late, or a version met twice
		inOrder = false
		if st.fill(e.Version) {
			c.found(st, KindVersion, e.StreamID, e.Version, "version %d comes after version %d in the log: the stream's events were reordered", e.Version, st.next-1)
		} else {
			c.found(st, KindVersion, e.StreamID, e.Version, "version %d appears more than once in the log", e.Version)
		}
	}
	if !sound {
		c.found(st, KindChain, e.StreamID, e.Version, "version %d was changed after it was written (its hash does not match its content)", e.Version)
	}
	if inOrder {
		st.next, st.lastHash, st.lastSound = e.Version+1, e.Metadata.Hash, sound
	}
	if exp, ok := c.anchors.expected(e.StreamID); ok && exp.version == e.Version && exp.hash != e.Metadata.Hash {
		c.found(st, KindAnchor, e.StreamID, e.Version, "version %d is not the event anchor #%d signed (its hash differs): the stream was rewritten after the anchor",
			e.Version, exp.anchor)
	}
	c.parts.see(st, e)
	if inOrder && st.aggregate != nil {
		c.fold(st, e)
	}
}

// fill takes version out of the missing ranges, and reports whether it was missing.
func (st *streamState) fill(version int64) bool {
	for i, r := range st.missing {
		if version < r.from || version > r.to {
			continue
		}
		switch {
		case r.from == r.to:
			st.missing = append(st.missing[:i], st.missing[i+1:]...)
		case version == r.from:
			st.missing[i].from++
		case version == r.to:
			st.missing[i].to--
		default:
			st.missing = append(st.missing[:i+1], st.missing[i:]...)
			st.missing[i].to, st.missing[i+1].from = version-1, version+1
		}
		return true
	}
	return false
}

// fold decodes e with its stream's codec and admits it into the stream's aggregate; the fold
// stops at the first event that does not decode or could not follow.
func (c *checker) fold(st *streamState, e *eventlog.RecordedEvent) {
	stop := func(format string, args ...any) {
		if !st.tampered {
			c.found(st, KindFold, e.StreamID, e.Version, format, args...)
		}
		st.aggregate = nil
	}
	event, err := st.kind.codec.Decode(e.Type, e.Data)
	if errors.Is(err, eventlog.ErrUnknownEventType) {
		stop("version %d is a %s event, which a %s stream cannot hold", e.Version, e.Type, strings.TrimSuffix(st.kind.prefix, "-"))
		return
	}
	if err != nil {
		stop("version %d (%s) does not decode: %v", e.Version, e.Type, err)
		return
	}
	if err := st.aggregate.Admit(event); err != nil {
		stop("version %d: %v", e.Version, err)
		return
	}
	if id, created := st.kind.createdID(event); created {
		if st.kind.prefix+id.String() != e.StreamID {
			stop("version %d starts the aggregate %s, not the stream's", e.Version, id)
			return
		}
		if s, ok := st.aggregate.(slimmer); ok {
			s.Slim() // what no rule reads need not stay in memory
		}
	}
}

// slimmer is an aggregate that can drop what no rule reads.
type slimmer interface{ Slim() }

// finish ends the check at the end of the log: the versions still missing, and the streams
// whose anchors signed more than the log holds (among those owned says are this checker's).
func (c *checker) finish(owned func(stream string) bool) {
	for stream, st := range c.streams {
		if c.parts != nil {
			c.parts.flush(stream, st)
		}
		for _, r := range st.missing {
			if r.from == r.to {
				c.found(st, KindVersion, stream, r.from, "the event at version %d is missing", r.from)
			} else {
				c.found(st, KindVersion, stream, r.from, "the events at versions %d to %d are missing", r.from, r.to)
			}
		}
	}
	c.anchors.each(func(stream string, exp expectation) {
		if !owned(stream) {
			return
		}
		st := c.streams[stream]
		switch {
		case st == nil:
			c.found(&streamState{}, KindAnchor, stream, -1, "the stream is missing: anchor #%d signed it at version %d", exp.anchor, exp.version)
		case st.next <= exp.version:
			c.found(st, KindAnchor, stream, st.next-1, "the stream ends at version %d but anchor #%d signed version %d: its tail was deleted", st.next-1, exp.anchor, exp.version)
		}
	})
}

// report adds what the checker found and counted to rep.
func (c *checker) report(rep *Report) {
	rep.Streams += int64(len(c.streams))
	for prefix, n := range c.unfolded {
		if prefix == anchor.Stream {
			continue // checked as anchors
		}
		if rep.Unfolded == nil {
			rep.Unfolded = map[string]int64{}
		}
		rep.Unfolded[prefix] += n
	}
	rep.add(c.findings, c.omitted)
}

// prefixOf is a stream's kind as its name tells it: up to its first '-', included.
func prefixOf(stream string) string {
	if i := strings.IndexByte(stream, '-'); i >= 0 {
		if stream == anchor.Stream {
			return stream
		}
		return stream[:i+1]
	}
	return stream
}
