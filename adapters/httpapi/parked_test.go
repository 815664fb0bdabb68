package httpapi_test

import (
	"net/http"
	"testing"
	"time"
)

// An event a read model cannot apply (here, a submission whose payload does not decode, as an
// older program or an import might have written it) is parked, and the admin's status route
// says so in the documented shape, while the requests after it are served as usual.
func TestParkedEventsInTheProjectionStatus(t *testing.T) {
	t.Parallel()
	e, _ := newReadModelServers(t)
	company := e.createCompany(t, "Acme")
	portal := e.createPortal(t, company, "Acme support")
	tech := e.technician(t, "Alice Tech", company)
	if _, err := e.pool.Exec(t.Context(), `INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
		VALUES ('request-6f5c52a4-1f3e-4ab4-9f7c-3b8e0a51d0a1', 0, gen_random_uuid(), 'request.submitted.v1',
		        '{"request_id": 5, "customer": "not an object"}', '{"actor":"import"}')`); err != nil {
		t.Fatal(err)
	}
	later, _ := e.submit(t, portal, uaWindows)

	type parked struct {
		Name        string `json:"name"`
		Parked      int    `json:"parked"`
		FirstParked *struct {
			Position string `json:"position"`
			StreamID string `json:"stream_id"`
			Type     string `json:"type"`
			Error    string `json:"error"`
		} `json:"first_parked"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got struct {
			Projections []parked `json:"projections"`
		}
		e.admin().get(t, "/api/v1/admin/projections").want(t, http.StatusOK).decode(t, &got)
		n := 0
		for _, p := range got.Projections {
			if p.Parked > 0 && p.FirstParked != nil && p.FirstParked.Type == "request.submitted.v1" && p.FirstParked.Error != "" {
				n++
			}
		}
		if n >= 2 { // the request list and the request details
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no parked submission reported within 10 s: %+v", got.Projections)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !tech.list(t, "view=new").has(later) {
		t.Error("the request submitted after the parked event is not listed")
	}
}
