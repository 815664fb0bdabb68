package privacy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/filestore"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/privacy"
)

// BenchmarkAppend measures chat messages appended through the application on the PostgreSQL
// event store, with the personal fields sealed and without, in the same run (issue 17's bar:
// sealed ≥ 80% of plain). Each parallel worker writes to its own request, as customers do.
//
//	go test -run XXX -bench BenchmarkAppend -benchtime 3s -count 3 ./internal/privacy/
func BenchmarkAppend(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		name := "plain"
		if sealed {
			name = "sealed"
		}
		b.Run(name, func(b *testing.B) {
			store, pool := pgtest.NewEventStore(b, pgstore.Config{})
			cfg := app.Config{Store: store}
			if sealed {
				keys := newKeys(b, pool)
				cfg.Store, cfg.Protect = privacy.Reader(store, keys), privacy.NewProtector(keys).Protect
			}
			a, err := app.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			requests := setUpChats(b, a, 64)
			var next atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req := requests[int(next.Add(1)-1)%len(requests)]
				customer := app.Meta{Actor: app.Actor{Kind: "customer", ID: req}}
				ctx := context.Background()
				for i := 0; pb.Next(); i++ {
					if _, err := a.SendCustomerMessage(ctx, customer, req, uuid.New(), fmt.Sprintf("message %d: my printer still prints nothing", i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// setUpChats makes n requests of n customers, each assigned and in chat.
func setUpChats(b *testing.B, a *app.App, n int) []uuid.UUID {
	b.Helper()
	ctx := context.Background()
	admin := app.Meta{Actor: app.Admin}
	company, portal, tech := uuid.New(), uuid.New(), uuid.New()
	techMeta := app.Meta{Actor: app.Actor{Kind: "technician", ID: tech}}
	steps := []func() (app.Result, error){
		func() (app.Result, error) {
			return a.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: company, Name: "Initech"})
		},
		func() (app.Result, error) {
			return a.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Help"})
		},
		func() (app.Result, error) {
			return a.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: tech, Name: "Dana", Email: "dana@example.com"})
		},
		func() (app.Result, error) {
			return a.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: tech, CompanyID: company})
		},
		func() (app.Result, error) {
			return a.SetAvailability(ctx, techMeta, app.SetAvailability{TechnicianID: tech, Availability: directory.Available})
		},
	}
	requests := make([]uuid.UUID, n)
	for i := range requests {
		req := uuid.New()
		requests[i] = req
		steps = append(steps,
			func() (app.Result, error) {
				return a.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: req}}, app.SubmitRequest{RequestID: req, PortalID: portal, CompanyID: company,
					Customer: request.Customer{Name: fmt.Sprintf("Customer %d", i), Email: fmt.Sprintf("c%d@example.com", i)}, Description: "Printer",
					Source: request.Source{IP: "192.0.2.7", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}})
			},
			func() (app.Result, error) { return a.AssignToMe(ctx, techMeta, req) },
			func() (app.Result, error) { return a.JoinChat(ctx, techMeta, req) },
		)
	}
	for _, step := range steps {
		if _, err := step(); err != nil {
			b.Fatal(err)
		}
	}
	return requests
}

// BenchmarkFiles measures a 1 MiB shared file saved and read back through the file store,
// sealed (privacy.Files: 64 KiB chunks under the request's key) and plain, in the same run.
//
//	go test -run XXX -bench BenchmarkFiles -count 3 ./internal/privacy/
func BenchmarkFiles(b *testing.B) {
	pool, _ := pgtest.NewDatabase(b)
	keys := newKeys(b, pool)
	ctx := context.Background()
	req := uuid.New()
	submitted := encode(b, &request.Submitted{RequestID: req, CompanyID: uuid.New(), PortalID: uuid.New(), Description: "d",
		Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}})
	if err := privacy.NewProtector(keys).Protect(ctx, request.Stream(req), []eventlog.EventData{submitted}); err != nil {
		b.Fatal(err)
	}
	content := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for _, sealed := range []bool{false, true} {
		name := "plain"
		if sealed {
			name = "sealed"
		}
		b.Run(name, func(b *testing.B) {
			local, err := filestore.New(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			var files app.FileStore = local
			if sealed {
				files = privacy.NewFiles(local, keys)
			}
			b.SetBytes(int64(len(content)))
			for b.Loop() {
				id := uuid.New()
				if err := files.Save(ctx, req, id, bytes.NewReader(content)); err != nil {
					b.Fatal(err)
				}
				f, err := files.Open(ctx, req, id)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, f)
				f.Close()
				if err != nil || n != int64(len(content)) {
					b.Fatalf("read back %d bytes: %v", n, err)
				}
			}
		})
	}
}
