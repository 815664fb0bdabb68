package httpapi

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

type messageBody struct {
	Body string `json:"body"`
}

func (b messageBody) missingField() error { return required(field("body", b.Body == "")) }

func (a *API) readMessage(w http.ResponseWriter, r *http.Request) (string, error) {
	body, err := decodeBody[messageBody](a, w, r)
	return body.Body, err
}

// simple adapts a command that takes only the request ID.
func (a *API) simple(cmd func(ctx contextT, meta app.Meta, requestID uuid.UUID) (app.Result, error)) technicianRoute {
	return onRequest(func(_ http.ResponseWriter, r *http.Request, tech, requestID uuid.UUID) (int, any, error) {
		res, err := cmd(r.Context(), meta(r, technicianActor(tech)), requestID)
		if err != nil {
			return 0, nil, a.withNames(r, err)
		}
		return commandAnswer(http.StatusOK, requestID, res, nil)
	})
}

// withNames adds the winner's name to an Assign race's conflict (R6).
func (a *API) withNames(r *http.Request, err error) error {
	var assigned *request.AlreadyAssignedError
	if !errors.As(err, &assigned) {
		return err
	}
	e := classify(err)
	if t, lookupErr := a.cfg.App.Technician(r.Context(), assigned.Assignee); lookupErr == nil {
		e.Assignee.Name = t.Name()
		e.Message = "the request is already assigned to " + t.Name()
	}
	return e
}

type transferBody struct {
	TechnicianID string `json:"technician_id"`
}

func (b transferBody) missingField() error {
	return required(field("technician_id", b.TechnicianID == ""))
}

func (a *API) transfer(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	return jsonCommand(a, w, r, technicianActor(tech), "requestID", http.StatusOK, func(ctx contextT, m app.Meta, requestID uuid.UUID, body transferBody) (uuid.UUID, app.Result, error) {
		to, err := uuid.Parse(body.TechnicianID)
		if err != nil {
			return uuid.Nil, app.Result{}, errorf(http.StatusUnprocessableEntity, "invalid", "technician_id must be a technician's UUID")
		}
		res, err := a.cfg.App.Transfer(ctx, m, requestID, to)
		return requestID, res, err
	})
}

// textCommand adapts a technician's command that writes a text into the chat: a message or a
// note.
func (a *API) textCommand(cmd func(ctx contextT, m app.Meta, requestID, textID uuid.UUID, text string) (app.Result, error)) technicianRoute {
	return onRequest(func(w http.ResponseWriter, r *http.Request, tech, requestID uuid.UUID) (int, any, error) {
		text, err := a.readMessage(w, r)
		if err != nil {
			return 0, nil, err
		}
		m := meta(r, technicianActor(tech))
		id := m.NewID("text")
		res, err := cmd(r.Context(), m, requestID, id, text)
		return commandAnswer(http.StatusCreated, id, res, err)
	})
}

type profileBody struct {
	Profile string `json:"profile"`
}

func (b profileBody) missingField() error { return required(field("profile", b.Profile == "")) }

func (a *API) mobileProfile(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	return jsonCommand(a, w, r, technicianActor(tech), "requestID", http.StatusOK, func(ctx contextT, m app.Meta, requestID uuid.UUID, body profileBody) (uuid.UUID, app.Result, error) {
		res, err := a.cfg.App.SendMobileProfile(ctx, m, requestID, body.Profile)
		return requestID, res, err
	})
}
