package httpapi

import (
	"context"
	"net/http"
	"time"
)

// eraseBody is POST /api/v1/admin/customers/erase's body.
type eraseBody struct {
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

func (b eraseBody) missingField() error {
	return required(field("email", b.Email == ""), field("reason", b.Reason == ""))
}

// EraseTimeout bounds an erasure started by the API: it rebuilds every read model from the
// start of the log, which outlasts an ordinary request; a client that hangs up does not stop it.
const EraseTimeout = 30 * time.Minute

// eraseCustomer erases a customer's personal data (issue 17): see Config.EraseCustomer.
func (a *API) eraseCustomer(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if a.cfg.EraseCustomer == nil {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "this server cannot erase customers")
	}
	body, err := decodeBody[eraseBody](a, w, r)
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), EraseTimeout)
	defer cancel()
	x, err := a.cfg.EraseCustomer(ctx, body.Email, body.Reason)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, x, nil
}
