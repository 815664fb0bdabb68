// Package anchor signs the event log's head at intervals, so that what a per-stream hash chain
// cannot see becomes visible: a stream's deleted tail, a deleted stream, a stream rewritten and
// sealed again from some version on.
//
// An anchor is an event of the log itself, in the stream Stream, so that it works on every
// store behind the port and travels with backups. Anchor N records the log's head at a
// position: how many events the log holds up to there, and, for every stream that changed since
// anchor N-1, its last version and that event's hash. Its head hash covers all that and the
// previous anchor's head, so the head of anchor N commits to every stream's last (version, hash)
// as of its position and to every anchor before it: the signature of the last anchor vouches for
// them all. Anchor N needs nothing but anchor N-1 and the log after it: an anchorer resumes
// after a restart without reading the log again. The server signs each anchor with an Ed25519
// key (the private key never enters the log); an auditor who keeps the public key checks the
// anchors and the log against them, offline if need be.
//
// The stored payload is {"signed": {…}, "signature": "…", "streams": […]}: the signed part is
// small and comes first, so that a verifier that recomputes the streams' heads from the log
// itself reads it without parsing the list (DecodeSigned), and parses the list (Decode) only for
// an anchor the log disagrees with, to name the streams.
//
// The anchor stream is not covered by anchors: its own hash chain and the anchors' numbering
// and head chain protect it; a deleted tail of it shows as a log that goes on long after its
// last anchor.
package anchor

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Stream is the stream that holds the anchors, numbered by their version in it.
const Stream = "audit-anchors"

// EventType is the type of an anchor event.
const EventType = "audit.anchor.v1"

// format names the version of the signed part's layout, inside the signed bytes.
const format = "helpstream-anchor/1"

// StreamHead is a stream's last event as of an anchor: its version and its hash.
type StreamHead struct {
	Stream  string `json:"stream"`
	Version int64  `json:"version"`
	Hash    string `json:"hash"`
}

// Anchor is one signed record of the log's head.
type Anchor struct {
	// Number is the anchor's version in Stream: anchors are numbered 0, 1, 2…
	Number int64
	// Position is the last event the anchor covers; Events how many events the log holds up
	// to it, the anchor stream's not counted.
	Position eventlog.Position
	Events   int64
	// Streams are the streams that changed since the previous anchor (every stream for the
	// first), sorted by ID, each with its last version and hash as of Position; nil when the
	// anchor was read with DecodeSigned.
	Streams []StreamHead
	// PreviousHead is the previous anchor's Head ("" for the first); Head is
	// HeadOver(Streams).
	PreviousHead string
	Head         string
	// Key is the fingerprint of the public key that verifies the signature.
	Key string
	// SignedAt is when the anchor was made; Interval how often its anchorer anchors, so that a
	// verifier knows when anchors should have followed it.
	SignedAt time.Time
	Interval time.Duration

	// signed is the exact stored bytes the signature covers, signature the signature.
	signed    []byte
	signature []byte
}

// signedPart is the JSON layout of the signed bytes.
type signedPart struct {
	Format       string            `json:"format"`
	Number       int64             `json:"number"`
	Position     eventlog.Position `json:"position"`
	Events       int64             `json:"events"`
	SignedAt     time.Time         `json:"signed_at"`
	Interval     string            `json:"interval"`
	Key          string            `json:"key"`
	PreviousHead string            `json:"previous_head"`
	Head         string            `json:"head"`
}

// envelope is the anchor event's payload: the signed part, as the exact bytes signed, the
// signature (standard base64), and the stream heads the signed head covers. The order of the
// fields is the order they are written in, and DecodeSigned relies on it.
type envelope struct {
	Signed    json.RawMessage `json:"signed"`
	Signature string          `json:"signature"`
	Streams   []StreamHead    `json:"streams"`
}

