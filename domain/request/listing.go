package request

import (
	"slices"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
)

// Listing is what a technician's Support Requests panel may show (R2), as a filter a query can
// apply without loading any request: the requests of Companies, and among them the unassigned
// (New) ones only when IncludeNew.
type Listing struct {
	// Companies are the companies whose requests are listed; empty lists nothing.
	Companies []uuid.UUID
	// IncludeNew lists unassigned requests, which only an Available technician sees.
	IncludeNew bool
}

// ListingFor returns what technician t's panel lists: the requests of the companies t has
// access to (only company's when company is not uuid.Nil), unassigned ones only while t is
// Available. A company t has no access to, like a nil t, lists nothing.
func ListingFor(t *directory.Technician, company uuid.UUID) Listing {
	if t == nil {
		return Listing{}
	}
	l := Listing{IncludeNew: t.IsAvailable()}
	switch {
	case company == uuid.Nil:
		l.Companies = t.Companies()
	case t.HasAccess(company):
		l.Companies = []uuid.UUID{company}
	}
	return l
}

// Lists reports whether the listing shows request r: the rule a query applies in its own
// language (SQL), here on one request.
func (l Listing) Lists(r *Request) bool {
	return slices.Contains(l.Companies, r.CompanyID()) && (r.Status() != StatusNew || l.IncludeNew)
}
