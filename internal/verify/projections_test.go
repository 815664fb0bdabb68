package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/helpstream/helpstream/internal/service/servicetest"
	"github.com/helpstream/helpstream/internal/verify"
	"github.com/helpstream/helpstream/projections"
)

// With the whole service running, every read-model row agrees with a fresh fold; a row changed
// or deleted in SQL is named by its read model's table and its key.
func TestReadModelsAgainstAFreshFold(t *testing.T) {
	svc := servicetest.New(t)
	w := populate(t, svc.Store, svc.App, 9)
	w.pool = svc.Pool
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := svc.WaitFor(ctx, w.written, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	comparer, err := projections.NewComparer(svc.Pool, svc.Store, svc.ReadModels, projections.CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep := w.verifyLog(verify.Config{Projections: comparer})
	if !rep.OK() || rep.Tables < 10 {
		t.Fatalf("the read models as the projectors left them: %d tables, findings %+v", rep.Tables, rep.Findings)
	}

	renamed, cut := w.requests[lifeNew], w.requests[lifeClosed]
	w.tamper(`UPDATE request_list SET customer_name = 'Mallory' WHERE id = $1`, renamed)
	w.tamper(`DELETE FROM request_details_entries WHERE request_id = $1 AND version = 4`, cut)
	rep = w.verifyLog(verify.Config{Projections: comparer})
	wants := []struct{ table, row, says string }{
		{"request_list", "id=" + renamed.String(), "customer_name is Mallory, a fresh fold gives Ada Lovelace"},
		{"request_details_entries", "(request_id, version)=(" + cut.String() + ", 4)", "the row is missing: a fresh fold has it"},
	}
	for _, want := range wants {
		found := false
		for _, f := range rep.Findings {
			found = found || f.Kind == verify.KindProjection && f.Table == want.table && f.Row == want.row &&
				strings.Contains(f.Message, "read model "+want.table+" row "+want.row+" differs from a fresh fold of the log: "+want.says)
		}
		if !found {
			t.Errorf("no finding about %s row %s saying %q", want.table, want.row, want.says)
		}
	}
	if len(rep.Findings) != len(wants) {
		t.Errorf("findings: %+v", rep.Findings)
	}
}
