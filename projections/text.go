package projections

import (
	"strings"
	"unicode/utf8"
)

// Text returns s as a PostgreSQL text column can hold it. Every string a read model writes goes
// through it, so that no event already in the log (an older log, an import from another store,
// a future bug) can make a projector fail on the text it carries.
//
// PostgreSQL refuses two things a Go string may hold: the NUL character and bytes that are not
// UTF-8. Text replaces them with what shows, to a person reading the value, what was there:
//
//   - NUL (U+0000) becomes U+2400 SYMBOL FOR NULL (␀).
//   - Each byte that is not part of valid UTF-8 becomes the four characters \xNN, NN its value
//     in upper-case hexadecimal. U+FFFD would say only that something was wrong; \xNN keeps
//     which bytes they were, so an operator comparing the read model with the log sees the
//     same bytes (event payloads reach Text already decoded by encoding/json, which turns
//     invalid bytes inside JSON strings into U+FFFD itself, so \xNN shows up for what came
//     from elsewhere: stream IDs, types, error texts, a store that hands out raw bytes).
//
// The form is lossless for display, not reversible: a text that held "␀" or a literal "\xFF"
// reads the same afterwards. Valid UTF-8 without NUL is returned unchanged, without allocating.
func Text(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return storable(s)
}

// nulSymbol is what Text writes for a NUL character.
const nulSymbol = "\u2400"

const hexDigits = "0123456789ABCDEF"

func storable(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0:
			b.WriteString(nulSymbol)
			i++
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(`\x`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
		}
	}
	return b.String()
}

// TextPtr is Text of *s, for a nullable column; nil stays nil.
func TextPtr(s *string) *string {
	if s == nil {
		return nil
	}
	t := Text(*s)
	if t == *s {
		return s
	}
	return &t
}
