package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/app"
)

// routingCapacity is one technician's capacity in a routing policy.
type routingCapacity struct {
	TechnicianID string `json:"technician_id"`
	Capacity     int    `json:"capacity"`
}

// routingView is a company's routing policy as the admin API shows it.
type routingView struct {
	CompanyID        uuid.UUID         `json:"company_id"`
	Mode             routing.Mode      `json:"mode"`
	DefaultCapacity  int               `json:"default_capacity"`
	Capacities       []routingCapacity `json:"capacities"`
	AwayLimitSeconds int64             `json:"away_limit_seconds"`
}

// routingBody sets a company's routing policy; default_capacity is routing.DefaultCapacity
// when left out, away_limit_seconds 0 (no reassignment).
type routingBody struct {
	Mode             string            `json:"mode"`
	DefaultCapacity  *int              `json:"default_capacity"`
	Capacities       []routingCapacity `json:"capacities"`
	AwayLimitSeconds int64             `json:"away_limit_seconds"`
}

func (b routingBody) missingField() error { return required(field("mode", b.Mode == "")) }

// settings turns the body into the domain's settings; the domain validates the values.
func (b routingBody) settings() (routing.Settings, error) {
	s := routing.Settings{Mode: routing.Mode(b.Mode), DefaultCapacity: routing.DefaultCapacity}
	if b.DefaultCapacity != nil {
		s.DefaultCapacity = *b.DefaultCapacity
	}
	if b.AwayLimitSeconds < 0 || b.AwayLimitSeconds > int64(routing.MaxAwayLimit/time.Second) {
		return s, routing.ErrInvalidAwayLimit
	}
	s.AwayLimit = time.Duration(b.AwayLimitSeconds) * time.Second
	if len(b.Capacities) > routing.MaxOverrides {
		return s, routing.ErrTooManyOverrides
	}
	for _, c := range b.Capacities {
		id, err := uuid.Parse(c.TechnicianID)
		if err != nil {
			return s, errorf(http.StatusUnprocessableEntity, "invalid", "capacities[].technician_id must be a technician's UUID")
		}
		if s.Capacities == nil {
			s.Capacities = map[uuid.UUID]int{}
		}
		if _, twice := s.Capacities[id]; twice {
			return s, errorf(http.StatusUnprocessableEntity, "invalid", "capacities name technician "+id.String()+" twice")
		}
		s.Capacities[id] = c.Capacity
	}
	return s, nil
}

func newRoutingView(companyID uuid.UUID, s routing.Settings) routingView {
	v := routingView{CompanyID: companyID, Mode: s.Mode, DefaultCapacity: s.DefaultCapacity, Capacities: []routingCapacity{},
		AwayLimitSeconds: int64(s.AwayLimit / time.Second)}
	for id, c := range s.Capacities {
		v.Capacities = append(v.Capacities, routingCapacity{TechnicianID: id.String(), Capacity: c})
	}
	slices.SortFunc(v.Capacities, func(a, b routingCapacity) int { return strings.Compare(a.TechnicianID, b.TechnicianID) })
	return v
}

// routingPolicy answers a company's routing policy (the defaults when never set).
func (a *API) routingPolicy(ctx contextT, companyID uuid.UUID) (routingView, error) {
	s, err := a.cfg.App.RoutingPolicy(ctx, companyID)
	if err != nil {
		return routingView{}, err
	}
	return newRoutingView(companyID, s), nil
}

// setRoutingPolicy sets a company's routing policy.
func (a *API) setRoutingPolicy(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "companyID", http.StatusOK, func(ctx contextT, m app.Meta, companyID uuid.UUID, body routingBody) (uuid.UUID, app.Result, error) {
		s, err := body.settings()
		if err != nil {
			return uuid.Nil, app.Result{}, err
		}
		res, err := a.cfg.App.SetRoutingPolicy(ctx, m, app.SetRoutingPolicy{CompanyID: companyID, Settings: s})
		return companyID, res, err
	})
}
