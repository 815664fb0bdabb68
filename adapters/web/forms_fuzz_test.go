package web_test

// Fuzz targets for what the console's and the portal's forms post: any form bytes, any upload
// bytes, with any Content-Type, sent by a browser that holds a valid session, customer token
// and form token, so that the bytes reach the handlers behind the CSRF checks. The answer must
// be 2xx, 3xx or 4xx: never a 5xx, never a panic, never a dropped connection, and never a
// redirect that carries the internal-error message in its flash (a 5xx in disguise: the
// action failed on the server's side and the browser is told so on the next page).
//
// Requests are written byte by byte on their own connection (net/http's client refuses a
// Content-Type with NUL or a line break). "{csrf}" in a body stands for the form's valid
// token, "{tech}" for a technician of the same company (a transfer's target), "{other}" for a
// technician without access: the tokens change with every run, the inputs do not.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/adapters/httpserver/httpservertest"
	"github.com/helpstream/helpstream/adapters/web"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// formRoute is a form the pages post. Its path's {id} is the input's request.
type formRoute struct {
	path     string
	customer bool // the portal's: the customer's cookie and the form token; else the session
	seed     string
}

var formRoutes = []formRoute{
	{"/console/login", false, "csrf_token={csrf}&email={email}&password=correct+horse+battery"},
	{"/console/logout", false, "csrf_token={csrf}"},
	{"/console/availability", false, "csrf_token={csrf}&availability=busy&return_to=%2Fconsole%2Frequests%2F{id}"},
	{"/console/requests/{id}/assign", false, "csrf_token={csrf}"},
	{"/console/requests/{id}/unassign", false, "csrf_token={csrf}"},
	{"/console/requests/{id}/transfer", false, "csrf_token={csrf}&technician_id={tech}"},
	{"/console/requests/{id}/join", false, "csrf_token={csrf}"},
	{"/console/requests/{id}/messages", false, "csrf_token={csrf}&body=Hello%2C+I+am+here+to+help."},
	{"/console/requests/{id}/notes", false, "csrf_token={csrf}&body=Customer+sounds+upset."},
	{"/console/requests/{id}/screen-sharing", false, "csrf_token={csrf}"},
	{"/console/requests/{id}/mobile-profiles", false, "csrf_token={csrf}&profile=Corporate+Wi-Fi"},
	{"/console/requests/{id}/end-chat", false, "csrf_token={csrf}"},
	{"/console/requests/{id}/close", false, "csrf_token={csrf}"},
	{"/console/requests/{id}/files", false, "csrf_token={csrf}"},
	{"/console/requests/{id}/nowhere", false, "csrf_token={csrf}"},
	{"/portal/{portal}", true, "csrf_token={csrf}&customer_name=Ada&customer_email=ada%40example.com&description=My+printer+is+on+fire&device_type=windows"},
	{"/portal/requests/{id}/messages", true, "csrf_token={csrf}&body=Thanks%21"},
	{"/portal/requests/{id}/accept-screen-sharing", true, "csrf_token={csrf}"},
	{"/portal/requests/{id}/decline-screen-sharing", true, "csrf_token={csrf}"},
	{"/portal/requests/{id}/files", true, "csrf_token={csrf}"},
}

// FuzzFormPosts posts any form bytes, with any Content-Type, to the console's or the portal's
// form the input picks, about a fresh request in the state the input picks.
func FuzzFormPosts(f *testing.F) {
	ff := newFormFuzzer(f)
	const form = "application/x-www-form-urlencoded"
	for i, r := range formRoutes {
		f.Add(uint8(i), uint8(i%8), form, []byte(r.seed))
		f.Add(uint8(i), uint8(2), form, []byte(r.seed+"&body=%00&body=%ff%fe&profile=a%0Db&technician_id=&x="+strings.Repeat("%C3%A9", 50)))
	}
	f.Add(uint8(7), uint8(2), form, []byte("csrf_token={csrf}&body="+strings.Repeat("a", 70<<10)))
	f.Add(uint8(7), uint8(2), form, []byte("csrf_token={csrf};body=semicolon"))
	f.Add(uint8(7), uint8(2), form+"; charset=utf-16", []byte("csrf_token={csrf}&body=%zz"))
	f.Add(uint8(5), uint8(1), form, []byte("csrf_token={csrf}&technician_id={other}"))
	f.Add(uint8(15), uint8(0), form, []byte("csrf_token={csrf}&customer_name=%00&customer_email=a%00%40b&description=%ff&device_type=linux"))
	f.Add(uint8(0), uint8(0), form, []byte("csrf_token={csrf}&email=%00{email}&password=%00"))
	f.Add(uint8(2), uint8(0), "text/plain", []byte("csrf_token={csrf}&availability=away&return_to=%2F%2Fevil.example.com"))
	f.Add(uint8(7), uint8(2), "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, route, state uint8, contentType string, body []byte) {
		r := formRoutes[int(route)%len(formRoutes)]
		s := ff.scene(t, int(state))
		ff.post(t, s, r, contentType, body)
	})
}

