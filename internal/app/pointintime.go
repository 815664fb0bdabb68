package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// Point-in-time views are the auditors': any list, any technician's panel or queue and any
// request as they were at a moment T, folded from the log up to the position at T
// (internal/asof). The auditor's rights are today's (which companies they may read); what they
// see is the past's (the requests, the technicians' access and availability, then).

// PastReadModels answer the read-model ports as the log stood at a moment. internal/asof's
// Snapshot implements them.
type PastReadModels interface {
	RequestListReadModel
	RequestDetailsReadModel
	DirectoryReadModel
	// Position is the last event of the log they hold.
	Position() eventlog.Position
}

// ErrNoPointInTime is returned for a point-in-time query of an App configured without
// Config.PointInTime.
var ErrNoPointInTime = errors.New("point-in-time views are not configured")

// ErrAuditorsOnly is returned when someone else than an auditor asks for a view of the past.
var ErrAuditorsOnly = errors.New("views as of a moment are for auditors")

// ErrNotYet is returned for a moment still to come: the past is all there is to view.
var ErrNotYet = errors.New("as_of is in the future")

// PastPage is a page of a list as it was at a moment.
type PastPage struct {
	RequestPage
	// AsOf is the moment asked for; Position the last event of the log the page folds.
	AsOf     time.Time         `json:"as_of"`
	Position eventlog.Position `json:"position"`
}

// ListRequestsAsOf answers an auditor's list query (q.AuditorID) as the list was at t: the
// requests of the companies the auditor may read now, as they stood then. With panelOf, it is
// that technician's Support Requests panel as they saw it then (their access and availability
// at t, R2), narrowed to the auditor's companies; with q.MineOnly, that technician's queue
// (My Support Requests, R4). The read is recorded in the access log before it is answered.
func (qs *Queries) ListRequestsAsOf(ctx context.Context, t time.Time, panelOf uuid.UUID, q ListRequests) (PastPage, error) {
	if q.Before != "" {
		return PastPage{}, ErrInvalidCursor // a past list pages forwards only
	}
	q, lq, err := q.resolve()
	if err != nil {
		return PastPage{}, err
	}
	viewer := Viewer{AuditorID: q.AuditorID, ClientIP: q.ClientIP}
	if !viewer.IsAuditor() || q.TechnicianID != uuid.Nil {
		return PastPage{}, ErrAuditorsOnly
	}
	if q.MineOnly && panelOf == uuid.Nil {
		return PastPage{}, ErrInvalidFilter
	}
	if t.After(qs.now()) {
		return PastPage{}, ErrNotYet
	}
	au, err := qs.viewerAuditor(ctx, q.AuditorID)
	if err != nil {
		return PastPage{}, err
	}
	params := listParams(q)
	params["as_of"] = t.UTC().Format(time.RFC3339Nano)
	if panelOf != uuid.Nil {
		params["technician"] = panelOf.String()
		if q.MineOnly {
			params["mine"] = "true"
		}
	}
	if err := qs.recordAccess(ctx, viewer, AccessEntry{Kind: AccessList, Params: params}); err != nil {
		return PastPage{}, err
	}
	past, err := qs.pointInTime(ctx, t)
	if err != nil {
		return PastPage{}, err
	}
	page := PastPage{AsOf: t, Position: past.Position(), RequestPage: RequestPage{Requests: []RequestSummary{}}}
	if panelOf == uuid.Nil {
		if lq.Companies, err = qs.auditorListing(ctx, au, q.CompanyID); err != nil {
			return PastPage{}, err
		}
		lq.IncludeNew = true
	} else {
		tech, err := past.Technician(ctx, panelOf)
		if err != nil {
			return PastPage{}, fmt.Errorf("technician %s as of %s: %w", panelOf, t.UTC().Format(time.RFC3339), err)
		}
		if q.MineOnly {
			if lq.Assignee != uuid.Nil && lq.Assignee != panelOf {
				return PastPage{}, ErrInvalidFilter
			}
			lq.Assignee = panelOf
		}
		listing := request.ListingFor(tech, q.CompanyID) // R2 as it stood at t
		lq.Companies, lq.IncludeNew = slices.DeleteFunc(slices.Clone(listing.Companies), func(c uuid.UUID) bool { return !au.CanRead(c) }), listing.IncludeNew
	}
	if len(lq.Companies) == 0 || len(lq.Statuses()) == 0 {
		return page, nil
	}
	if page.RequestPage, err = past.ListRequests(ctx, lq); err != nil {
		return PastPage{}, err
	}
	if page.Requests == nil {
		page.Requests = []RequestSummary{}
	}
	return page, nil
}

// RequestDetailsAsOf returns a request's details as they were at t, for an auditor who may read
// its company now; a request that did not exist yet at t is ErrNotFound. The read is recorded
// first.
func (qs *Queries) RequestDetailsAsOf(ctx context.Context, t time.Time, v Viewer, requestID uuid.UUID) (RequestDetails, error) {
	if !v.IsAuditor() {
		return RequestDetails{}, ErrAuditorsOnly
	}
	if t.After(qs.now()) {
		return RequestDetails{}, ErrNotYet
	}
	au, err := qs.viewerAuditor(ctx, v.AuditorID)
	if err != nil {
		return RequestDetails{}, err
	}
	past, err := qs.pointInTime(ctx, t)
	if err != nil {
		return RequestDetails{}, err
	}
	d, err := past.RequestDetails(ctx, RequestDetailsQuery{RequestID: requestID, Viewer: v, Auditor: au})
	if err != nil {
		return RequestDetails{}, err
	}
	if !au.CanRead(d.CompanyID) {
		return RequestDetails{}, fmt.Errorf("request %s: %w", requestID, ErrNotFound) // R2, whatever the fold says
	}
	entry := AccessEntry{Kind: AccessDetails, RequestID: requestID, CompanyID: d.CompanyID, Params: map[string]string{"as_of": t.UTC().Format(time.RFC3339Nano)}}
	if err := qs.recordAccess(ctx, v, entry); err != nil {
		return RequestDetails{}, err
	}
	return d, nil
}

func (qs *Queries) pointInTime(ctx context.Context, t time.Time) (PastReadModels, error) {
	if qs.pastReadModels == nil {
		return nil, ErrNoPointInTime
	}
	past, err := qs.pastReadModels(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("fold the log as of %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	return past, nil
}

// ListEveryRequest answers q over every company's requests, New ones included, whoever asks:
// what an operator's tool on the server reads (`helpstream audit view`), never a front end,
// which lists for a technician or an auditor (ListRequests).
func (qs *Queries) ListEveryRequest(ctx context.Context, q ListRequests) (RequestPage, error) {
	q, lq, err := q.resolve()
	if err != nil {
		return RequestPage{}, err
	}
	if qs.requestList == nil {
		return RequestPage{}, fmt.Errorf("list requests: %w", ErrNoReadModel)
	}
	companies, err := qs.Companies(ctx)
	if err != nil {
		return RequestPage{}, err
	}
	if q.CompanyID != uuid.Nil {
		if _, ok := companies[q.CompanyID]; !ok {
			return RequestPage{Requests: []RequestSummary{}}, nil
		}
		lq.Companies = []uuid.UUID{q.CompanyID}
	} else {
		for id := range companies {
			lq.Companies = append(lq.Companies, id)
		}
		slices.SortFunc(lq.Companies, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	}
	lq.IncludeNew = true
	if len(lq.Companies) == 0 || len(lq.Statuses()) == 0 {
		return RequestPage{Requests: []RequestSummary{}}, nil
	}
	return qs.listPage(ctx, lq)
}
