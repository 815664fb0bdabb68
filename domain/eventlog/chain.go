package eventlog

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
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
	for i, e := range events {
		if e.Version != int64(i) {
			return fmt.Errorf("%w: event %d of %s has version %d", ErrChainBroken, i, e.StreamID, e.Version)
		}
		if e.Metadata.PreviousHash != previous {
			return fmt.Errorf("%w: %s version %d does not follow the hash before it", ErrChainBroken, e.StreamID, e.Version)
		}
		data := EventData{ID: e.ID, Type: e.Type, Data: e.Data, Metadata: e.Metadata}
		if want := hashOf(e.StreamID, e.Version, data); e.Metadata.Hash != want {
			return fmt.Errorf("%w: %s version %d was changed after it was written", ErrChainBroken, e.StreamID, e.Version)
		}
		previous = e.Metadata.Hash
	}
	return nil
}

func hashOf(streamID string, version int64, e EventData) string {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(version))
	field([]byte(streamID))
	field(v[:])
	field(e.ID[:])
	field([]byte(e.Type))
	field(e.Data)
	field([]byte(e.Metadata.Actor))
	field([]byte(e.Metadata.OccurredAt.UTC().Format(time.RFC3339Nano)))
	field([]byte(e.Metadata.CorrelationID))
	field([]byte(e.Metadata.CausationID))
	field([]byte(e.Metadata.PreviousHash))
	return hex.EncodeToString(h.Sum(nil))
}