// FuzzUploadForms posts any bytes as the body of the console's or the portal's upload form,
// with any Content-Type, about a request in chat (Windows, or iOS whose customers share
// images only).
func FuzzUploadForms(f *testing.F) {
	ff := newFormFuzzer(f)
	upload := func(name string, content []byte, tokenFirst bool) []byte {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.SetBoundary("fuzzb0undary")
		if tokenFirst {
			w.WriteField("csrf_token", "{csrf}")
		}
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
		h.Set("Content-Type", "application/octet-stream")
		p, _ := w.CreatePart(h)
		p.Write(content)
		if !tokenFirst {
			w.WriteField("csrf_token", "{csrf}")
		}
		w.Close()
		return b.Bytes()
	}
	const ct = "multipart/form-data; boundary=fuzzb0undary"
	for route := range uint8(4) {
		f.Add(route, ct, upload("screenshot.png", formPNG, true))
		f.Add(route, ct, upload("notes.txt", []byte("hello\n"), true))
		f.Add(route, ct, upload("setup.exe", []byte("MZ\x90\x00"), true))
		f.Add(route, ct, upload("a\x00.png", formPNG, true))
		f.Add(route, ct, upload("../../etc/passwd.png", formPNG, true))
		f.Add(route, ct, upload("screenshot.png", formPNG, false))
		f.Add(route, ct, upload("", formPNG, true))
		f.Add(route, ct, upload("\xff\xfe.png", []byte("not a png"), true))
		f.Add(route, ct, upload("screenshot.png", formPNG, true)[:120])
		f.Add(route, "multipart/form-data; boundary=other", upload("screenshot.png", formPNG, true))
		f.Add(route, "multipart/form-data", upload("screenshot.png", formPNG, true))
		f.Add(route, "application/x-www-form-urlencoded", []byte("csrf_token={csrf}"))
	}
	f.Fuzz(func(t *testing.T, route uint8, contentType string, body []byte) {
		s := ff.uploadScenes[int(route)%2]
		r := formRoute{path: "/console/requests/{id}/files"}
		if route%4 >= 2 {
			r = formRoute{path: "/portal/requests/{id}/files", customer: true}
		}
		ff.post(t, s, r, contentType, body)
	})
}

// ---- the server and its data ----

// formTech is a technician of the fixture with their session.
type formTech struct {
	ID      uuid.UUID
	Email   string
	Company uuid.UUID
	Token   string
	CSRF    string
}

// formFixture is the data every input may name. The fuzzing coordinator makes it and hands it
// to its workers in formFixtureEnv; each worker serves on that database with technicians of
// its own (a worker stopped mid-input leaves no database behind, and no worker's input logs
// out another's technician).
type formFixture struct {
	DatabaseURL  string    `json:"database_url"`
	Files        string    `json:"files"`
	Acme         uuid.UUID `json:"acme"`
	Globex       uuid.UUID `json:"globex"`
	AcmePortal   uuid.UUID `json:"acme_portal"`
	GlobexPortal uuid.UUID `json:"globex_portal"`
}

const formFixtureEnv = "HELPSTREAM_FORMFUZZ_FIXTURE"

// formFormToken is the browser's double-submit token (the helpstream_form cookie), any value
// of 32 characters or more.
const formFormToken = "fuzz-form-token-0123456789abcdefghijklmnopqrstuvwxyz"

