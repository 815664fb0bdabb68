package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpapi"
	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// benchCompany creates a company, its portal and technicians who may serve it, each Available
// and, when accounts is set, with a password to log in with.
func benchCompany(ctx context.Context, a *app.App, accounts *app.Accounts, technicians int) (companyID, portalID uuid.UUID, techs []uuid.UUID, emails []string, err error) {
	companyID, portalID = uuid.New(), uuid.New()
	admin := app.Meta{Actor: app.Admin}
	if _, err := a.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: companyID, Name: "Bench Co"}); err != nil {
		return companyID, portalID, nil, nil, fmt.Errorf("bench company: %w", err)
	}
	if _, err := a.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: companyID, PortalID: portalID, Name: "Bench portal"}); err != nil {
		return companyID, portalID, nil, nil, fmt.Errorf("bench portal: %w", err)
	}
	tag := uuid.NewString()[:8]
	for i := range technicians {
		id := uuid.New()
		register := app.RegisterTechnician{TechnicianID: id, Name: fmt.Sprintf("Bench %d", i), Email: benchEmail(tag, i)}
		if accounts != nil {
			_, err = accounts.RegisterTechnicianWithPassword(ctx, admin, register, benchPassword)
		} else {
			_, err = a.RegisterTechnician(ctx, admin, register)
		}
		if err != nil {
			return companyID, portalID, nil, nil, fmt.Errorf("bench technician: %w", err)
		}
		if _, err := a.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: id, CompanyID: companyID}); err != nil {
			return companyID, portalID, nil, nil, fmt.Errorf("bench access: %w", err)
		}
		if _, err := a.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: id, Availability: "available"}); err != nil {
			return companyID, portalID, nil, nil, fmt.Errorf("bench availability: %w", err)
		}
		techs, emails = append(techs, id), append(emails, register.Email)
	}
	return companyID, portalID, techs, emails, nil
}

const benchPassword = "bench password, long enough"

func benchEmail(tag string, i int) string { return fmt.Sprintf("bench-%s-%d@example.com", tag, i) }

// SameRequestMessages runs writers that all send chat messages to ONE request, half as its
// customer and half as its assignee, and returns the messages stored per second and how many
// were refused (any error): a support chat must never refuse a message because another
// arrived in the same millisecond.
func SameRequestMessages(ctx context.Context, a *app.App, writers int, d time.Duration) (rate float64, refusals int64, err error) {
	setup := context.WithoutCancel(ctx)
	companyID, portalID, techs, _, err := benchCompany(setup, a, nil, 1)
	if err != nil {
		return 0, 0, err
	}
	requestID := uuid.New()
	customer := app.Meta{Actor: app.Actor{Kind: "customer", ID: requestID}}
	tech := app.Meta{Actor: app.Actor{Kind: "technician", ID: techs[0]}}
	if _, err := a.SubmitRequest(setup, customer, app.SubmitRequest{RequestID: requestID, PortalID: portalID, CompanyID: companyID,
		Customer:    request.Customer{Name: "Ada", Email: "ada@example.com"},
		Description: "Everyone is typing at once", Source: request.Source{Platform: request.Windows}}); err != nil {
		return 0, 0, err
	}
	if _, err := a.AssignToMe(setup, tech, requestID); err != nil {
		return 0, 0, err
	}
	if _, err := a.JoinChat(setup, tech, requestID); err != nil {
		return 0, 0, err
	}
	var refused atomic.Int64
	rate, err = measure(ctx, writers, d, func(ctx context.Context, writer int, count *atomic.Int64) error {
		for ctx.Err() == nil {
			var err error
			if writer%2 == 0 {
				_, err = a.SendCustomerMessage(ctx, customer, requestID, uuid.New(), "Still on fire")
			} else {
				_, err = a.SendTechnicianMessage(ctx, tech, requestID, uuid.New(), "Have you tried water?")
			}
			switch {
			case err == nil:
				count.Add(1)
			case ctx.Err() != nil:
				return nil
			default:
				refused.Add(1)
			}
		}
		return nil
	})
	return rate, refused.Load(), err
}

// HTTPConfig is what HTTPCommands serves: the same parts serve's API is built from.
type HTTPConfig struct {
	// App runs the commands.
	App *app.App
	// Accounts logs the technicians in and issues customers' tokens.
	Accounts *app.Accounts
	// Idempotency is the API's store of Idempotency-Key answers.
	Idempotency httpapi.IdempotencyStore
	// CatchUp, when set, brings the read models the App's queries answer from up to the log
	// once the company is seeded, before anything is measured: the portal's company is a
	// query (then remembered by the App), and no projector runs during the measurement.
	CatchUp func(ctx context.Context) error
}

