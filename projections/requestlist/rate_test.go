package requestlist

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest/listtest"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// TestApplyRate compares Apply's rate, in events per second, with COPY of as many rows into the
// same tables (the rebuild bar of design §7 is ≥ 50%). It runs only with HELPSTREAM_LIST_BENCH=1;
// HELPSTREAM_RATE_EVENTS sets the number of events (default 200000):
//
//	HELPSTREAM_LIST_BENCH=1 go test -run TestApplyRate -v ./projections/requestlist/
//
// The log interleaves request lives as a busy help desk would: a request is submitted every
// 9 events and each lives 9 events (assigned, joined, 3 messages, a file, chat ended, closed),
// so about a hundred lives overlap and every batch of 5000 events (the runtime's catch-up page)
// finishes some requests, starts others and changes many that earlier batches wrote.
// HELPSTREAM_RATE_OVERLAP=N keeps N lives open instead: with N in the tens of thousands nearly
// every event of a batch changes a different request, written by an earlier batch (the worst
// case for folding in memory).
func TestApplyRate(t *testing.T) {
	listtest.SkipUnlessBench(t, "measure Apply against COPY")
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("HELPSTREAM_RATE_EVENTS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	l := listtest.NewEventLog(t)
	company, tech := uuid.New(), uuid.New()
	l.Company(company, "Acme")
	l.Technician(tech, "Alice")
	type life struct {
		id   uuid.UUID
		step int
	}
	overlap := 0 // 0: a new life every 9 events
	if v, err := strconv.Atoi(os.Getenv("HELPSTREAM_RATE_OVERLAP")); err == nil && v > 0 {
		overlap = v // keep this many lives open: every batch changes rows written by earlier ones
	}
	var open []*life
	for len(l.Events) < n {
		if (overlap == 0 && len(l.Events)%9 == 0) || len(open) == 0 || len(open) < overlap {
			id := uuid.New()
			l.Submit(id, company, "Ann", "ann@example.com", "The printer is on fire again", request.Windows)
			open = append(open, &life{id: id})
			continue
		}
		lf := open[(len(l.Events)*7919)%len(open)]
		var e eventlog.Event
		switch lf.step {
		case 0:
			e = &request.Assigned{TechnicianID: tech}
		case 1:
			e = &request.ChatJoined{TechnicianID: tech}
		case 2, 3, 4:
			e = &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "still burning"}
		case 5:
			e = &request.FileShared{FileID: uuid.New(), From: request.CustomerSide, Name: "fire.png", Size: 10, SHA256: "x"}
		case 6:
			e = &request.ChatEnded{TechnicianID: tech}
		default:
			e = &request.Closed{TechnicianID: tech}
		}
		l.Tick(time.Millisecond).Request(lf.id, e)
		lf.step++
		if lf.step > 7 {
			open = without(open, lf)
		}
	}
	pool, _ := pgtest.NewDatabase(t)
	if _, err := pool.Exec(ctx, NewProjection().Schema()); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	apply(t, pool, l.Events, repeat(5000, len(l.Events)/5000+1)...)
	applyTime := time.Since(started)
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM request_list`).Scan(&rows); err != nil {
		t.Fatal(err)
	}

	// COPY as many rows as there were events into the same, empty tables.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS copy_target; SET search_path = copy_target, public`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, NewProjection().Schema()); err != nil {
		t.Fatal(err)
	}
	values := make([][]any, len(l.Events))
	at := time.Now().UTC()
	for i := range values {
		values[i] = []any{uuid.New(), company, "Acme", "acme", "Ann", "ann@example.com", "ann", "The printer is on fire again",
			"completed", &tech, "Alice", "alice", "windows", at, &at, &at, at, int32(3), int32(1)}
	}
	started = time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(values); i += 5000 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"request_list"}, listColumns, pgx.CopyFromRows(values[i:min(i+5000, len(values))])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	copyTime := time.Since(started)
	if _, err := conn.Exec(ctx, `SET search_path = public`); err != nil {
		t.Fatal(err)
	}
	applyRate := float64(len(l.Events)) / applyTime.Seconds()
	copyRate := float64(len(values)) / copyTime.Seconds()
	t.Logf("Apply: %d events (%d requests) in %s = %.0f events/s; COPY of %d rows into request_list: %s = %.0f rows/s; ratio %.0f%%",
		len(l.Events), rows, applyTime.Round(time.Millisecond), applyRate, len(values), copyTime.Round(time.Millisecond), copyRate, 100*applyRate/copyRate)
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func without[T comparable](s []T, v T) []T {
	for i, x := range s {
		if x == v {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}