type formFuzzer struct {
	fx           formFixture
	app          *app.App
	accounts     *app.Accounts
	addr         string
	errLog       *httpservertest.ErrorLog
	alice, bob   *formTech // Acme's; alice acts, bob is a transfer's target
	carol        *formTech // Globex's only
	uploadScenes [2]*formScene
}

func newFormFuzzer(tb testing.TB) *formFuzzer {
	tb.Helper()
	ff := &formFuzzer{errLog: &httpservertest.ErrorLog{}}
	options := []servicetest.Option{func(c *service.Config) { c.MaxFileSize, c.LiveHeartbeat = maxFileSize, 200*time.Millisecond }}
	worker := os.Getenv(formFixtureEnv) != "" && formFlag("test.fuzzworker") == "true"
	if worker { // another process on the coordinator's database, whose read models it keeps
		if err := json.Unmarshal([]byte(os.Getenv(formFixtureEnv)), &ff.fx); err != nil {
			tb.Fatalf("%s: %v", formFixtureEnv, err)
		}
		options = append(options, servicetest.Joining(ff.fx.DatabaseURL, ff.fx.Files))
	}
	svc := servicetest.New(tb, options...)
	ff.fx.DatabaseURL, ff.fx.Files = svc.Config().DatabaseURL, svc.Config().FilesDir
	ff.start(tb, svc)
	if !worker {
		ff.seed(tb)
		if formFlag("test.fuzz") != "" {
			raw, _ := json.Marshal(ff.fx)
			os.Setenv(formFixtureEnv, string(raw))
			tb.Cleanup(func() { os.Unsetenv(formFixtureEnv) })
		}
	}
	suffix := "-" + uuid.NewString()[:8]
	ff.alice = ff.register(tb, "Alice Fuzz", "alice"+suffix+"@fuzz.example.com", ff.fx.Acme)
	ff.bob = ff.register(tb, "Bob Fuzz", "bob"+suffix+"@fuzz.example.com", ff.fx.Acme)
	ff.carol = ff.register(tb, "Carol Fuzz", "carol"+suffix+"@fuzz.example.com", ff.fx.Globex)
	ff.uploadScenes[0] = ff.newScene(tb, 2, request.Windows)
	ff.uploadScenes[1] = ff.newScene(tb, 2, request.IOS)
	return ff
}

