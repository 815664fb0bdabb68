package requestlist_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/projections"
)

// TestBulkRebuildOfEventsAfterClose: the domain never records an event after Closed, but the
// read models must fold whatever the log holds. A bulk load writes a closed request's row as
// soon as it is closed and applies later events for it with Apply, on tables whose keys it has
// not built yet; the rebuilt tables must equal those of the live projectors, in small pages
// (events after the close in later pages) and large ones (in the same page), in bulk mode and
// with the memory bound that sends the rest of the log to Apply.
func TestBulkRebuildOfEventsAfterClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newProperty(t)
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	appendEvents := func(stream string, expected eventlog.ExpectedVersion, events ...eventlog.Event) {
		t.Helper()
		var data []eventlog.EventData
		for _, e := range events {
			codec := request.Codec()
			if !codec.Knows(e.EventType()) {
				codec = dir.Codec()
			}
			typ, payload, err := codec.Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			at = at.Add(time.Second)
			data = append(data, eventlog.EventData{ID: uuid.New(), Type: typ, Data: payload,
				Metadata: eventlog.Metadata{Actor: "system", OccurredAt: at}})
		}
		res, err := p.store.Append(ctx, stream, expected, data...)
		if err != nil {
			t.Fatal(err)
		}
		p.written = res.Position
	}
	company, tech := uuid.New(), uuid.New()
	appendEvents("company-"+company.String(), eventlog.NoStream(), &dir.CompanyCreated{CompanyID: company, Name: "Acme"})
	appendEvents("technician-"+tech.String(), eventlog.NoStream(), &dir.TechnicianRegistered{TechnicianID: tech, Name: "Al", Email: "al@example.com"})
	var requests []uuid.UUID
	for i := range 6 {
		id := uuid.New()
		requests = append(requests, id)
		appendEvents(request.StreamPrefix+id.String(), eventlog.NoStream(),
			&request.Submitted{RequestID: id, CompanyID: company, PortalID: uuid.New(),
				Customer: request.Customer{Name: fmt.Sprintf("Customer %d", i), Email: "c@example.com"}, Description: "help",
				Source: request.Source{Platform: request.Windows}})
	}
	for _, id := range requests {
		appendEvents(request.StreamPrefix+id.String(), eventlog.Exactly(0), &request.Assigned{TechnicianID: tech}, &request.Closed{TechnicianID: tech})
	}
	for i, id := range requests {
		late := []eventlog.Event{
			&request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "still there?"},
			&request.FileShared{FileID: uuid.New(), From: request.CustomerSide, Name: "log.txt", Size: 3, ContentType: "text/plain", SHA256: "00"},
			&request.Unassigned{TechnicianID: tech},
			&request.Submitted{RequestID: id, CompanyID: company, Customer: request.Customer{Name: "Someone else"}},
		}
		appendEvents(request.StreamPrefix+id.String(), eventlog.Exactly(2), late[:1+i%len(late)]...)
	}
	p.catchUp()
	if _, err := p.pool.Exec(ctx, `CREATE SCHEMA live`); err != nil {
		t.Fatal(err)
	}
	for _, pr := range readModelProjections() {
		for _, table := range pr.Tables() {
			if _, err := p.pool.Exec(ctx, fmt.Sprintf(`CREATE TABLE live.%[1]s AS TABLE public.%[1]s`, table)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, opts := range []projections.RebuildOptions{{BatchSize: 2}, {BatchSize: 1000}, {BatchSize: 5, MaxHeldRows: 2}} {
		for _, pr := range readModelProjections() {
			if _, err := projections.Rebuild(ctx, p.pool, p.store, pr, opts); err != nil {
				t.Fatal(err)
			}
			for _, table := range pr.Tables() {
				var rows, differ int
				err := p.pool.QueryRow(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM public.%[1]s),
					(SELECT count(*) FROM ((TABLE public.%[1]s EXCEPT ALL TABLE live.%[1]s)
						UNION ALL (TABLE live.%[1]s EXCEPT ALL TABLE public.%[1]s)) x)`, table)).Scan(&rows, &differ)
				if err != nil {
					t.Fatal(err)
				}
				if differ != 0 {
					t.Fatalf("%s rebuilt in pages of %d (max held rows %d): %d of %d rows differ from the live projection's",
						table, opts.BatchSize, opts.MaxHeldRows, differ, rows)
				}
			}
		}
	}
	var messages, files int
	if err := p.pool.QueryRow(ctx, `SELECT sum(messages), sum(files) FROM request_list`).Scan(&messages, &files); err != nil {
		t.Fatal(err)
	}
	if messages != 6 || files != 4 {
		t.Fatalf("the rebuilt list counts %d messages and %d files sent after the close, want 6 and 4", messages, files)
	}
}
