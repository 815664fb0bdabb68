package httpapi_test

import (
	"net/http"
	"testing"
)

// TestTransferAndUnassign covers the hand-over routes: transfer to a colleague with access who
// is not offline (R4, beyond the seed), and unassign back to New (R7), also after the chat.
func TestTransferAndUnassign(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(t, e)
	carol := e.technician(t, "Carol Tech", w.companyA)
	dave := e.technician(t, "Dave Tech", w.companyA)
	dave.setAvailability(t, "offline")
	id, customer := w.inChat(t, uaWindows)

	before := e.tail(t)
	w.techA.post(t, reqPath(id, "transfer"), map[string]any{"technician_id": dave.id.String()}).wantErr(t, http.StatusUnprocessableEntity, "not_supported")
	carol.post(t, reqPath(id, "transfer"), map[string]any{"technician_id": carol.id.String()}).wantErr(t, http.StatusConflict, "conflict")
	e.unchanged(t, before, "refused transfers")

	w.techA.post(t, reqPath(id, "transfer"), map[string]any{"technician_id": carol.id.String()}).want(t, http.StatusOK)
	d := customer.details(t, custPath(id))
	if d.Assignee == nil || d.Assignee.ID != carol.id || d.Assignee.Name != "Carol Tech" {
		t.Fatalf("after the transfer the customer sees %+v", d.Assignee)
	}
	if p := carol.list(t, "mine=true"); !p.has(id) {
		t.Error("the transferred request is not in the new assignee's panel")
	}
	if p := w.techA.list(t, "mine=true"); p.has(id) {
		t.Error("the transferred request stays in the old assignee's panel")
	}
	w.techA.post(t, reqPath(id, "messages"), map[string]any{"body": "still mine?"}).wantErr(t, http.StatusConflict, "conflict")
	carol.post(t, reqPath(id, "join"), nil).want(t, http.StatusOK)
	carol.post(t, reqPath(id, "end-chat"), nil).want(t, http.StatusOK)

	// R7: the assignee gives it back after the chat; it is New again, for anyone to take.
	carol.post(t, reqPath(id, "unassign"), nil).want(t, http.StatusOK)
	if p := w.techA.list(t, "view=new"); !p.has(id) {
		t.Error("an unassigned request is not New again")
	}
	carol.post(t, reqPath(id, "unassign"), nil).wantErr(t, http.StatusConflict, "conflict")
	w.techA.post(t, reqPath(id, "assign"), nil).want(t, http.StatusOK)
	if h := w.techA.history(t, id); countType(h, "request.transferred.v1") != 1 || countType(h, "request.unassigned.v1") != 1 || countType(h, "request.assigned.v1") != 2 {
		t.Errorf("history: %+v", h.Events)
	}
}
