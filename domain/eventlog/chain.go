package eventlog

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"time"
)

// The hash chain makes a stream tamper-evident: each event's Hash covers its own identity,
// payload and metadata and the Hash of the event before it, so changing, dropping or reordering
// any stored event breaks every hash after it. An auditor can verify a stream offline from an
// export, without trusting the store.

// Seal sets PreviousHash and Hash on events that will follow an event whose hash is previous
// ("" for a new stream) and whose version is previousVersion (-1 for a new stream).
func Seal(streamID string, previousVersion int64, previous string, events []EventData) {
	for i := range events {
		events[i].Metadata.PreviousHash = previous
		events[i].Metadata.Hash = hashOf(streamID, previousVersion+1+int64(i), events[i])
		previous = events[i].Metadata.Hash
	}
}

// ErrChainBroken is returned by VerifyChain for a stream whose hashes do not hold.
var ErrChainBroken = errors.New("hash chain broken")

// VerifyChain checks the hash chain of a whole stream read from version 0, in order.
func VerifyChain(events []RecordedEvent) error {
	previous := ""
	var hasher ChainHasher
	for i := range events {
		e := &events[i]
		if e.Version != int64(i) {
			return fmt.Errorf("%w: event %d of %s has version %d", ErrChainBroken, i, e.StreamID, e.Version)
		}
		if e.Metadata.PreviousHash != previous {
			return fmt.Errorf("%w: %s version %d does not follow the hash before it", ErrChainBroken, e.StreamID, e.Version)
		}
		if !hasher.Sealed(e) {
			return fmt.Errorf("%w: %s version %d was changed after it was written", ErrChainBroken, e.StreamID, e.Version)
		}
		previous = e.Metadata.Hash
	}
	return nil
}

func hashOf(streamID string, version int64, e EventData) string {
	var c ChainHasher
	return hex.EncodeToString(c.sum(streamID, version, e.ID, e.Type, e.Data, &e.Metadata))
}

// ChainHasher recomputes events' hashes one at a time, as a reader of the global log meets
// them, reusing its buffers: verifying a log of millions of events allocates nothing per event.
// The zero value is ready; one goroutine uses it at a time.
type ChainHasher struct {
	h   hash.Hash
	buf []byte
	hex [2 * sha256.Size]byte
}

// Sealed reports whether e's Hash is the one its stream, version, identity, payload, metadata
// and PreviousHash give: false when anything the hash covers changed after the event was
// sealed. Whether PreviousHash is the hash of the event before it is the caller's to check.
func (c *ChainHasher) Sealed(e *RecordedEvent) bool {
	data := e.Data
	if e.StoredData != nil {
		data = e.StoredData
	}
	sum := c.sum(e.StreamID, e.Version, e.ID, e.Type, data, &e.Metadata)
	hex.Encode(c.hex[:], sum)
	return string(c.hex[:]) == e.Metadata.Hash
}

// sum writes every covered field, each prefixed with its length, and returns the SHA-256.
func (c *ChainHasher) sum(streamID string, version int64, id [16]byte, eventType string, data []byte, m *Metadata) []byte {
	if c.h == nil {
		c.h = sha256.New()
	}
	c.h.Reset()
	b := c.buf[:0]
	field := func(p []byte) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
		b = append(b, p...)
	}
	text := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(version))
	text(streamID)
	field(v[:])
	field(id[:])
	text(eventType)
	field(data)
	text(m.Actor)
	// The time's length is only known once formatted: reserve its prefix, then fill it in.
	at := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = m.OccurredAt.UTC().AppendFormat(b, time.RFC3339Nano)
	binary.BigEndian.PutUint64(b[at:], uint64(len(b)-at-8))
	text(m.CorrelationID)
	text(m.CausationID)
	text(m.PreviousHash)
	if d := m.Decision; d != nil {
		// Appended only when present: every event sealed before decisions existed keeps its hash.
		text("decision")
		text(d.By)
		text(d.Rule)
		text(d.Reason)
	}
	c.h.Write(b)
	c.buf = b
	return c.h.Sum(b[len(b):len(b)])
}
