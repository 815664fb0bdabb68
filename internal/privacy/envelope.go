// Package privacy keeps customers' personal data erasable in an append-only log (issue 17):
// the personal fields of request events are sealed with a per-customer data key before the
// events are hashed into their stream's chain, the keys live in PostgreSQL outside the log,
// wrapped by a master key, and erasing a customer destroys the key. Readers see the log through
// Reader, which opens the fields again, or shows Erased where the key is gone; the hash chain
// covers the ciphertext, so an audit never needs a key.
package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/erasure"
)

// Erased is what a personal field reads as once its customer's key is destroyed.
const Erased = erasure.Marker

// envelopePrefix starts every sealed field: "enc:v1:<key-id>:<base64 of nonce and ciphertext>".
const envelopePrefix = erasure.SealedPrefix

// KeySize is the size of data and master keys: AES-256.
const KeySize = 32

// ErrNotEnvelope is returned by ParseEnvelope for a string that is not a sealed field.
var ErrNotEnvelope = errors.New("not a sealed field")

// Envelope is one sealed field as it appears in an event's JSON.
type Envelope struct {
	KeyID  uuid.UUID
	Sealed []byte // nonce, then AES-256-GCM ciphertext and tag
}

// IsEnvelope reports whether s looks like a sealed field (without checking it further).
func IsEnvelope(s string) bool { return strings.HasPrefix(s, envelopePrefix) }

// ParseEnvelope reads a sealed field written by Envelope.String.
func ParseEnvelope(s string) (Envelope, error) {
	rest, ok := strings.CutPrefix(s, envelopePrefix)
	if !ok {
		return Envelope{}, ErrNotEnvelope
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok {
		return Envelope{}, fmt.Errorf("%w: no key id", ErrNotEnvelope)
	}
	keyID, err := uuid.Parse(id)
	if err != nil || id != keyID.String() { // only the canonical form the writer gives
		return Envelope{}, fmt.Errorf("%w: bad key id", ErrNotEnvelope)
	}
	// encoding/base64 skips CR and LF even when strict; one sealed field has one spelling.
	if strings.ContainsAny(body, "\r\n") {
		return Envelope{}, fmt.Errorf("%w: line breaks in the base64", ErrNotEnvelope)
	}
	sealed, err := base64.RawStdEncoding.Strict().DecodeString(body)
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: bad base64", ErrNotEnvelope)
	}
	if len(sealed) < nonceSize+tagSize {
		return Envelope{}, fmt.Errorf("%w: too short", ErrNotEnvelope)
	}
	return Envelope{KeyID: keyID, Sealed: sealed}, nil
}

// String renders the envelope as it is stored.
func (e Envelope) String() string {
	return envelopePrefix + e.KeyID.String() + ":" + base64.RawStdEncoding.EncodeToString(e.Sealed)
}

const (
	nonceSize = 12
	tagSize   = 16
)

// aead is AES-256-GCM under key.
func aead(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	return cipher.NewGCM(block)
}

// seal encrypts plain under a with a random nonce; ad binds it to its context.
func seal(a cipher.AEAD, plain, ad []byte) ([]byte, error) {
	out := make([]byte, nonceSize, nonceSize+len(plain)+tagSize)
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("privacy: nonce: %w", err)
	}
	return a.Seal(out, out, plain, ad), nil
}

// ErrTampered is returned when a sealed value does not open under its key: it was changed,
// or sealed under another key.
var ErrTampered = errors.New("privacy: a sealed value does not open under its key")

// open decrypts what seal wrote.
func open(a cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < nonceSize+tagSize {
		return nil, ErrTampered
	}
	plain, err := a.Open(nil, sealed[:nonceSize], sealed[nonceSize:], ad)
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}

// MasterKey wraps the data keys and keys the e-mail MACs.
type MasterKey struct {
	key []byte
}

// ErrBadMasterKey is returned by ParseMasterKey for text that is not base64 of 32 bytes.
var ErrBadMasterKey = errors.New("privacy: the master key must be base64 of 32 bytes")

// ParseMasterKey reads a master key: standard base64 (padded or not) of 32 bytes, with
// surrounding white space ignored.
func ParseMasterKey(text string) (MasterKey, error) {
	text = strings.TrimSpace(text)
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(text)
	}
	if err != nil || len(b) != KeySize {
		return MasterKey{}, ErrBadMasterKey
	}
	return MasterKey{key: b}, nil
}

// NewMasterKeyText returns a fresh random master key in the form ParseMasterKey reads.
func NewMasterKeyText() (string, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("privacy: new master key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
