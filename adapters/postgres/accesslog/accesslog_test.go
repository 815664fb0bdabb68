package accesslog_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/accesslog"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/internal/app"
)

func newLog(t *testing.T) (*accesslog.Log, *pgxpool.Pool) {
	t.Helper()
	pool, _ := pgtest.NewDatabase(t)
	return accesslog.New(pool), pool
}

var (
	ann, bob           = uuid.MustParse("00000000-0000-0000-0000-0000000000a1"), uuid.MustParse("00000000-0000-0000-0000-0000000000a2")
	acme, globex       = uuid.MustParse("00000000-0000-0000-0000-0000000000c1"), uuid.MustParse("00000000-0000-0000-0000-0000000000c2")
	acmeReq, globexReq = uuid.MustParse("00000000-0000-0000-0000-0000000000d1"), uuid.MustParse("00000000-0000-0000-0000-0000000000d2")
	file               = uuid.MustParse("00000000-0000-0000-0000-0000000000f1")
)

// entries are recorded in this order; their Seq grows with it.
func entries() []app.AccessEntry {
	return []app.AccessEntry{
		{AuditorID: ann, Kind: app.AccessList, Params: map[string]string{"view": "completed", "sort": "customer"}, ClientIP: "192.0.2.1"},
		{AuditorID: ann, Kind: app.AccessDetails, RequestID: acmeReq, CompanyID: acme, ClientIP: "192.0.2.1"},
		{AuditorID: bob, Kind: app.AccessHistory, RequestID: globexReq, CompanyID: globex, ClientIP: "2001:db8::1"},
		{AuditorID: bob, Kind: app.AccessFile, RequestID: acmeReq, CompanyID: acme, FileID: file},
		{AuditorID: bob, Kind: app.AccessList, Params: map[string]string{"view": "all"}},
	}
}

func record(t *testing.T, l *accesslog.Log) []app.AccessEntry {
	t.Helper()
	ctx := context.Background()
	var recorded []app.AccessEntry
	for _, e := range entries() {
		if err := l.Record(ctx, e); err != nil {
			t.Fatalf("Record(%+v): %v", e, err)
		}
		recorded = append(recorded, e)
	}
	return recorded
}

