package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

var allSorts = []app.SortColumn{app.SortSubmitted, app.SortID, app.SortCustomer, app.SortCompany, app.SortStatus, app.SortAssignee, app.SortLastActivity, app.SortBreach}

// The list pages by cursor exactly as in one page, for every sort and direction.
func TestCursorPaging(t *testing.T) {
	w := newWorld(t, 2)
	ctx := context.Background()
	var ids []uuid.UUID
	for i := range 9 {
		id := w.submit(t, request.Platforms[i%4])
		ids = append(ids, id)
		if i%3 == 0 {
			must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, tech(w.techs[i%2]), id) })
		}
	}
	for _, sort := range allSorts {
		for _, desc := range []bool{false, true} {
			all, err := w.app.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: w.techs[0], Sort: sort, Descending: desc, Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			q := app.ListRequests{TechnicianID: w.techs[0], Sort: sort, Descending: desc, Limit: 2}
			var got []uuid.UUID
			for {
				page, err := w.app.Queries().ListRequests(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if page.Total != len(ids) {
					t.Fatalf("total %d", page.Total)
				}
				for _, r := range page.Requests {
					got = append(got, r.ID)
				}
				if page.NextCursor == "" {
					break
				}
				q.Cursor = page.NextCursor
			}
			var want []uuid.UUID
			for _, r := range all.Requests {
				want = append(want, r.ID)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s desc=%v: cursor pages %v, one page %v", sort, desc, got, want)
			}
		}
	}
}

// The list's filters and their errors.
func TestListFilters(t *testing.T) {
	w := newWorld(t, 2)
	ctx := context.Background()
	a, b := w.submit(t, request.Windows), w.submit(t, request.Mac)
	must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, tech(w.techs[1]), b) })
	list := func(q app.ListRequests) ([]uuid.UUID, error) {
		page, err := w.app.Queries().ListRequests(ctx, q)
		var out []uuid.UUID
		for _, r := range page.Requests {
			out = append(out, r.ID)
		}
		return out, err
	}
	me := w.techs[0]
	for _, c := range []struct {
		q    app.ListRequests
		want []uuid.UUID
	}{
		{app.ListRequests{TechnicianID: me, Search: "PRINTER"}, []uuid.UUID{a, b}},
		{app.ListRequests{TechnicianID: me, Search: "ada@EXAMPLE"}, []uuid.UUID{a, b}},
		{app.ListRequests{TechnicianID: me, Search: "nothing"}, nil},
		{app.ListRequests{TechnicianID: me, CompanyID: w.companyID}, []uuid.UUID{a, b}},
		{app.ListRequests{TechnicianID: me, CompanyID: uuid.New()}, nil},
		{app.ListRequests{TechnicianID: me, Assignee: w.techs[1]}, []uuid.UUID{b}},
		{app.ListRequests{TechnicianID: w.techs[1], MineOnly: true}, []uuid.UUID{b}},
	} {
		got, err := list(c.q)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%+v: got %v %v, want %v", c.q, got, err, c.want)
		}
	}
	page, _ := w.app.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: me, Limit: 1})
	for _, c := range []struct {
		q   app.ListRequests
		err error
	}{
		{app.ListRequests{TechnicianID: me, Cursor: "not a cursor"}, app.ErrInvalidCursor},
		{app.ListRequests{TechnicianID: me, Cursor: page.NextCursor, Sort: app.SortCustomer}, app.ErrInvalidCursor},
		{app.ListRequests{TechnicianID: me, Cursor: page.NextCursor, Descending: true}, app.ErrInvalidCursor},
		{app.ListRequests{TechnicianID: me, Search: "a\x00b"}, app.ErrInvalidSearch},
		{app.ListRequests{TechnicianID: me, MineOnly: true, Assignee: w.techs[1]}, app.ErrInvalidFilter},
	} {
		if _, err := list(c.q); !errors.Is(err, c.err) {
			t.Errorf("%+v: got %v, want %v", c.q, err, c.err)
		}
	}
}

// fakeList records the query it gets and answers a fixed page or error.
type fakeList struct {
	mu    sync.Mutex
	got   []app.RequestListQuery
	page  app.RequestPage
	err   error
	calls int
}

func (f *fakeList) ListRequests(_ context.Context, q app.RequestListQuery) (app.RequestPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, q)
	f.calls++
	return f.page, f.err
}

type fakeDetails struct {
	d     app.RequestDetails
	errs  []error // returned in turn; nil afterwards
	calls int
	tech  *directory.Technician
}

