// Package collation makes the sort keys of names: byte strings that, compared byte by byte
// (PostgreSQL's "C" collation, strings.Compare), order names as people expect them ordered
// (the Unicode collation algorithm with the CLDR root order, ignoring case), not by code point.
//
// The request list stores these keys in its *_key columns and the application compares them
// in memory: one function makes both, so the database and every in-memory catalog order rows
// identically, whatever ICU version the database server links.
package collation

import (
	"encoding/hex"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// MaxKeyBytes bounds the collation key (before hex encoding): long names that share their
// first characters tie, and the caller's tie-breaker (the request ID) orders them. It keeps
// the key within a btree index entry and a page cursor (app.ParseListCursor caps it).
const MaxKeyBytes = 160

// collators are reused: a collate.Collator is not safe for concurrent use.
var collators = sync.Pool{New: func() any {
	return collate.New(language.Und, collate.IgnoreCase)
}}

// Key returns name's sort key: lower-case hexadecimal, so that it is valid text in any
// column and any cursor, and compares byte by byte as the collation orders the names. The
// empty name's key is "", which sorts first.
func Key(name string) string {
	if name == "" {
		return ""
	}
	c := collators.Get().(*collate.Collator)
	defer collators.Put(c)
	var buf collate.Buffer
	k := c.KeyFromString(&buf, name)
	if len(k) > MaxKeyBytes {
		k = k[:MaxKeyBytes]
	}
	return hex.EncodeToString(k)
}