// Every filter of List, newest first; the entries come back as they were recorded, stamped with
// a growing Seq and the database's time.
func TestRecordAndList(t *testing.T) {
	l, _ := newLog(t)
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	recorded := record(t, l)
	all, err := l.List(ctx, app.AccessLogFilter{AllCompanies: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(recorded) {
		t.Fatalf("List returned %d entries, want %d", len(all), len(recorded))
	}
	for i, got := range all {
		want := recorded[len(recorded)-1-i]
		if i > 0 && got.Seq >= all[i-1].Seq {
			t.Fatalf("entry %d has seq %d after %d: not newest first", i, got.Seq, all[i-1].Seq)
		}
		if got.At.Before(before) || got.At.After(time.Now().Add(time.Second)) {
			t.Fatalf("entry %d recorded at %v", i, got.At)
		}
		want.Seq, want.At = got.Seq, got.At
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("entry %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	seqs := func(es []app.AccessEntry) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	seqOf := func(i int) int64 { return all[len(all)-1-i].Seq } // the i-th recorded
	mid := all[2].At
	tests := []struct {
		name string
		f    app.AccessLogFilter
		want []int64
	}{
		{"one auditor", app.AccessLogFilter{AuditorID: bob, AllCompanies: true}, []int64{seqOf(4), seqOf(3), seqOf(2)}},
		{"one request", app.AccessLogFilter{RequestID: acmeReq, AllCompanies: true}, []int64{seqOf(3), seqOf(1)}},
		{"one request, one auditor", app.AccessLogFilter{RequestID: acmeReq, AuditorID: ann, AllCompanies: true}, []int64{seqOf(1)}},
		{"an auditor of Acme sees Acme's reads and every list", app.AccessLogFilter{Companies: []uuid.UUID{acme}}, []int64{seqOf(4), seqOf(3), seqOf(1), seqOf(0)}},
		{"an auditor of Globex", app.AccessLogFilter{Companies: []uuid.UUID{globex}}, []int64{seqOf(4), seqOf(2), seqOf(0)}},
		{"no company: the lists only", app.AccessLogFilter{}, []int64{seqOf(4), seqOf(0)}},
		{"a request of another company", app.AccessLogFilter{Companies: []uuid.UUID{globex}, RequestID: acmeReq}, nil},
		{"a page", app.AccessLogFilter{AllCompanies: true, Limit: 2}, []int64{seqOf(4), seqOf(3)}},
		{"the page after", app.AccessLogFilter{AllCompanies: true, Limit: 2, Before: seqOf(3)}, []int64{seqOf(2), seqOf(1)}},
		{"the last page", app.AccessLogFilter{AllCompanies: true, Limit: 2, Before: seqOf(1)}, []int64{seqOf(0)}},
		{"since", app.AccessLogFilter{AllCompanies: true, Since: mid}, []int64{seqOf(4), seqOf(3), seqOf(2)}},
		{"until", app.AccessLogFilter{AllCompanies: true, Until: mid}, []int64{seqOf(1), seqOf(0)}},
		{"since the future", app.AccessLogFilter{AllCompanies: true, Since: time.Now().Add(time.Hour)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.f.Limit == 0 {
				tt.f.Limit = 100
			}
			got, err := l.List(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(seqs(got), tt.want) {
				t.Fatalf("List = %v, want %v", seqs(got), tt.want)
			}
		})
	}
}

func TestRecordRefusesIncompleteEntries(t *testing.T) {
	l, pool := newLog(t)
	for name, e := range map[string]app.AccessEntry{
		"no auditor":                {Kind: app.AccessList},
		"no kind":                   {AuditorID: ann},
		"a request without company": {AuditorID: ann, Kind: app.AccessDetails, RequestID: acmeReq},
		"a company without request": {AuditorID: ann, Kind: app.AccessDetails, CompanyID: acme},
	} {
		t.Run(name, func(t *testing.T) {
			if err := l.Record(context.Background(), e); !errors.Is(err, accesslog.ErrIncompleteEntry) {
				t.Fatalf("Record = %v, want ErrIncompleteEntry", err)
			}
		})
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM auditor_access_log`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the log holds %d entries (%v), want none", n, err)
	}
}

// The table only grows: the database itself refuses every UPDATE, DELETE and TRUNCATE, even
// one that would change no row, and the entries are left as they were.
func TestAppendOnly(t *testing.T) {
	l, pool := newLog(t)
	ctx := context.Background()
	record(t, l)
	snapshot := func() string {
		var s string
		if err := pool.QueryRow(ctx, `SELECT coalesce(string_agg(l::text, '|' ORDER BY seq), '') FROM auditor_access_log l`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := snapshot()
	for _, stmt := range []string{
		`UPDATE auditor_access_log SET client_ip = '203.0.113.9'`,
		`UPDATE auditor_access_log SET kind = 'list' WHERE false`,
		`DELETE FROM auditor_access_log`,
		`DELETE FROM auditor_access_log WHERE seq = (SELECT max(seq) FROM auditor_access_log)`,
		`DELETE FROM auditor_access_log WHERE false`,
		`TRUNCATE auditor_access_log`,
		`TRUNCATE auditor_access_log RESTART IDENTITY CASCADE`,
	} {
		t.Run(stmt, func(t *testing.T) {
			_, err := pool.Exec(ctx, stmt)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("%s: err = %v, want a refusal", stmt, err)
			}
			if got := snapshot(); got != want {
				t.Fatalf("%s changed the log:\n got %s\nwant %s", stmt, got, want)
			}
		})
	}
	t.Run("appending still works", func(t *testing.T) {
		if err := l.Record(ctx, app.AccessEntry{AuditorID: ann, Kind: app.AccessList}); err != nil {
			t.Fatal(err)
		}
	})
}
