// Package erasure records that a customer's personal data was erased (issue 17): the data key
// that sealed their fields is destroyed outside the log, and this event, on a stream of its
// own, says when, why, by whom (its metadata's actor) and which requests it covered. It names
// the key, never the person.
package erasure

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/text"
)

// CustomerErased: a customer's key was destroyed and their files deleted. Appended by the
// erase-customer command (CLI or admin API), as the only event of stream "erasure-<id>".
type CustomerErased struct {
	ErasureID uuid.UUID `json:"erasure_id"`
	// KeyID is the destroyed key: the key ID every sealed field of the customer's events names.
	KeyID uuid.UUID `json:"key_id"`
	// Reason is why, as the administrator gave it.
	Reason string `json:"reason"`
	// Requests are the customer's requests, whose personal fields now read as erased.
	Requests []uuid.UUID `json:"requests"`
	// FilesDeleted counts the shared files deleted with them.
	FilesDeleted int `json:"files_deleted"`
}

func (*CustomerErased) EventType() string { return "customer.erased.v1" }

// Codec reads and writes erasure events.
func Codec() *eventlog.Codec {
	return eventlog.NewCodec(func() eventlog.Event { return &CustomerErased{} })
}

// StreamPrefix starts every erasure stream's name.
const StreamPrefix = "erasure-"

// Stream is the stream of one erasure.
func Stream(id uuid.UUID) string { return StreamPrefix + id.String() }

// MaxReasonLength bounds Reason, in bytes.
const MaxReasonLength = 1000

// Errors of New and Admit.
var (
	ErrNoReason        = errors.New("an erasure needs a reason")
	ErrReasonTooLong   = fmt.Errorf("an erasure's reason is at most %d bytes", MaxReasonLength)
	ErrImpossibleEvent = errors.New("impossible erasure event")
	ErrInvalidReason   = errors.New("an erasure's reason must be one line of printable text")
	// ErrUnknownCustomer: no customer with that e-mail address has a live key (never seen
	// since encryption was configured, or erased already).
	ErrUnknownCustomer = errors.New("no customer with that e-mail address has personal data here")
	// ErrNotEncrypted: no master key is configured, so nothing is sealed and nothing can be
	// erased by destroying a key.
	ErrNotEncrypted = errors.New("personal data is not encrypted here (no master key configured): nothing can be erased")
)

// CheckReason says whether reason may explain an erasure: one line of text, not empty, at most
// MaxReasonLength bytes.
func CheckReason(reason string) error {
	switch {
	case strings.TrimSpace(reason) == "":
		return ErrNoReason
	case len(reason) > MaxReasonLength:
		return ErrReasonTooLong
	}
	return text.Bounded(reason, MaxReasonLength, text.Line, ErrInvalidReason)
}

// New returns the event of an erasure, checked.
func New(id, keyID uuid.UUID, reason string, requests []uuid.UUID, files int) (*CustomerErased, error) {
	if err := CheckReason(reason); err != nil {
		return nil, err
	}
	switch {
	case id == uuid.Nil || keyID == uuid.Nil:
		return nil, errors.New("an erasure needs its ID and the key's")
	}
	if requests == nil {
		requests = []uuid.UUID{}
	}
	return &CustomerErased{ErasureID: id, KeyID: keyID, Reason: reason, Requests: requests, FilesDeleted: files}, nil
}

// Erasure folds an erasure stream: one CustomerErased, nothing after it.
type Erasure struct {
	ID   uuid.UUID
	done bool
}

// Admit folds e if it can follow the stream's history, as an audit checks it.
func (x *Erasure) Admit(e eventlog.Event) error {
	erased, ok := e.(*CustomerErased)
	switch {
	case !ok:
		return fmt.Errorf("%w: %s in an erasure stream", ErrImpossibleEvent, e.EventType())
	case x.done:
		return fmt.Errorf("%w: a second %s", ErrImpossibleEvent, e.EventType())
	case erased.ErasureID == uuid.Nil:
		return fmt.Errorf("%w: no erasure ID", ErrImpossibleEvent)
	}
	x.ID, x.done = erased.ErasureID, true
	return nil
}

// SealedPrefix starts a personal field as the log holds it: "enc:v1:<key-id>:<base64>", sealed
// with its customer's data key (internal/privacy).
const SealedPrefix = "enc:v1:"

// Marker is what a personal field reads as once its customer's key is destroyed.
const Marker = "[erased]"

// Withheld reports whether a personal field's value is not the person's data as given: still
// sealed (an audit reads the log without keys) or erased. Folds that check what a person
// typed (a message's length, a file name's type) accept such a value as it is.
func Withheld(s string) bool { return s == Marker || strings.HasPrefix(s, SealedPrefix) }