// HeadOver is the head hash anchor a has over the stream heads given: the SHA-256, in hex, of
// a's previous head, number, position, event count, time, interval and key, then each stream
// head, every field prefixed by its length. An anchor's Head is HeadOver(its Streams); a
// verifier that gathers the streams' heads from the log itself compares HeadOver(those) with
// Head.
func (a Anchor) HeadOver(streams []StreamHead) string {
	h := sha256.New()
	var b []byte
	text := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	number := func(n int64) { b = binary.BigEndian.AppendUint64(b, uint64(n)) }
	text(format)
	text(a.PreviousHead)
	number(a.Number)
	text(a.Position.String())
	number(a.Events)
	text(a.SignedAt.UTC().Format(time.RFC3339Nano))
	number(int64(a.Interval))
	text(a.Key)
	for _, s := range streams {
		text(s.Stream)
		number(s.Version)
		text(s.Hash)
		if len(b) > 32<<10 {
			h.Write(b)
			b = b[:0]
		}
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// sign builds the anchor event's payload: a's signed part, signed with key, and its streams.
func sign(a *Anchor, key ed25519.PrivateKey) (json.RawMessage, error) {
	signed, err := json.Marshal(signedPart{
		Format: format, Number: a.Number, Position: a.Position, Events: a.Events,
		SignedAt: a.SignedAt.UTC(), Interval: a.Interval.String(), Key: a.Key,
		PreviousHead: a.PreviousHead, Head: a.Head,
	})
	if err != nil {
		return nil, fmt.Errorf("encode anchor %d: %w", a.Number, err)
	}
	a.signed = signed
	a.signature = ed25519.Sign(key, signed)
	streams := a.Streams
	if streams == nil {
		streams = []StreamHead{}
	}
	data, err := json.Marshal(envelope{Signed: signed, Signature: base64.StdEncoding.EncodeToString(a.signature), Streams: streams})
	if err != nil {
		return nil, fmt.Errorf("encode anchor %d: %w", a.Number, err)
	}
	return data, nil
}

// ErrMalformed is returned by Decode and DecodeSigned for an event that is not a readable
// anchor.
var ErrMalformed = errors.New("not a readable anchor")

// Decode reads an anchor from its event, its streams included, without checking its signature
// (Verify does). The event must be of Stream and EventType, and its number its version.
func Decode(e eventlog.RecordedEvent) (Anchor, error) {
	return decode(e.StreamID, e.Version, e.Type, e.Data, true)
}

// DecodeSigned reads an anchor as Decode does but leaves its streams out (Streams is nil), and
// reads no more of the payload than the signed part and the signature: what a verifier needs
// that gathers the streams' heads from the log itself (see HeadOver).
func DecodeSigned(e eventlog.RecordedEvent) (Anchor, error) {
	return decode(e.StreamID, e.Version, e.Type, e.Data, false)
}

func decode(streamID string, version int64, eventType string, data []byte, withStreams bool) (Anchor, error) {
	fail := func(why string, args ...any) (Anchor, error) {
		return Anchor{}, fmt.Errorf("%w: anchor #%d: %s", ErrMalformed, version, fmt.Sprintf(why, args...))
	}
	if streamID != Stream || eventType != EventType {
		return fail("an event %s of stream %s", eventType, streamID)
	}
	env, err := readEnvelope(data, withStreams)
	if err != nil {
		return fail("%v", err)
	}
	signature, err := base64.StdEncoding.DecodeString(env.Signature)
	if err != nil {
		return fail("signature: %v", err)
	}
	var p signedPart
	if err := json.Unmarshal(env.Signed, &p); err != nil {
		return fail("signed part: %v", err)
	}
	if p.Format != format {
		return fail("format %q, not %q", p.Format, format)
	}
	if p.Number != version {
		return fail("it says it is anchor #%d", p.Number)
	}
	interval, err := time.ParseDuration(p.Interval)
	if err != nil || interval <= 0 {
		return fail("interval %q", p.Interval)
	}
	if p.Events < 0 {
		return fail("%d events", p.Events)
	}
	if withStreams {
		if env.Streams == nil {
			return fail("no streams")
		}
		for i, s := range env.Streams {
			if i > 0 && strings.Compare(env.Streams[i-1].Stream, s.Stream) >= 0 {
				return fail("its streams are not sorted by ID without repeats at %q", s.Stream)
			}
			if s.Stream == "" || s.Version < 0 {
				return fail("stream %q at version %d", s.Stream, s.Version)
			}
		}
	}
	return Anchor{
		Number: p.Number, Position: p.Position, Events: p.Events, Streams: env.Streams,
		PreviousHead: p.PreviousHead, Head: p.Head, Key: p.Key, SignedAt: p.SignedAt, Interval: interval,
		signed: bytes.Clone(env.Signed), signature: signature,
	}, nil
}

// readEnvelope reads the payload's fields one by one; without the streams, it stops once it has
// the signed part and the signature, before the list.
func readEnvelope(data []byte, withStreams bool) (envelope, error) {
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return env, fmt.Errorf("the payload is not a JSON object")
	}
	var signed, signature bool
	for dec.More() {
		if !withStreams && signed && signature {
			return env, nil
		}
		tok, err := dec.Token()
		if err != nil {
			return env, err
		}
		var into any
		switch tok {
		case "signed":
			into, signed = &env.Signed, true
		case "signature":
			into, signature = &env.Signature, true
		case "streams":
			if !withStreams {
				into = new(json.RawMessage)
				break
			}
			into = &env.Streams
		default:
			into = new(json.RawMessage)
		}
		if err := dec.Decode(into); err != nil {
			return env, fmt.Errorf("%v: %w", tok, err)
		}
	}
	if !signed || !signature {
		return env, fmt.Errorf("the signed part or the signature is missing")
	}
	if _, err := dec.Token(); err != nil {
		return env, err
	}
	return env, nil
}

// Errors of Verify.
var (
	// ErrOtherKey: the anchor names another key than the one given.
	ErrOtherKey = errors.New("signed by another key")
	// ErrBadSignature: the signature does not verify with the key: the anchor was forged or
	// changed.
	ErrBadSignature = errors.New("the signature does not verify")
	// ErrBadHead: the head hash is not the one its fields and streams give.
	ErrBadHead = errors.New("its head hash is not the one its fields and streams give")
)

// VerifySignature checks that pub signed the anchor as stored. The error says what failed, in
// words for an auditor.
func (a Anchor) VerifySignature(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("verify anchor #%d: %w", a.Number, ErrNotEd25519Key)
	}
	if want := Fingerprint(pub); a.Key != want {
		return fmt.Errorf("anchor #%d was %w (%s), not by the key given (%s)", a.Number, ErrOtherKey, a.Key, want)
	}
	if !ed25519.Verify(pub, a.signed, a.signature) {
		return fmt.Errorf("anchor #%d: %w with the key given: it was forged or changed", a.Number, ErrBadSignature)
	}
	return nil
}

// Verify checks an anchor read with Decode on its own: its signature (VerifySignature), and its
// head against its fields and streams.
func (a Anchor) Verify(pub ed25519.PublicKey) error {
	if err := a.VerifySignature(pub); err != nil {
		return err
	}
	if a.HeadOver(a.Streams) != a.Head {
		return fmt.Errorf("anchor #%d: %w", a.Number, ErrBadHead)
	}
	return nil
}