func formFlag(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// start serves the service's pages behind the server serve runs (adapters/httpserver), with
// net/http's own log (a panic that drops the connection, a handler that answers twice) in
// errLog.
func (ff *formFuzzer) start(tb testing.TB, svc *service.Service) {
	tb.Helper()
	ff.app, ff.accounts = svc.App, svc.Accounts
	h := svc.Console
	server, err := httpserver.New(httpserver.Config{Handler: h, MaxBody: maxFileSize + 1<<20})
	if err != nil {
		tb.Fatal(err)
	}
	server.ErrorLog = log.New(ff.errLog, "", 0)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = server
	srv.Start()
	tb.Cleanup(srv.Close)
	ff.addr = strings.TrimPrefix(srv.URL, "http://")
}

func (ff *formFuzzer) seed(tb testing.TB) {
	tb.Helper()
	m, ctx := app.Meta{Actor: app.Admin}, context.Background()
	fx := &ff.fx
	fx.Acme, fx.Globex, fx.AcmePortal, fx.GlobexPortal = uuid.New(), uuid.New(), uuid.New(), uuid.New()
	for _, err := range []error{
		second(ff.app.CreateCompany(ctx, m, app.CreateCompany{CompanyID: fx.Acme, Name: "Acme Corp"})),
		second(ff.app.CreatePortal(ctx, m, app.CreatePortal{CompanyID: fx.Acme, PortalID: fx.AcmePortal, Name: "Acme Help Desk"})),
		second(ff.app.CreateCompany(ctx, m, app.CreateCompany{CompanyID: fx.Globex, Name: "Globex"})),
		second(ff.app.CreatePortal(ctx, m, app.CreatePortal{CompanyID: fx.Globex, PortalID: fx.GlobexPortal, Name: "Globex Support"})),
	} {
		if err != nil {
			tb.Fatal(err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// register makes an Available technician with access to company, logged in.
func (ff *formFuzzer) register(tb testing.TB, name, email string, company uuid.UUID) *formTech {
	tb.Helper()
	m, ctx := app.Meta{Actor: app.Admin}, context.Background()
	t := &formTech{ID: uuid.New(), Email: email, Company: company}
	if _, err := ff.accounts.RegisterTechnicianWithPassword(ctx, m, app.RegisterTechnician{TechnicianID: t.ID, Name: name, Email: email}, password); err != nil {
		tb.Fatal(err)
	}
	if _, err := ff.app.GrantAccess(ctx, m, app.GrantAccess{TechnicianID: t.ID, CompanyID: company}); err != nil {
		tb.Fatal(err)
	}
	ff.heal(tb, t)
	return t
}

// heal logs a technician in again when an input logged them out, and makes them Available
// again when an input changed that.
func (ff *formFuzzer) heal(tb testing.TB, t *formTech) {
	tb.Helper()
	ctx := context.Background()
	if _, err := ff.accounts.Credentials().LookupSession(ctx, t.Token); t.Token == "" || err != nil {
		s, err := ff.accounts.Login(ctx, t.Email, password)
		if err != nil {
			tb.Fatalf("log %s in: %v", t.Email, err)
		}
		t.Token, t.CSRF = s.Token, s.CSRFToken
	}
	if _, err := ff.app.SetAvailability(ctx, app.Meta{Actor: app.Admin}, app.SetAvailability{TechnicianID: t.ID, Availability: directory.Available}); err != nil {
		tb.Fatal(err)
	}
}

// ---- one input ----

// formScene is an input's own request on Acme's portal.
type formScene struct {
	id       uuid.UUID
	customer string // the customer's token
}

// scene brings a fresh request to one of eight states: new, assigned to alice, in chat (twice
// as likely), screen sharing asked, chat ended, closed, assigned to bob; on a platform the
// state also picks.
func (ff *formFuzzer) scene(t *testing.T, state int) *formScene {
	t.Helper()
	ff.heal(t, ff.alice)
	ff.heal(t, ff.bob)
	return ff.newScene(t, state%8, request.Platforms[state/8%len(request.Platforms)])
}

func (ff *formFuzzer) newScene(tb testing.TB, state int, platform request.Platform) *formScene {
	tb.Helper()
	ctx := context.Background()
	sub, err := ff.accounts.SubmitRequestWithToken(ctx, app.Meta{Actor: app.Actor{Kind: "customer"}}, app.SubmitRequest{
		RequestID: uuid.New(), PortalID: ff.fx.AcmePortal, CompanyID: ff.fx.Acme,
		Customer:    request.Customer{Name: "Ada Customer", Email: "ada@example.com"},
		Description: "My printer is on fire",
		Source:      request.Source{IP: "192.0.2.1", Platform: platform, OS: "Some OS", OSVersion: "1", Browser: "Some Browser"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	s := &formScene{id: sub.RequestID, customer: sub.CustomerToken}
	alice := app.Meta{Actor: app.Actor{Kind: "technician", ID: ff.alice.ID}}
	steps := map[int][]func(context.Context, app.Meta, uuid.UUID) (app.Result, error){
		1: {ff.app.AssignToMe},
		2: {ff.app.AssignToMe, ff.app.JoinChat},
		3: {ff.app.AssignToMe, ff.app.JoinChat},
		4: {ff.app.AssignToMe, ff.app.JoinChat, ff.app.EndChat},
		5: {ff.app.AssignToMe, ff.app.JoinChat, ff.app.Close},
		7: {ff.app.AssignToMe, ff.app.JoinChat},
	}
	if state == 3 && platform.SupportsScreenSharing() {
		steps[3] = append(steps[3], ff.app.RequestScreenSharing)
	}
	for _, step := range steps[state] {
		if _, err := step(ctx, alice, s.id); err != nil {
			tb.Fatalf("bring request to state %d: %v", state, err)
		}
	}
	if state == 6 {
		if _, err := ff.app.AssignToMe(ctx, app.Meta{Actor: app.Actor{Kind: "technician", ID: ff.bob.ID}}, s.id); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// post sends the form as a browser holding the route's credentials would, and judges the
// answer.
func (ff *formFuzzer) post(t *testing.T, s *formScene, r formRoute, contentType string, body []byte) {
	t.Helper()
	path := strings.NewReplacer("{id}", s.id.String(), "{portal}", ff.fx.AcmePortal.String()).Replace(r.path)
	csrf := ff.alice.CSRF
	cookies := []string{web.SessionCookie + "=" + ff.alice.Token, "helpstream_form=" + formFormToken}
	if r.customer || r.path == "/console/login" {
		csrf = formFormToken
	}
	if r.customer {
		cookies = append(cookies, "helpstream_customer="+s.customer)
	}
	body = []byte(strings.NewReplacer("{csrf}", csrf, "{tech}", ff.bob.ID.String(), "{other}", ff.carol.ID.String(),
		"{email}", ff.bob.Email, "{id}", s.id.String()).Replace(string(body)))

	var wire bytes.Buffer
	fmt.Fprintf(&wire, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: %d\r\n", path, len(body))
	fmt.Fprintf(&wire, "Cookie: %s\r\n", strings.Join(cookies, "; "))
	fmt.Fprintf(&wire, "User-Agent: %s\r\n", uaWindows)
	fmt.Fprintf(&wire, "Content-Type: %s\r\n\r\n", strings.NewReplacer("\r", " ", "\n", " ").Replace(contentType))
	head := wire.Len()
	wire.Write(body)

	ff.errLog.Reset()
	res, err := ff.send(wire.Bytes())
	if err != nil && len(body) > 0 {
		// net/http refuses a malformed head at once and resets the connection on the unread
		// body, which can overtake its answer: the head alone tells whether that happened.
		probe := bytes.Replace(wire.Bytes()[:head], []byte(fmt.Sprintf("Content-Length: %d\r\n", len(body))), []byte("Content-Length: 0\r\n"), 1)
		if p, perr := ff.send(probe); perr == nil && p.StatusCode >= 400 && p.StatusCode < 500 && p.Header.Get("Content-Security-Policy") == "" {
			res, err = p, nil
		}
	}
	logged := ff.errLog.String()
	sent := fmt.Sprintf("POST %s (Content-Type %q), body %s", path, contentType, formQuote(body))
	if err != nil {
		t.Fatalf("%s\nno answer: %v\nserver log: %s", sent, err, logged)
	}
	flash := ""
	for _, c := range res.Cookies() {
		if c.Name == "helpstream_flash" {
			if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
				flash = string(b)
			}
		}
	}
	switch {
	case res.StatusCode >= 500:
		t.Fatalf("%s\nanswered %d %s\nserver log: %s", sent, res.StatusCode, formQuote(res.body), logged)
	case strings.Contains(logged, "panic"):
		t.Fatalf("%s\nanswered %d, and the server panicked: %s", sent, res.StatusCode, logged)
	case strings.Contains(logged, "superfluous"):
		// A handler that answers twice had a second answer thrown away.
		t.Fatalf("%s\nanswered %d, but the handler tried to answer twice: %s", sent, res.StatusCode, logged)
	case strings.Contains(flash, "went wrong on our side") || strings.Contains(flash, "unavailable for a moment"):
		t.Fatalf("%s\nanswered %d with the flash %q: a server error in disguise\nserver log: %s", sent, res.StatusCode, flash, logged)
	case res.bodyErr != nil && res.Header.Get("Content-Security-Policy") != "":
		t.Fatalf("%s\nanswered %d, cut short: %v\nserver log: %s", sent, res.StatusCode, res.bodyErr, logged)
	}
}

// formAnswer is an answer and its body.
type formAnswer struct {
	*http.Response
	body    []byte
	bodyErr error
}

// send writes the request on a new connection while reading the answer.
func (ff *formFuzzer) send(wire []byte) (*formAnswer, error) {
	const timeout = 8 * time.Second
	conn, err := net.DialTimeout("tcp", ff.addr, timeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	go conn.Write(wire) // fails when the server closes first; the answer says why
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	for err == nil && res.StatusCode >= 100 && res.StatusCode < 200 {
		res, err = http.ReadResponse(br, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return &formAnswer{Response: res, body: body, bodyErr: err}, nil
}

func formQuote(b []byte) string {
	if len(b) > 2000 {
		return strconv.Quote(string(b[:1500])) + fmt.Sprintf(" …(%d bytes in all)… ", len(b)) + strconv.Quote(string(b[len(b)-300:]))
	}
	return strconv.Quote(string(b))
}

// formPNG is the start of a PNG file, enough for content sniffing.
var formPNG = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 48)...)
