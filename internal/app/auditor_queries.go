package app

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
)

// viewerAuditor returns the auditor who asks, folded from their stream: an auditor's stream is
// a handful of events, and a grant taken back holds from the very next read.
func (qs *Queries) viewerAuditor(ctx context.Context, id uuid.UUID) (*directory.Auditor, error) {
	au, _, err := qs.auditors.load(ctx, qs.store, id)
	return au, err
}

// AuditorProfile is what an auditor sees of themselves, and what the administrator sees of one.
type AuditorProfile struct {
	ID uuid.UUID `json:"id"`
	// Role is always RoleAuditor: it tells an auditor's profile from a technician's.
	Role  Role   `json:"role"`
	Name  string `json:"name"`
	Email string `json:"email"`
	// Companies are the companies granted one by one, in the order they were granted.
	Companies []uuid.UUID `json:"companies"`
	// AllCompanies grants every company, those created later too.
	AllCompanies bool `json:"all_companies"`
}

func auditorProfile(s directory.AuditorState) AuditorProfile {
	companies := s.Companies
	if companies == nil {
		companies = []uuid.UUID{}
	}
	return AuditorProfile{ID: s.ID, Role: RoleAuditor, Name: s.Name, Email: s.Email, Companies: companies, AllCompanies: s.AllCompanies}
}

// AuditorProfile returns an auditor's profile, from their stream; an unknown auditor is
// ErrNotFound.
func (qs *Queries) AuditorProfile(ctx context.Context, id uuid.UUID) (AuditorProfile, error) {
	au, err := qs.viewerAuditor(ctx, id)
	if err != nil {
		return AuditorProfile{}, err
	}
	return auditorProfile(au.State()), nil
}

// Auditors lists every auditor, ordered by name, from the directory read model.
func (qs *Queries) Auditors(ctx context.Context) ([]AuditorProfile, error) {
	if qs.directoryRM == nil {
		return nil, fmt.Errorf("list auditors: %w", ErrNoReadModel)
	}
	states, err := fromReadModel(ctx, qs, func() ([]directory.AuditorState, error) { return qs.directoryRM.Auditors(ctx) })
	if err != nil {
		return nil, err
	}
	out := make([]AuditorProfile, 0, len(states))
	for _, s := range states {
		out = append(out, auditorProfile(s))
	}
	return out, nil
}

// auditorListing is what an auditor's list query lists: the requests of the companies they may
// read (one of them when company is set; every company's when they hold every company), New
// ones included, whoever is available.
func (qs *Queries) auditorListing(ctx context.Context, au *directory.Auditor, company uuid.UUID) ([]uuid.UUID, error) {
	switch {
	case company != uuid.Nil:
		if au.CanRead(company) {
			return []uuid.UUID{company}, nil
		}
		return nil, nil // a company outside theirs lists nothing, as for a technician
	case !au.AllCompanies():
		return au.Companies(), nil
	}
	all, err := qs.Companies(ctx)
	if err != nil {
		return nil, err
	}
	ids := slices.Collect(maps.Keys(all))
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return ids, nil
}

// listParams are the parameters of an auditor's list query as the access log keeps them: no
// search text and no cursor, both of which can hold a customer's name.
func listParams(q ListRequests) map[string]string {
	p := map[string]string{"view": string(q.View), "sort": string(q.Sort), "limit": strconv.Itoa(q.Limit)}
	if q.Descending {
		p["order"] = "desc"
	} else {
		p["order"] = "asc"
	}
	if q.CompanyID != uuid.Nil {
		p["company"] = q.CompanyID.String()
	}
	if q.Assignee != uuid.Nil {
		p["assignee"] = q.Assignee.String()
	}
	if q.Search != "" {
		p["search_characters"] = strconv.Itoa(utf8.RuneCountInString(q.Search))
	}
	if q.Cursor != "" {
		p["page"] = "next"
	}
	return p
}