func (f *fakeDetails) RequestDetails(_ context.Context, q app.RequestDetailsQuery) (app.RequestDetails, error) {
	f.calls++
	f.tech = q.Technician
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return app.RequestDetails{}, err
	}
	return f.d, nil
}

type fakeDirectory struct {
	tech *directory.Technician
	err  error
}

func (f *fakeDirectory) PortalCompany(context.Context, uuid.UUID) (uuid.UUID, string, error) {
	return uuid.Nil, "", f.err
}
func (f *fakeDirectory) Technician(context.Context, uuid.UUID) (*directory.Technician, error) {
	return f.tech, f.err
}
func (f *fakeDirectory) Companies(context.Context) (map[uuid.UUID]string, error) { return nil, f.err }
func (f *fakeDirectory) Technicians(context.Context) (map[uuid.UUID]string, error) {
	return nil, f.err
}
func (f *fakeDirectory) Auditors(context.Context) ([]directory.AuditorState, error) {
	return nil, f.err
}

// withReadModels is an App on w's store whose queries go to the given read models.
func (w *world) withReadModels(t *testing.T, cfg app.Config) *app.App {
	t.Helper()
	cfg.Store, cfg.Files = w.store, w.files
	a, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// With a list read model, the App resolves the caller (R2: their companies, New only while
// Available, their ID for mine=true) and passes an explicit query.
func TestListFromReadModel(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	me := w.techs[0]
	rm := &fakeList{page: app.RequestPage{Total: 3, NextCursor: "c"}}
	a := w.withReadModels(t, app.Config{RequestList: rm})
	page, err := a.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: me, MineOnly: true, Sort: app.SortCustomer, Search: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Requests == nil || page.NextCursor != "c" {
		t.Fatalf("page %+v", page)
	}
	got := rm.got[0]
	if !slices.Equal(got.Companies, []uuid.UUID{w.companyID}) || !got.IncludeNew || got.Assignee != me || got.Sort != app.SortCustomer ||
		got.Search != "x" || got.Limit != 50 || got.View != app.ViewAll || got.After != nil {
		t.Fatalf("query %+v", got)
	}
	// Not Available: no New requests; a company outside the caller's access lists nothing,
	// without asking the read model.
	must(t, func() (app.Result, error) {
		return a.SetAvailability(ctx, tech(me), app.SetAvailability{TechnicianID: me, Availability: "busy"})
	})
	if _, err := a.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: me}); err != nil || rm.got[len(rm.got)-1].IncludeNew {
		t.Fatalf("busy: %v %+v", err, rm.got[len(rm.got)-1])
	}
	calls := rm.calls
	page, err = a.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: me, CompanyID: uuid.New()})
	if err != nil || len(page.Requests) != 0 || rm.calls != calls {
		t.Fatalf("other company: %+v %v", page, err)
	}
	page, err = a.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: me, View: app.ViewNew})
	if err != nil || len(page.Requests) != 0 || rm.calls != calls {
		t.Fatalf("New while busy: %+v %v", page, err)
	}
	// A read model without tables yet says so: there is no other read side to answer.
	rm.err = fmt.Errorf("request list: %w", app.ErrReadModelNotReady)
	if _, err = a.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: me}); !errors.Is(err, app.ErrReadModelNotReady) {
		t.Fatalf("not ready: %v", err)
	}
	// An App without a list read model refuses the query as a wiring mistake.
	bare := w.withReadModels(t, app.Config{})
	if _, err = bare.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: me}); !errors.Is(err, app.ErrNoReadModel) {
		t.Fatalf("no read model: %v", err)
	}
}

