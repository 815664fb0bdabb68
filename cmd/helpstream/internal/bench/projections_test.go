package bench_test

import (
	"io"
	"testing"
	"time"

	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/directory"
	"github.com/helpstream/helpstream/projections/requestdetails"
	"github.com/helpstream/helpstream/projections/requestlist"
)

// TestRunProjections runs the projections benchmark on a few hundred requests: every phase
// works, and the seeded log is what the domain would have written (chains intact, every
// request stream starts with its submission, the read model counts what was seeded).
func TestRunProjections(t *testing.T) {
	sc := newScratch(t, "seeds a database and runs every phase", 3*time.Minute, withoutProjectors)
	const requests = 600
	rep, err := bench.RunProjections(sc.ctx, bench.ProjectionsConfig{
		Pool: sc.pool, Store: sc.store, App: sc.app,
		Projections: []projections.Projection{directory.NewProjection(), requestlist.NewProjection(), requestdetails.NewProjection()},
		Requests:    requests, SeedWindow: 100, CommandRates: []float64{40}, LagDuration: time.Second, Samples: 2, PageSize: 5,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	s := rep.Seed
	if s.Requests != requests || s.New+s.Active+s.Completed != requests || s.New == 0 || s.Active == 0 || s.Completed == 0 {
		t.Errorf("seed: %+v", s)
	}
	// 20 companies with a portal; 50 technicians registered, granted access (to every
	// company but one, to three) and Available; then 1, 2 or 4 events per request.
	directoryEvents := 20*2 + 49*(1+20+1) + (1 + 3 + 1)
	if want := int64(directoryEvents + s.New + 2*s.Active + 4*s.Completed); s.Events != want {
		t.Errorf("seeded %d events, want %d", s.Events, want)
	}
	if rep.LogRead.Events != s.Events {
		t.Errorf("log read %d events, seeded %d", rep.LogRead.Events, s.Events)
	}
	if len(rep.Rebuilds) != 3 {
		t.Fatalf("rebuilds: %+v", rep.Rebuilds)
	}
	for _, r := range rep.Rebuilds {
		if r.Events != s.Events || r.Rows == 0 || r.Rebuild <= 0 || r.Copy <= 0 {
			t.Errorf("rebuild %+v", r)
		}
	}
	if rep.Rebuilds[0].Bar != 0 || rep.Rebuilds[1].Bar != 0.5 {
		t.Errorf("bars: directory %v, request list %v", rep.Rebuilds[0].Bar, rep.Rebuilds[1].Bar)
	}
	if got := len(rep.Lists); got != 2*4*7*2*2 {
		t.Errorf("%d list rows", got)
	}
	for _, r := range rep.Lists {
		if r.Samples == 0 || r.P50 <= 0 {
			t.Errorf("list %+v", r)
		}
	}
	if len(rep.Lags) != 1 || rep.Lags[0].Commands == 0 || rep.Lags[0].Errors != 0 || rep.Lags[0].TimedOut != 0 || rep.Lags[0].P50 <= 0 {
		t.Errorf("lag %+v", rep.Lags)
	}
	// The last phase: the request list rebuilt beside the others while commands run.
	if l, r := rep.RebuildLag, rep.RebuildBeside; l.Commands == 0 || l.Errors != 0 || l.TimedOut != 0 || r.Name != "request_list" || r.Events < s.Events {
		t.Errorf("lag during the rebuild %+v, rebuild %+v", l, r)
	}

	// The log: every stream's hash chain holds; request streams start with their submission.
	pos := eventlog.Start()
	streams := map[string][]eventlog.RecordedEvent{}
	for {
		page, err := sc.store.ReadAll(sc.ctx, pos, eventlog.ReadOptions{Limit: 5000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			streams[e.StreamID] = append(streams[e.StreamID], e)
		}
		if len(page) < 5000 {
			break
		}
		pos = page[len(page)-1].Position
	}
	codec := request.Codec()
	for id, events := range streams {
		if err := eventlog.VerifyChain(events); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if len(id) > len(request.StreamPrefix) && id[:len(request.StreamPrefix)] == request.StreamPrefix {
			if events[0].Type != (*request.Submitted)(nil).EventType() {
				t.Errorf("%s starts with %s", id, events[0].Type)
			}
			for _, e := range events {
				if _, err := codec.Decode(e.Type, e.Data); err != nil || e.Metadata.Actor == "" || e.Metadata.OccurredAt.IsZero() {
					t.Errorf("%s version %d: %v, metadata %+v", id, e.Version, err, e.Metadata)
				}
			}
		}
	}
	// The request list counts every request, the lag phase's included.
	if listed := sc.count(t, `SELECT count(*) FROM request_list`); listed < requests {
		t.Errorf("request list holds %d requests, seeded %d", listed, requests)
	}
}
