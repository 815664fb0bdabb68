package privacy

import (
	"bytes"
	"context"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// personal names the personal fields of each request event type, as JSON paths ("customer.name"
// is field name of object customer). Every other field stays as written.
var personal = map[string][]string{
	(&request.Submitted{}).EventType():   {"customer.name", "customer.email", "source.ip"},
	(&request.MessageSent{}).EventType(): {"body"},
	(&request.NoteAdded{}).EventType():   {"body"},
	(&request.FileShared{}).EventType():  {"name"},
}

// HasPersonalFields reports whether events of type eventType carry sealed fields.
func HasPersonalFields(eventType string) bool { return personal[eventType] != nil }

// requestOf returns the request of a request stream, and false for every other stream.
func requestOf(streamID string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(streamID, request.StreamPrefix)
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}

// fieldAD binds a sealed field to its event and place: a ciphertext moved to another event or
// field does not open.
func fieldAD(eventID uuid.UUID, path string) []byte {
	ad := make([]byte, 0, 16+len(path))
	return append(append(ad, eventID[:]...), path...)
}

// rewrite applies change to every personal field of payload that holds a string and returns
// the new payload; the others are kept. Objects are re-encoded with their keys sorted.
func rewrite(payload []byte, paths []string, change func(path, value string) (string, error)) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return nil, fmt.Errorf("privacy: read the payload: %w", err)
	}
	changed := false
	for _, path := range paths {
		outer, inner, nested := strings.Cut(path, ".")
		if !nested {
			v, ok, err := rewriteString(top[outer], path, change)
			if err != nil {
				return nil, err
			}
			if ok {
				top[outer], changed = v, true
			}
			continue
		}
		raw, ok := top[outer]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("privacy: read %s: %w", outer, err)
		}
		v, ok, err := rewriteString(obj[inner], path, change)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		obj[inner] = v
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("privacy: write %s: %w", outer, err)
		}
		top[outer], changed = b, true
	}
	if !changed {
		return payload, nil
	}
	out, err := json.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("privacy: write the payload: %w", err)
	}
	return out, nil
}

// rewriteString changes one JSON string value; anything else (absent, empty, not a string) is
// left alone.
func rewriteString(raw json.RawMessage, path string, change func(path, value string) (string, error)) (json.RawMessage, bool, error) {
	if len(raw) == 0 || raw[0] != '"' {
		return nil, false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, false, fmt.Errorf("privacy: read %s: %w", path, err)
	}
	if s == "" {
		return nil, false, nil
	}
	next, err := change(path, s)
	if err != nil {
		return nil, false, err
	}
	if next == s {
		return nil, false, nil
	}
	b, err := json.Marshal(next)
	if err != nil {
		return nil, false, fmt.Errorf("privacy: write %s: %w", path, err)
	}
	return b, true, nil
}

// Protector seals the personal fields of request events on their way into the log. The
// application calls it before it hashes the events into their stream's chain.
type Protector struct {
	keys *Keys
}

// NewProtector returns a Protector sealing with keys.
func NewProtector(keys *Keys) *Protector { return &Protector{keys: keys} }

// Protect seals, in place, the personal fields of events about to be appended to streamID.
// A submission binds its request to its customer's key (created on first use); later events of
// the request use that key. A request submitted before encryption was configured has no key:
// its events are left as they are.
func (p *Protector) Protect(ctx context.Context, streamID string, events []eventlog.EventData) error {
	requestID, ok := requestOf(streamID)
	if !ok {
		return nil
	}
	for i := range events {
		e := &events[i]
		paths := personal[e.Type]
		if paths == nil {
			continue
		}
		var keyID uuid.UUID
		var a cipher.AEAD
		if e.Type == (&request.Submitted{}).EventType() {
			var s request.Submitted
			if err := json.Unmarshal(e.Data, &s); err != nil {
				return fmt.Errorf("privacy: read the submission: %w", err)
			}
			id, key, err := p.keys.customerKey(ctx, s.Customer.Email)
			if err != nil {
				return err
			}
			if err := p.keys.bindRequest(ctx, requestID, id); err != nil {
				return err
			}
			keyID, a = id, key
		} else {
			id, bound, err := p.keys.requestKey(ctx, requestID)
			if err != nil {
				return err
			}
			if !bound {
				continue
			}
			if a, err = p.keys.key(ctx, id); err != nil {
				return err
			}
			keyID = id
		}
		if a == nil {
			// The customer was erased while the request was still open: nothing personal is
			// written any more.
			data, err := rewrite(e.Data, paths, func(string, string) (string, error) { return Erased, nil })
			if err != nil {
				return err
			}
			e.Data = data
			continue
		}
		data, err := rewrite(e.Data, paths, func(path, value string) (string, error) {
			sealed, err := seal(a, []byte(value), fieldAD(e.ID, path))
			if err != nil {
				return "", err
			}
			return Envelope{KeyID: keyID, Sealed: sealed}.String(), nil
		})
		if err != nil {
			return err
		}
		e.Data = data
	}
	return nil
}

// Open returns e with its personal fields opened (Erased where the key is destroyed) and the
// stored payload kept in StoredData for chain checks; other events are returned as they are.
func (k *Keys) Open(ctx context.Context, e eventlog.RecordedEvent) (eventlog.RecordedEvent, error) {
	paths := personal[e.Type]
	if paths == nil || !bytes.Contains(e.Data, []byte(envelopePrefix)) {
		return e, nil
	}
	data, err := rewrite(e.Data, paths, func(path, value string) (string, error) {
		// Only a field sealed here for this event and path opens. Anything else that looks
		// like one (text a customer typed into a request submitted before encryption, naming
		// an unknown key or holding a ciphertext of another event) is shown as written: a
		// reader that failed on it would stall every projector on one message. A changed
		// ciphertext reads as written too; `audit verify` is what finds it, by the chain.
		env, err := ParseEnvelope(value)
		if err != nil {
			return value, nil
		}
		a, err := k.key(ctx, env.KeyID)
		if errors.Is(err, errNoKey) {
			return value, nil
		}
		if err != nil {
			return "", fmt.Errorf("privacy: open %s version %d, %s: %w", e.StreamID, e.Version, path, err)
		}
		if a == nil {
			return Erased, nil
		}
		plain, err := open(a, env.Sealed, fieldAD(e.ID, path))
		if err != nil {
			return value, nil
		}
		return string(plain), nil
	})
	if err != nil {
		return e, err
	}
	e.StoredData, e.Data = e.Data, data
	return e, nil
}