// HTTPCommands runs the whole-command lifecycle of Commands through the JSON API, served by
// this process on a loopback TCP port as serve serves it, with writers keep-alive clients: a
// customer submits through the portal, a technician logs in once and assigns, joins, chats
// (ten messages alternating with the customer, each with the customer's token) and closes,
// then starts over. It returns commands/s; any answer other than 2xx fails the run.
func HTTPCommands(ctx context.Context, cfg HTTPConfig, writers int, d time.Duration) (float64, error) {
	setup := context.WithoutCancel(ctx)
	_, portalID, _, emails, err := benchCompany(setup, cfg.App, cfg.Accounts, writers)
	if err != nil {
		return 0, err
	}
	if cfg.CatchUp != nil {
		if err := cfg.CatchUp(setup); err != nil {
			return 0, fmt.Errorf("bench API: bring the read models up to the seed: %w", err)
		}
	}
	api, err := httpapi.New(httpapi.Config{App: cfg.App, Accounts: cfg.Accounts, Idempotency: cfg.Idempotency, AdminToken: uuid.NewString()})
	if err != nil {
		return 0, fmt.Errorf("bench API: %w", err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench API: listen: %w", err)
	}
	// Served as serve serves it: its deadlines and body limits.
	server, err := httpserver.New(httpserver.Config{Handler: api})
	if err != nil {
		return 0, fmt.Errorf("bench API: %w", err)
	}
	go func() { _ = server.Serve(listener) }()
	defer func() {
		// Handlers still running when the clients stopped finish before the caller closes
		// the pool under them.
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	addr := listener.Addr().String()
	// One keep-alive connection per writer, spoken to by a minimal HTTP/1.1 client: the load
	// generator shares the machine's cores with the server and PostgreSQL, and net/http's
	// client spends about as much CPU per request as the server does.
	conns := make([]*keepAlive, writers)
	for i := range conns {
		if conns[i], err = dialKeepAlive(addr); err != nil {
			return 0, err
		}
		defer conns[i].close()
	}
	tokens := make([]string, writers)
	for i, email := range emails {
		var login struct {
			Token string `json:"token"`
		}
		if err := conns[i].call(setup, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"email": email, "password": benchPassword}, &login); err != nil {
			return 0, err
		}
		tokens[i] = login.Token
	}
	return measure(ctx, writers, d, func(ctx context.Context, writer int, count *atomic.Int64) error {
		tech, conn := tokens[writer], conns[writer]
		for ctx.Err() == nil {
			var submitted struct {
				RequestID     uuid.UUID `json:"request_id"`
				CustomerToken string    `json:"customer_token"`
			}
			err := conn.call(ctx, http.MethodPost, "/api/v1/portals/"+portalID.String()+"/requests", "", map[string]string{
				"customer_name": "Ada", "customer_email": "ada@example.com", "description": "My printer is on fire", "device_type": "windows",
			}, &submitted)
			if err != nil {
				return stopped(ctx, err)
			}
			count.Add(1)
			onRequest := "/api/v1/requests/" + submitted.RequestID.String()
			message := map[string]string{"body": "Have you tried water?"}
			steps := []httpStep{{onRequest + "/assign", tech, nil}, {onRequest + "/join", tech, nil}}
			for i := range 10 {
				if i%2 == 0 {
					steps = append(steps, httpStep{"/api/v1/customer/requests/" + submitted.RequestID.String() + "/messages", submitted.CustomerToken, message})
				} else {
					steps = append(steps, httpStep{onRequest + "/messages", tech, message})
				}
			}
			steps = append(steps, httpStep{onRequest + "/close", tech, nil})
			for _, step := range steps {
				if err := conn.call(ctx, http.MethodPost, step.url, step.token, step.body, nil); err != nil {
					return stopped(ctx, err)
				}
				count.Add(1)
			}
		}
		return nil
	})
}

// httpStep is one command of the lifecycle: where it is sent, with whose token, and its body.
type httpStep struct {
	url, token string
	body       any
}

// stopped is nil when err came from the end of the measurement.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// keepAlive is one HTTP/1.1 connection that sends a request and reads its answer in turn.
type keepAlive struct {
	conn   net.Conn
	reader *bufio.Reader
	out    bytes.Buffer
}

func dialKeepAlive(addr string) (*keepAlive, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bench API: connect: %w", err)
	}
	return &keepAlive{conn: conn, reader: bufio.NewReaderSize(conn, 16<<10)}, nil
}

func (k *keepAlive) close() { _ = k.conn.Close() }

// call sends one JSON request and decodes a 2xx answer into out (when not nil).
func (k *keepAlive) call(ctx context.Context, method, path, token string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = k.conn.SetDeadline(deadline)
	} else {
		_ = k.conn.SetDeadline(time.Now().Add(30 * time.Second))
	}
	k.out.Reset()
	fmt.Fprintf(&k.out, "%s %s HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", method, path, len(payload))
	if token != "" {
		fmt.Fprintf(&k.out, "Authorization: Bearer %s\r\n", token)
	}
	k.out.WriteString("\r\n")
	k.out.Write(payload)
	if _, err := k.conn.Write(k.out.Bytes()); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	resp, err := http.ReadResponse(k.reader, nil)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	return decodeAnswer(method, path, resp, out)
}

// decodeAnswer reads the JSON API's answer to method path and decodes it into out (when not
// nil) if its status is 2xx; any other status is an error that quotes the answer.
func decodeAnswer(method, path string, resp *http.Response, out any) error {
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, answer)
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}
