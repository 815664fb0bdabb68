// Package text is the one rule for text that enters an event: valid UTF-8, no NUL, and no
// other control character where a person's text cannot hold one. The domain checks every name,
// message and source field with it, and the HTTP layer checks the headers that become metadata
// with it, so that nothing the log holds can be refused later by a read model (PostgreSQL text
// columns refuse NUL and invalid UTF-8) or altered after it was hashed into a stream's chain.
package text

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sentinel errors a *Error unwraps to.
var (
	// ErrInvalidUTF8 is text holding bytes that are not UTF-8.
	ErrInvalidUTF8 = errors.New("not valid UTF-8")
	// ErrNUL is text holding U+0000, which PostgreSQL cannot store in a text column.
	ErrNUL = errors.New("a NUL character")
	// ErrControl is text holding a control character (C0 other than those the rule allows,
	// DEL, or C1), which no person types and which terminals and logs interpret.
	ErrControl = errors.New("a control character")
)

// Error says what is wrong with a text and where: At is the 1-based character (rune) position
// of the first offending character, or of the first byte that is not UTF-8.
type Error struct {
	Err  error
	At   int
	Rune rune // the offending character; utf8.RuneError for invalid bytes
}

func (e *Error) Error() string {
	switch {
	case errors.Is(e.Err, ErrInvalidUTF8):
		return fmt.Sprintf("holds bytes that are not valid UTF-8 at character %d", e.At)
	default:
		return fmt.Sprintf("holds %s (U+%04X) at character %d; send text without control characters", e.Err, e.Rune, e.At)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Line checks a one-line text: a name, an e-mail address, a file name, a source field. It
// allows no control character at all.
func Line(s string) error { return check(s, false) }

// Multiline checks a text a person writes in a box: a description, a chat message, a note. It
// allows tab, line feed and carriage return, and no other control character.
func Multiline(s string) error { return check(s, true) }

// Bounded checks a text a person must give, 1 to max characters long, against rule (Line or
// Multiline). It returns invalid, the caller's error naming the field, wrapping rule's *Error
// when the rule is what failed, so that the answer can say which character is wrong and where.
// The rule is checked first: the length of text that is not UTF-8 means nothing.
func Bounded(s string, max int, rule func(string) error, invalid error) error {
	if err := rule(s); err != nil {
		return fmt.Errorf("%w: %w", invalid, err)
	}
	if s == "" || utf8.RuneCountInString(s) > max {
		return invalid
	}
	return nil
}

// Header checks a header value that becomes metadata (Idempotency-Key, X-Correlation-ID):
// printable ASCII only, space included, so that it is stored and hashed exactly as sent.
func Header(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return &Error{Err: ErrInvalidUTF8, At: i + 1, Rune: utf8.RuneError}
		case c == 0:
			return &Error{Err: ErrNUL, At: i + 1, Rune: 0}
		case c < 0x20 || c == 0x7f:
			return &Error{Err: ErrControl, At: i + 1, Rune: rune(c)}
		}
	}
	return nil
}

func check(s string, multiline bool) error {
	at := 0
	for i := 0; i < len(s); {
		at++
		c := s[i]
		if c >= 0x20 && c < 0x7f { // printable ASCII, the common case: no decoding
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return &Error{Err: ErrInvalidUTF8, At: at, Rune: utf8.RuneError}
		}
		if err := checkRune(r, multiline); err != nil {
			return &Error{Err: err, At: at, Rune: r}
		}
		i += size
	}
	return nil
}

func checkRune(r rune, multiline bool) error {
	switch {
	case r == 0:
		return ErrNUL
	case r == '\t' || r == '\n' || r == '\r':
		if multiline {
			return nil
		}
		return ErrControl
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return ErrControl
	}
	return nil
}

// Storable returns s as a PostgreSQL text column can hold it. Every string a read model or a process manager writes from an
// event goes through it, so that no event already in the log (an older log, an import from another store,
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
func Storable(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return storable(s)
}

// nulSymbol is what Storable writes for a NUL character.
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