// With a details read model, the App resolves the viewer (from the directory read model when
// there is one), re-checks R2 on the answer, waits for its own writes when the read model
// does not know the request yet, and says when the tables are not built yet.
func TestDetailsFromReadModel(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	me := w.techs[0]
	id := w.submit(t, request.Windows)
	meTech, err := w.app.Technician(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	var waited []eventlog.Position
	rm := &fakeDetails{d: app.RequestDetails{ID: id, CompanyID: w.companyID}}
	dirRM := &fakeDirectory{tech: directory.RestoreTechnician(meTech.State())}
	a := w.withReadModels(t, app.Config{RequestDetails: rm, Directory: dirRM, WaitFor: func(_ context.Context, pos eventlog.Position) (bool, error) {
		waited = append(waited, pos)
		return true, nil
	}})
	d, err := a.Queries().RequestDetails(ctx, app.Viewer{TechnicianID: me}, id)
	if err != nil || d.ID != id || rm.tech == nil || rm.tech.ID() != me {
		t.Fatalf("details %+v %v (tech %v)", d, err, rm.tech)
	}
	// The customer of another request: not found, without asking.
	calls := rm.calls
	if _, err := a.Queries().RequestDetails(ctx, app.Viewer{CustomerOf: uuid.New()}, id); !errors.Is(err, app.ErrNotFound) || rm.calls != calls {
		t.Fatalf("other customer: %v", err)
	}
	// A read model that answers a request of another company: R2 still holds.
	rm.d.CompanyID = uuid.New()
	if _, err := a.Queries().RequestDetails(ctx, app.Viewer{TechnicianID: me}, id); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("other company: %v", err)
	}
	rm.d.CompanyID = w.companyID
	// Not found while this App has written: it waits for its own writes and asks again.
	must(t, func() (app.Result, error) { return a.AssignToMe(ctx, tech(me), id) })
	rm.errs = []error{fmt.Errorf("request: %w", app.ErrNotFound)}
	if _, err := a.Queries().RequestDetails(ctx, app.Viewer{TechnicianID: me}, id); err != nil || len(waited) != 1 {
		t.Fatalf("retry after own writes: %v, waited %v", err, waited)
	}
	// No tables yet: said as such.
	rm.errs = []error{fmt.Errorf("x: %w", app.ErrReadModelNotReady)}
	if _, err = a.Queries().RequestDetails(ctx, app.Viewer{TechnicianID: me}, id); !errors.Is(err, app.ErrReadModelNotReady) {
		t.Fatalf("not ready: %v", err)
	}
	// The directory read model does not know the viewer yet: their stream answers.
	dirRM.err = fmt.Errorf("technician: %w", app.ErrNotFound)
	if _, err := a.Queries().RequestDetails(ctx, app.Viewer{TechnicianID: me}, id); err != nil || rm.tech == nil {
		t.Fatalf("viewer from the stream: %v", err)
	}
}

// ReadOwnWrites: every read-model query first waits for this App's last write.
func TestReadOwnWrites(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	me := w.techs[0]
	var waited []eventlog.Position
	rm := &fakeList{}
	a := w.withReadModels(t, app.Config{RequestList: rm, ReadOwnWrites: true, WaitFor: func(_ context.Context, pos eventlog.Position) (bool, error) {
		waited = append(waited, pos)
		return true, nil
	}})
	if _, err := a.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: me}); err != nil || len(waited) != 0 {
		t.Fatalf("nothing written: %v, waited %v", err, waited)
	}
	res := must(t, func() (app.Result, error) {
		return a.SetAvailability(ctx, tech(me), app.SetAvailability{TechnicianID: me, Availability: "away"})
	})
	for range 3 {
		if _, err := a.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: me}); err != nil {
			t.Fatal(err)
		}
	}
	if len(waited) != 1 || waited[0] != res.Position {
		t.Fatalf("waited for %v, want once for %s", waited, res.Position)
	}
}

// WaitForPosition: through Config.WaitFor (a timeout is "not yet", not an error); without one,
// nothing can tell, so "not yet" at once.
func TestWaitForPosition(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	res := must(t, func() (app.Result, error) {
		return w.app.SetAvailability(ctx, tech(w.techs[0]), app.SetAvailability{TechnicianID: w.techs[0], Availability: "away"})
	})
	if ok, err := w.app.Queries().WaitForPosition(ctx, res.Position); !ok || err != nil {
		t.Fatalf("own write: %v %v", ok, err)
	}
	far := eventlog.NewPosition(1<<62, 1)
	fast := w.withReadModels(t, app.Config{MaxProjectionWait: 50 * time.Millisecond})
	start := time.Now()
	if ok, err := fast.Queries().WaitForPosition(ctx, far); ok || err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("no WaitFor, far position: %v %v after %s", ok, err, time.Since(start))
	}
	slow := w.withReadModels(t, app.Config{RequestList: &fakeList{}, MaxProjectionWait: 30 * time.Millisecond,
		WaitFor: func(ctx context.Context, _ eventlog.Position) (bool, error) {
			<-ctx.Done()
			return false, ctx.Err()
		}})
	if ok, err := slow.Queries().WaitForPosition(ctx, far); ok || err != nil {
		t.Fatalf("read models, timeout: %v %v", ok, err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := slow.Queries().WaitForPosition(canceled, far); err == nil {
		t.Fatal("a canceled caller got no error")
	}
	if ok, err := slow.Queries().WaitForPosition(ctx, eventlog.Start()); !ok || err != nil {
		t.Fatalf("start: %v %v", ok, err)
	}
}
