package projections

import (
	"github.com/helpstream/helpstream/domain/text"
)

// Text returns s as a PostgreSQL text column can hold it (text.Storable). Every string a read
// model writes goes through it, so that no event already in the log (an older log, an import
// from another store, a future bug) can make a projector fail on the text it carries.
func Text(s string) string { return text.Storable(s) }

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
