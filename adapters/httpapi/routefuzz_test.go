package httpapi_test

// The route fuzzer: requests generated from the served OpenAPI document (every operation, its
// path, query and header parameters, its body), sent over TCP to a real server on a seeded
// database, with credentials that reach the authenticated code. Any 5xx, any panic, any
// dropped connection, and any refusal of the handler's own outside the error shape fails.
//
// A request is written byte by byte on its own connection, not through net/http's client,
// which refuses to send what a hostile client sends (NUL or invalid UTF-8 in a header, a
// broken request target, a raw Content-Type).
//
// Every request is a pure function of the fuzz input: the input picks the operation and every
// part of the request, and each input first makes its own fresh support request (in the state
// the input picks), so that a failing input replays the same requests on the same state.
// Choice 0 is always the valid one, so that an input of zeros is a valid request and the
// mutator finds the refusals one byte at a time.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpapi"
	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/adapters/httpserver/httpservertest"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// FuzzRoutes sends the requests the input describes (see generate) to the server.
func FuzzRoutes(f *testing.F) {
	rf := newRouteFuzzer(f)
	for _, seed := range routeSeeds(len(rf.ops)) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rf.run(t, data)
	})
}

// TestRoutesFromOpenAPI runs the generator without the fuzzing engine, for a fixed number of
// requests from a fixed seed: every operation of the document several times, mostly valid
// with a few hostile parts, so that `go test` alone sends every route bad bytes.
func TestRoutesFromOpenAPI(t *testing.T) {
	t.Parallel()
	rf := newRouteFuzzer(t)
	const perOperation = 4
	r := rand.New(rand.NewPCG(20261203, 9))
	for op := range len(rf.ops) + 1 { // the last one is off the document
		for range perOperation {
			data := []byte{byte(r.IntN(8)), byte(r.IntN(4)), 2, byte(op)}
			for range 200 {
				if r.IntN(10) < 7 {
					data = append(data, 0) // the valid choice
				} else {
					data = append(data, byte(r.IntN(256)))
				}
			}
			rf.run(t, data)
			if t.Failed() {
				return
			}
		}
	}
	t.Logf("%d requests sent, %d answered 2xx, %d answered 3xx, %d answered 4xx", rf.sent, rf.byClass[2], rf.byClass[3], rf.byClass[4])
}

// routeSeeds are the seed inputs: for every operation, a valid request (the state of its
// support request changing from one operation to the next) and a hostile one.
func routeSeeds(ops int) [][]byte {
	var seeds [][]byte
	r := rand.New(rand.NewPCG(1, 2))
	for op := range ops + 1 {
		seeds = append(seeds, []byte{byte(op % 8), byte(op % 4), 0, byte(op)})
		hostile := []byte{byte(r.IntN(8)), byte(r.IntN(4)), 0, byte(op)}
		for range 64 {
			hostile = append(hostile, byte(r.IntN(256)))
		}
		seeds = append(seeds, hostile)
	}
	return seeds
}

// ---- the server and its data ----

// fuzzTech is a technician of the fixture with their sessions.
type fuzzTech struct {
	ID      uuid.UUID `json:"id"`
	Email   string    `json:"email"`
	Company uuid.UUID `json:"company"`
	Bearer  string    `json:"bearer"`
	Cookie  string    `json:"cookie"` // a second session, for the cookie scheme
	CSRF    string    `json:"csrf"`
}

// fuzzFixture is the seeded data every input may name: two companies with a portal each, two
// technicians of A (a, c) and one of B, an auditor of A, and in each company a request in chat
// with a shared file.
type fuzzFixture struct {
	DatabaseURL string    `json:"database_url"`
	Files       string    `json:"files"`
	CompanyA    uuid.UUID `json:"company_a"`
	CompanyB    uuid.UUID `json:"company_b"`
	PortalA     uuid.UUID `json:"portal_a"`
	PortalB     uuid.UUID `json:"portal_b"`
	TechA       fuzzTech  `json:"tech_a"`
	TechB       fuzzTech  `json:"tech_b"`
	TechC       fuzzTech  `json:"tech_c"`
	RequestA    uuid.UUID `json:"request_a"`
	CustomerA   string    `json:"customer_a"`
	FileA       uuid.UUID `json:"file_a"`
	RequestB    uuid.UUID `json:"request_b"`
	CustomerB   string    `json:"customer_b"`
	FileB       uuid.UUID `json:"file_b"`
	// Auditor reads company A; inputs send their session to every route.
	Auditor fuzzAuditor `json:"auditor"`
}

// fuzzAuditor is the fixture's auditor and their session.
type fuzzAuditor struct {
	ID     uuid.UUID `json:"id"`
	Email  string    `json:"email"`
	Bearer string    `json:"bearer"`
}

// fixtureEnv hands the fixture from the fuzzing coordinator to its worker processes (they
// inherit its environment): the workers attach to the coordinator's database instead of
// making their own, so a worker stopped mid-input leaves no database behind.
const fixtureEnv = "HELPSTREAM_ROUTEFUZZ_FIXTURE"

type routeFuzzer struct {
	fx     fuzzFixture
	e      *env
	addr   string
	ops    []fuzzOp
	errLog *httpservertest.ErrorLog

	mu      sync.Mutex
	techs   map[string]*fuzzTech // by name: a, b, c; sessions renewed by heal
	sent    int
	byClass [6]int
}

func newRouteFuzzer(tb testing.TB) *routeFuzzer {
	tb.Helper()
	doc, _ := loadSpec(tb)
	rf := &routeFuzzer{errLog: &httpservertest.ErrorLog{}, ops: operations(doc)}
	if raw := os.Getenv(fixtureEnv); raw != "" && fuzzWorker() {
		if err := json.Unmarshal([]byte(raw), &rf.fx); err != nil {
			tb.Fatalf("%s: %v", fixtureEnv, err)
		}
		rf.e = attachEnv(tb, rf.fx, rf.errLog)
		// Technicians of its own: an input of another worker that logs one out or revokes
		// their access must not break this worker's next scene.
		rf.seedTechnicians(tb, "-"+uuid.NewString()[:8])
	} else {
		svc := servicetest.New(tb, fuzzConfig)
		rf.fx.DatabaseURL, rf.fx.Files = svc.Config().DatabaseURL, svc.Config().FilesDir
		rf.e = startEnv(tb, svc, rf.errLog)
		rf.seed(tb)
		if fuzzing() {
			raw, err := json.Marshal(rf.fx)
			if err != nil {
				tb.Fatal(err)
			}
			os.Setenv(fixtureEnv, string(raw))
			tb.Cleanup(func() { os.Unsetenv(fixtureEnv) })
		}
	}
	rf.addr = strings.TrimPrefix(rf.e.srv.URL, "http://")
	rf.techs = map[string]*fuzzTech{"a": &rf.fx.TechA, "b": &rf.fx.TechB, "c": &rf.fx.TechC}
	return rf
}

func fuzzing() bool    { return flagValue("test.fuzz") != "" }
func fuzzWorker() bool { return flagValue("test.fuzzworker") == "true" }

func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// fuzzConfig is newEnv's Config, except that read-your-writes waits at most 200 ms: a
// generated min_position is often in the future, and the fuzzer would wait 2 s a request.
func fuzzConfig(c *service.Config) {
	apiConfig(c)
	c.MaxProjectionWait = 200 * time.Millisecond
}

// startEnv serves the service's API behind the server serve runs (adapters/httpserver: its
// limits and net/http's own answers are part of what a client meets), with net/http's own log
// (a panic that drops the connection, a handler that answers twice) going to errLog.
func startEnv(tb testing.TB, svc *service.Service, errLog io.Writer) *env {
	tb.Helper()
	api := svc.API
	server, err := httpserver.New(httpserver.Config{Handler: api, MaxBody: maxFileSize + 1<<20}) // as serve has it
	if err != nil {
		tb.Fatal(err)
	}
	server.ErrorLog = log.New(errLog, "", 0)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = server
	srv.Start()
	tb.Cleanup(srv.Close)
	hc := srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Timeout = 30 * time.Second
	return &env{pool: svc.Pool, files: svc.Config().FilesDir, srv: srv, hc: hc}
}

// attachEnv serves the API on the coordinator's database and files, as another process
// whose read models the coordinator keeps.
func attachEnv(tb testing.TB, fx fuzzFixture, errLog io.Writer) *env {
	tb.Helper()
	return startEnv(tb, servicetest.New(tb, fuzzConfig, servicetest.Joining(fx.DatabaseURL, fx.Files)), errLog)
}

// seed makes the fixture through the API.
func (rf *routeFuzzer) seed(tb testing.TB) {
	tb.Helper()
	e, fx := rf.e, &rf.fx
	fx.CompanyA, fx.CompanyB = e.createCompany(tb, "Acme"), e.createCompany(tb, "Globex")
	fx.PortalA, fx.PortalB = e.createPortal(tb, fx.CompanyA, "Acme help"), e.createPortal(tb, fx.CompanyB, "Globex help")
	rf.seedTechnicians(tb, "")
	inChat := func(portal uuid.UUID, tech *fuzzTech) (uuid.UUID, string, uuid.UUID) {
		id, customer := e.submit(tb, portal, uaWindows)
		bearer := &client{e: e, bearer: tech.Bearer}
		bearer.post(tb, reqPath(id, "assign"), nil).want(tb, http.StatusOK)
		bearer.post(tb, reqPath(id, "join"), nil).want(tb, http.StatusOK)
		var up commandResult
		customer.upload(tb, custPath(id, "files"), "screenshot.png", pngFile).want(tb, http.StatusCreated).decode(tb, &up)
		return id, customer.bearer, up.ID
	}
	fx.RequestA, fx.CustomerA, fx.FileA = inChat(fx.PortalA, &fx.TechA)
	fx.RequestB, fx.CustomerB, fx.FileB = inChat(fx.PortalB, &fx.TechB)
	fx.Auditor.Email = "ann@fuzz.example.com"
	fx.Auditor.ID = e.admin().created(tb, "/api/v1/admin/auditors", map[string]any{"name": "Ann Fuzz", "email": fx.Auditor.Email, "password": password})
	e.admin().post(tb, "/api/v1/admin/auditors/"+fx.Auditor.ID.String()+"/access", map[string]any{"company_id": fx.CompanyA.String()}).want(tb, http.StatusOK)
	rf.healAuditor(tb)
}

// healAuditor puts the fixture's auditor back: a valid session, access to company A. Inputs
// change their password (which ends their sessions) and take their company back.
func (rf *routeFuzzer) healAuditor(tb testing.TB) {
	tb.Helper()
	e, au := rf.e, &rf.fx.Auditor
	var me struct {
		Companies []uuid.UUID `json:"companies"`
	}
	res := (&client{e: e, bearer: au.Bearer}).get(tb, "/api/v1/me")
	if res.Status == http.StatusUnauthorized {
		e.admin().json(tb, http.MethodPut, "/api/v1/admin/auditors/"+au.ID.String()+"/password", map[string]any{"password": password}).want(tb, http.StatusOK)
		var lr loginResponse
		e.anonymous().post(tb, "/api/v1/auth/login", map[string]any{"email": au.Email, "password": password}).want(tb, http.StatusOK).decode(tb, &lr)
		au.Bearer = lr.Token
		res = (&client{e: e, bearer: au.Bearer}).get(tb, "/api/v1/me")
	}
	res.want(tb, http.StatusOK).decode(tb, &me)
	if !slices.Contains(me.Companies, rf.fx.CompanyA) {
		e.admin().post(tb, "/api/v1/admin/auditors/"+au.ID.String()+"/access", map[string]any{"company_id": rf.fx.CompanyA.String()}).want(tb, http.StatusOK)
	}
}

// seedTechnicians registers the fixture's three technicians, their e-mail addresses ending
// in suffix.
func (rf *routeFuzzer) seedTechnicians(tb testing.TB, suffix string) {
	tb.Helper()
	e, fx := rf.e, &rf.fx
	for _, tech := range []struct {
		t       *fuzzTech
		name    string
		company uuid.UUID
	}{{&fx.TechA, "Alice Fuzz", fx.CompanyA}, {&fx.TechB, "Bob Fuzz", fx.CompanyB}, {&fx.TechC, "Carol Fuzz", fx.CompanyA}} {
		*tech.t = fuzzTech{Email: strings.ToLower(strings.Fields(tech.name)[0]) + suffix + "@fuzz.example.com", Company: tech.company}
		tech.t.ID = e.registerTechnician(tb, tech.name, tech.t.Email)
		e.grant(tb, tech.t.ID, tech.company)
		rf.heal(tb, tech.t, true)
	}
}

// heal puts a technician back as the fixture has them: their sessions valid (the cookie's
// only when cookie is set), password known, access to their company, Available. Inputs log
// out, change passwords, revoke access and go Away; the next input must not depend on that.
func (rf *routeFuzzer) heal(tb testing.TB, tech *fuzzTech, cookie bool) {
	tb.Helper()
	e := rf.e
	var me struct {
		Availability string      `json:"availability"`
		Companies    []uuid.UUID `json:"companies"`
	}
	login := func() loginResponse {
		var lr loginResponse
		res := e.anonymous().post(tb, "/api/v1/auth/login", map[string]any{"email": tech.Email, "password": password})
		if res.Status == http.StatusUnauthorized {
			e.admin().json(tb, http.MethodPut, "/api/v1/admin/technicians/"+tech.ID.String()+"/password", map[string]any{"password": password}).want(tb, http.StatusOK)
			res = e.anonymous().post(tb, "/api/v1/auth/login", map[string]any{"email": tech.Email, "password": password})
		}
		res.want(tb, http.StatusOK).decode(tb, &lr)
		return lr
	}
	profile := func() *response { return (&client{e: e, bearer: tech.Bearer}).get(tb, "/api/v1/me") }
	res := profile()
	if res.Status == http.StatusUnauthorized {
		tech.Bearer = login().Token
		res = profile()
	}
	res.want(tb, http.StatusOK).decode(tb, &me)
	if cookie && (tech.Cookie == "" || (&client{e: e, cookie: tech.Cookie}).get(tb, "/api/v1/me").Status == http.StatusUnauthorized) {
		lr := login()
		tech.Cookie, tech.CSRF = lr.Token, lr.CSRFToken
	}
	if !slices.Contains(me.Companies, tech.Company) {
		e.grant(tb, tech.ID, tech.Company)
	}
	if me.Availability != "available" {
		(&client{e: e, bearer: tech.Bearer}).setAvailability(tb, "available")
	}
}

// pngFile is a small file every platform may share.
var pngFile = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 48)...)

// ---- one input ----

// scene is an input's own support request, on portal A, in the state the input picks.
type scene struct {
	id       uuid.UUID
	customer string
	platform string
	ua       string
	file     uuid.UUID // a file shared in it, when the state has one
	position string    // where its last command landed
}

var scenePlatforms = []struct{ name, ua string }{{"windows", uaWindows}, {"ios", uaIOS}, {"mac", uaMac}, {"android", uaAndroid}}

// newScene submits the input's request and brings it to one of eight states: new, assigned to
// a, in chat, screen sharing asked (desktops), a file shared, chat ended, closed, assigned to c.
func (rf *routeFuzzer) newScene(t *testing.T, state, platform int) *scene {
	t.Helper()
	e := rf.e
	rf.heal(t, rf.techs["a"], true)
	rf.heal(t, rf.techs["b"], false)
	rf.heal(t, rf.techs["c"], false)
	rf.healAuditor(t)
	p := scenePlatforms[platform]
	sub := e.submission(t, rf.fx.PortalA, p.ua)
	s := &scene{id: sub.RequestID, customer: sub.CustomerToken, platform: p.name, ua: p.ua, position: sub.Position}
	a := &client{e: e, bearer: rf.fx.TechA.Bearer}
	step := func(who *client, sub string) {
		var res commandResult
		who.post(t, reqPath(s.id, sub), nil).want(t, http.StatusOK).decode(t, &res)
		s.position = res.Position
	}
	if state == 0 {
		return s
	}
	if state == 7 {
		step(&client{e: e, bearer: rf.fx.TechC.Bearer}, "assign")
		return s
	}
	step(a, "assign")
	if state == 1 {
		return s
	}
	step(a, "join")
	switch state {
	case 3:
		if p.name == "windows" || p.name == "mac" {
			step(a, "screen-sharing")
		}
	case 4:
		var up commandResult
		(&client{e: e, bearer: s.customer, ua: p.ua}).upload(t, custPath(s.id, "files"), "screenshot.png", pngFile).want(t, http.StatusCreated).decode(t, &up)
		s.file, s.position = up.ID, up.Position
	case 5:
		step(a, "end-chat")
	case 6:
		step(a, "close")
	}
	return s
}

// run plays one input: a scene, then one to three generated requests.
func (rf *routeFuzzer) run(t *testing.T, data []byte) {
	t.Helper()
	in := &fuzzInput{data: data}
	s := rf.newScene(t, in.choose(8), in.choose(len(scenePlatforms)))
	if t.Failed() {
		t.FailNow() // the scene itself failed: the harness said why
	}
	n := 1 + in.choose(3)
	for i := range n {
		req := rf.generate(in, s, i)
		rf.exchange(t, req)
	}
}

// ---- reading the input ----

// fuzzInput hands out the input's bytes as choices; an input that runs out chooses 0.
type fuzzInput struct {
	data []byte
	pos  int
}

func (in *fuzzInput) byte() byte {
	if in.pos >= len(in.data) {
		return 0
	}
	b := in.data[in.pos]
	in.pos++
	return b
}

// choose returns a choice in [0, n).
func (in *fuzzInput) choose(n int) int {
	if n <= 1 {
		return 0
	}
	if n <= 256 {
		return int(in.byte()) % n
	}
	return (int(in.byte())<<8 | int(in.byte())) % n
}

// take returns up to max of the input's bytes, as many as the next byte says.
func (in *fuzzInput) take(max int) []byte {
	n := in.choose(max + 1)
	out := make([]byte, 0, n)
	for range n {
		if in.pos >= len(in.data) {
			break
		}
		out = append(out, in.byte())
	}
	return out
}

func pick[T any](in *fuzzInput, options ...T) T { return options[in.choose(len(options))] }

// ---- the operations of the document ----

type fuzzOp struct {
	method   string
	path     string // the template, /api/v1/requests/{requestID}
	params   []*openapi3.Parameter
	body     *openapi3.Schema // the JSON body's schema, if any
	upload   bool             // a multipart/form-data file upload
	security []string         // the schemes that open it, in the document's order
}

func (o *fuzzOp) String() string { return o.method + " " + o.path }

// operations lists the document's operations in a stable order.
func operations(doc *openapi3.T) []fuzzOp {
	var ops []fuzzOp
	paths := doc.Paths.Map()
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item := paths[path]
		methods := item.Operations()
		for _, m := range slices.Sorted(maps.Keys(methods)) {
			op := methods[m]
			fo := fuzzOp{method: m, path: path}
			for _, list := range []openapi3.Parameters{item.Parameters, op.Parameters} {
				for _, p := range list {
					fo.params = append(fo.params, p.Value)
				}
			}
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
					fo.body = mt.Schema.Value
				}
				fo.upload = rb.Value.Content.Get("multipart/form-data") != nil
			}
			security := op.Security
			if security == nil {
				security = &doc.Security
			}
			for _, req := range *security {
				for name := range req {
					fo.security = append(fo.security, name)
				}
			}
			ops = append(ops, fo)
		}
	}
	return ops
}

// ---- generating a request ----

// fuzzRequest is one request as it goes on the wire.
type fuzzRequest struct {
	op      *fuzzOp // nil off the document
	label   string  // what the request is, when op is nil
	method  string
	target  string
	headers [][2]string // sent in this order, as they are
	body    []byte
	chunked bool
}

// generate builds the input's next request against scene s; i numbers it within the input.
func (rf *routeFuzzer) generate(in *fuzzInput, s *scene, i int) *fuzzRequest {
	k := in.choose(len(rf.ops) + 1)
	req := &fuzzRequest{}
	if k < len(rf.ops) {
		req.op = &rf.ops[k]
		req.method = rf.method(in, req.op.method)
		req.target = rf.path(in, s, req.op) + rf.query(in, s, req.op)
	} else {
		req.method = rf.method(in, pick(in, "GET", "POST", "PUT", "DELETE"))
		req.target = rf.offDocument(in)
	}
	rf.authorize(in, s, req)
	rf.commandHeaders(in, s, req, i)
	rf.body(in, s, req)
	rf.otherHeaders(in, s, req)
	req.chunked = in.choose(8) == 7
	return req
}

func (rf *routeFuzzer) method(in *fuzzInput, documented string) string {
	switch in.choose(16) {
	case 13:
		return pick(in, "GET", "POST", "PUT", "DELETE")
	case 14:
		return pick(in, "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT")
	case 15:
		return pick(in, strings.ToLower(documented), "G\x00T", "POST\xff", "X-"+strconv.Itoa(in.choose(100)), strings.Repeat("P", 300))
	}
	return documented
}

// path fills the template's parameters: the scene's own IDs, another company's, IDs of the
// wrong kind, random UUIDs, other spellings of a valid UUID, and garbage, escaped or raw.
func (rf *routeFuzzer) path(in *fuzzInput, s *scene, op *fuzzOp) string {
	path := op.path
	for _, p := range op.params {
		if p.In != openapi3.ParameterInPath {
			continue
		}
		path = strings.Replace(path, "{"+p.Name+"}", rf.pathValue(in, s, p.Name), 1)
	}
	return path
}

func (rf *routeFuzzer) pathValue(in *fuzzInput, s *scene, name string) string {
	fx := rf.fx
	own, other, wrong := uuid.Nil, uuid.Nil, uuid.Nil
	switch name {
	case "requestID":
		own, other, wrong = s.id, fx.RequestB, fx.PortalA
	case "fileID":
		own, other, wrong = s.file, fx.FileB, s.id
		if own == uuid.Nil {
			own = fx.FileA // a file of another request of the same company
		}
	case "portalID":
		own, other, wrong = fx.PortalA, fx.PortalB, fx.CompanyA
	case "companyID":
		own, other, wrong = fx.CompanyA, fx.CompanyB, fx.PortalA
	case "auditorID":
		own, other, wrong = fx.Auditor.ID, fx.TechB.ID, fx.CompanyA
	case "technicianID":
		own, other, wrong = fx.TechC.ID, fx.TechB.ID, fx.CompanyA
	}
	switch in.choose(12) {
	case 1:
		return other.String()
	case 2:
		return wrong.String()
	case 3:
		var b [16]byte
		for i := range b {
			b[i] = in.byte()
		}
		return uuid.UUID(b).String()
	case 4:
		return pick(in, uuid.Nil.String(), "ffffffff-ffff-ffff-ffff-ffffffffffff", uuid.Max.String())
	case 5:
		return pick(in, strings.ToUpper(own.String()), "urn:uuid:"+own.String(), "%7B"+own.String()+"%7D",
			strings.ReplaceAll(own.String(), "-", ""), own.String()+"%00", own.String()+"/", url.PathEscape(own.String()+" "))
	case 6:
		return url.PathEscape(string(in.take(40)))
	case 7:
		return rawTarget(in.take(40))
	case 8:
		return strings.Repeat(pick(in, "a", "%C3%A9", "%00", "../"), 1+in.choose(4000))
	case 9:
		return pick(in, "", ".", "..", "%2e%2e", "..%2f..%2fadmin", "%2F", "%", "%zz", "%ff%fe")
	}
	return own.String()
}

// rawTarget writes bytes into a request target as they are, except the three that would end
// the request line (the target is still one target, whatever else it holds).
func rawTarget(b []byte) string {
	r := strings.NewReplacer(" ", "%20", "\r", "%0D", "\n", "%0A")
	return r.Replace(string(b))
}

// query adds the operation's query parameters (each absent, valid, at a bound, or garbage),
// and sometimes an unknown one, a repeated one or a broken query.
func (rf *routeFuzzer) query(in *fuzzInput, s *scene, op *fuzzOp) string {
	var parts []string
	for _, p := range op.params {
		if p.In != openapi3.ParameterInQuery {
			continue
		}
		var schema *openapi3.Schema
		if p.Schema != nil {
			schema = p.Schema.Value
		}
		var v string
		switch in.choose(8) {
		case 4:
			v = url.QueryEscape(rf.validParam(in, s, p.Name, schema))
		case 5:
			v = url.QueryEscape(pick(in, "", "0", "-1", "201", "2147483648", "9223372036854775808", "1e3", "0x10", " 1", "+1", "01",
				"true", "TRUE", "null", "0-0", "1-", "-1-1", "18446744073709551615-18446744073709551615", "9223372036854775807-0",
				strings.Repeat("x", 2001), "\x00", "\xff", "é"))
		case 6:
			v = url.QueryEscape(string(in.take(60)))
		case 7:
			v = rawTarget(in.take(60))
		default:
			continue
		}
		parts = append(parts, p.Name+"="+v)
		if in.choose(16) == 15 {
			parts = append(parts, p.Name+"="+v) // the same parameter twice
		}
	}
	switch in.choose(8) {
	case 6:
		parts = append(parts, pick(in, "unknown=1", "limit", "=", "&", "%zz=1", "q=%", "view=all;sort=id", "a[]=1&a[]=2"))
	case 7:
		parts = append(parts, rawTarget(in.take(40)))
	}
	if len(parts) == 0 {
		if in.choose(16) == 15 {
			return "?"
		}
		return ""
	}
	return "?" + strings.Join(parts, "&")
}

// validParam is a valid value for a query parameter: an enum value, a number in range, the
// scene's own IDs and positions.
func (rf *routeFuzzer) validParam(in *fuzzInput, s *scene, name string, schema *openapi3.Schema) string {
	switch name {
	case "min_position":
		return s.position
	case "company":
		return pick(in, rf.fx.CompanyA, rf.fx.CompanyB).String()
	case "assignee":
		return pick(in, rf.fx.TechA.ID, rf.fx.TechC.ID, rf.fx.TechB.ID).String()
	case "q":
		return pick(in, "printer", "Ada", "ada@example.com", "%", "_", "fire on")
	case "cursor":
		return pick(in, "eyJ4IjoxfQ", "abc", "MTIzNA")
	}
	if schema == nil {
		return "1"
	}
	if len(schema.Enum) > 0 {
		return fmt.Sprint(schema.Enum[in.choose(len(schema.Enum))])
	}
	switch {
	case schema.Type.Is("integer"):
		return pick(in, "1", "50", "200", "0")
	case schema.Type.Is("boolean"):
		return pick(in, "true", "false")
	}
	return "x"
}

// offDocument is a target no operation has: unknown routes, unclean paths, other forms of
// the request target.
func (rf *routeFuzzer) offDocument(in *fuzzInput) string {
	switch in.choose(4) {
	case 1:
		return "/api/v1/" + rawTarget(in.take(60))
	case 2:
		return "/" + url.PathEscape(string(in.take(60)))
	case 3:
		return "/api/v1/requests/" + rf.fx.RequestA.String() + "/" + rawTarget(in.take(30))
	}
	return pick(in, "/api/v1/nowhere", "//api/v1/me", "/API/V1/ME", "/api/v1/me/", "/api/v1/./me", "/api/v1/requests/../me",
		"*", "http://127.0.0.1/api/v1/me", "/api/v1/me?%zz", "/api/v1/me#frag", "/api/v1", "/api/v1/openapi.yaml/x",
		"/api/v1/requests/"+rf.fx.RequestA.String()+"/files/", "/healthz/")
}

// authorize adds the credentials: the operation's own scheme (choice 0), its other one, none,
// another company's technician, another request's customer, the admin, and broken ones.
func (rf *routeFuzzer) authorize(in *fuzzInput, s *scene, req *fuzzRequest) {
	a := rf.techs["a"]
	scheme := func(name string) {
		switch name {
		case "sessionToken":
			if req.op != nil && strings.HasPrefix(req.op.path, "/api/v1/audit/") {
				req.header("Authorization", "Bearer "+rf.fx.Auditor.Bearer) // only auditors read it
				break
			}
			req.header("Authorization", "Bearer "+a.Bearer)
		case "sessionCookie":
			req.header("Cookie", httpapi.SessionCookie+"="+a.Cookie)
			req.header("X-CSRF-Token", a.CSRF)
		case "customerToken":
			req.header("Authorization", "Bearer "+s.customer)
		case "adminToken":
			req.header("Authorization", "Bearer "+adminToken)
		}
	}
	var security []string
	if req.op != nil {
		security = req.op.security
	}
	choice := in.choose(12)
	switch {
	case choice == 0 && len(security) > 0:
		scheme(security[0])
	case choice == 1 && len(security) > 0:
		scheme(security[len(security)-1])
	case choice <= 2:
	case choice == 3:
		// Another company's technician, or an auditor, who reads and never writes.
		req.header("Authorization", "Bearer "+pick(in, rf.techs["b"].Bearer, rf.fx.Auditor.Bearer))
	case choice == 4:
		req.header("Authorization", "Bearer "+pick(in, rf.fx.CustomerB, rf.fx.CustomerA))
	case choice == 5:
		scheme(pick(in, "adminToken", "sessionToken", "customerToken", "sessionCookie"))
	case choice == 6:
		req.header("Authorization", "Bearer "+string(in.take(64)))
	case choice == 7:
		req.header("Authorization", "Bearer "+pick(in, a.Bearer, s.customer, adminToken)+string(in.take(8)))
	case choice == 8:
		tok := pick(in, a.Bearer, s.customer, adminToken)
		req.header("Authorization", pick(in, "bearer  "+tok, "Bearer\t"+tok, "Basic "+base64.StdEncoding.EncodeToString([]byte("admin:"+tok)),
			"Bearer", "Bearer ", "Token "+tok, "Bearer "+tok+" "+tok, "BEARER "+tok))
	case choice == 9:
		req.header("Authorization", "Bearer "+strings.Repeat(pick(in, "a", "\x00", "\xff", "é"), 1+in.choose(20000)))
	case choice == 10:
		req.header("Cookie", httpapi.SessionCookie+"="+a.Cookie)
		switch in.choose(4) {
		case 1:
			req.header("X-CSRF-Token", a.CSRF+"x")
		case 2:
			req.header("X-CSRF-Token", string(in.take(40)))
		case 3:
			req.header("X-CSRF-Token", a.Bearer)
		}
	case choice == 11:
		req.header("Cookie", pick(in, httpapi.SessionCookie+"="+string(in.take(40)), httpapi.SessionCookie+"=", "=;;;", httpapi.SessionCookie+"=\""+a.Cookie+"\"",
			httpapi.SessionCookie+"="+a.Cookie+"; "+httpapi.SessionCookie+"=x", string(in.take(60))))
		req.header("X-CSRF-Token", a.CSRF)
	}
}

// commandHeaders adds Idempotency-Key and X-Correlation-ID. Keys are scoped to the scene (its
// request's ID) so that no input replays another's answer; two requests of one input may
// share one.
func (rf *routeFuzzer) commandHeaders(in *fuzzInput, s *scene, req *fuzzRequest, i int) {
	scope := s.id.String()[:8] + "-"
	switch in.choose(10) {
	case 3:
		req.header("Idempotency-Key", scope+strconv.Itoa(in.choose(2)))
	case 4:
		req.header("Idempotency-Key", scope+string(in.take(40)))
	case 5:
		req.header("Idempotency-Key", strings.Repeat("k", pick(in, 200, 201, 10_000, 100_000)))
	case 6:
		req.header("Idempotency-Key", pick(in, " ", "\t", scope+" "))
	case 7:
		req.header("Idempotency-Key", scope+pick(in, "\x00", "a\x00b", "\x7f", "\x01"))
	case 8:
		req.header("Idempotency-Key", scope+pick(in, "\xff", "\xc3\x28", "\xed\xa0\x80", "é", "\u202e"))
	case 9:
		req.header("Idempotency-Key", scope+"1")
		req.header("Idempotency-Key", scope+"2")
	}
	switch in.choose(8) {
	case 3:
		req.header("X-Correlation-ID", s.id.String()+"-"+strconv.Itoa(i))
	case 4:
		req.header("X-Correlation-ID", string(in.take(60)))
	case 5:
		req.header("X-Correlation-ID", strings.Repeat(pick(in, "é", "a", "😀"), 30+in.choose(40))) // cut at 100 bytes
	case 6:
		req.header("X-Correlation-ID", pick(in, "\x00", "\xff\xfe", "a\x00b", strings.Repeat("c", 100_000)))
	case 7:
		req.header("X-Correlation-ID", "")
	}
}

// body adds the body and its Content-Type: valid for the operation (choice 0), then mutated
// (raw bytes in a string, a wrong type, a missing or extra field, NUL, too large) or not JSON.
func (rf *routeFuzzer) body(in *fuzzInput, s *scene, req *fuzzRequest) {
	ct := ""
	switch {
	case req.op != nil && req.op.upload:
		ct = rf.multipart(in, s, req)
	case req.op != nil && req.op.body != nil:
		req.body, ct = rf.jsonBody(in, s, req.op), "application/json"
	default:
		switch in.choose(6) {
		case 4:
			req.body, ct = []byte(`{"x":1}`), "application/json"
		case 5:
			req.body = in.take(200)
		}
	}
	switch in.choose(12) {
	case 1:
		ct = ""
	case 2:
		ct = pick(in, "application/json; charset=utf-16", "application/json; charset=utf-8", "APPLICATION/JSON", "application/json;;", "application/json; x=\"")
	case 3:
		ct = pick(in, "text/plain", "application/x-www-form-urlencoded", "application/xml", "*/*", "application/", "json")
	case 4:
		ct = pick(in, "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"", "multipart/mixed; boundary=fuzzb0undary",
			"multipart/form-data; boundary="+strings.Repeat("b", 100))
	case 5:
		ct = string(in.take(60))
	case 6:
		ct += string(in.take(20))
	case 7:
		ct = strings.Repeat("application/json;a=b", 1+in.choose(3000))
	}
	if ct != "" {
		req.header("Content-Type", ct)
	}
}

// jsonBody is a body valid for the operation's schema, mutated as the input says.
func (rf *routeFuzzer) jsonBody(in *fuzzInput, s *scene, op *fuzzOp) []byte {
	schema := op.body
	fields := map[string]any{}
	names := make([]string, 0, len(schema.Properties))
	for name := range schema.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if slices.Contains(schema.Required, name) || in.choose(2) == 0 {
			fields[name] = rf.validField(in, s, op, name, schema.Properties[name].Value)
		}
	}
	field := ""
	if len(names) > 0 {
		field = names[in.choose(len(names))]
	}
	encode := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
	switch in.choose(16) {
	case 1: // raw bytes inside a string: invalid UTF-8 and control characters as they are
		raw := strings.NewReplacer(`"`, `\"`, `\`, `\\`).Replace(string(in.take(80)))
		fields[field] = "\x00RAW\x00"
		return bytes.Replace(encode(fields), []byte(`"\u0000RAW\u0000"`), []byte(`"`+raw+`"`), 1)
	case 2:
		fields[field] = pick[any](in, "a\u0000b", "\u0000", "line\r\nbreak", "\u202eevil", "\ufeff", "\t", " ", "\u2028")
	case 3:
		fields[field] = pick[any](in, 1, 1.5, -1e308, true, false, nil, []any{}, map[string]any{}, []any{"x"}, "1")
	case 4:
		delete(fields, field)
	case 5:
		fields[pick(in, "extra", "Body", "BODY", "__proto__", "", field+" ")] = "x"
	case 6:
		fields[field] = strings.Repeat(pick(in, "a", "é", "😀", "\\"), pick(in, 201, 10_001, 70_000))
	case 7:
		return in.take(300)
	case 8:
		return nil
	case 9:
		return []byte(pick(in, "null", "[]", "[{}]", "1", `"x"`, "true", "{}", "{", "}", `{"a":}`, "\ufeff{}", " "))
	case 10: // the same key twice, the second one broken
		b := encode(fields)
		return append(b[:len(b)-1], []byte(`,"`+field+`":`+pick(in, "1", "null", `"\u0000"`, `"\ud800"`, `"ok"`)+"}")...)
	case 11:
		return []byte(strings.Repeat("[", pick(in, 100, 10_001, 60_000)))
	case 12:
		return append(encode(fields), pick(in, " {}", "x", "\x00", "\n\n", ",")...)
	case 13:
		fields[field] = pick[any](in, "\\ud800", "\\udc00x", "\\u0000")
		return bytes.ReplaceAll(encode(fields), []byte(`\\u`), []byte(`\u`)) // lone surrogates and NUL as escapes
	case 14:
		b := encode(fields)
		return bytes.ReplaceAll(b, []byte(`":`), []byte(`" :`+string(in.take(4))))
	}
	return encode(fields)
}

// validField is a value the operation accepts for the field.
func (rf *routeFuzzer) validField(in *fuzzInput, s *scene, op *fuzzOp, name string, schema *openapi3.Schema) any {
	scoped := s.id.String()[:8]
	switch name {
	case "email":
		switch {
		case schema != nil && schema.Type.Is("boolean"):
			return in.choose(2) == 0
		case op.path == "/api/v1/auth/login":
			return pick(in, rf.fx.TechA.Email, rf.fx.TechC.Email, "nobody@example.com", strings.ToUpper(rf.fx.TechA.Email))
		}
		return "tech-" + scoped + "@fuzz.example.com"
	case "password":
		if op.path == "/api/v1/auth/login" {
			return pick(in, password, "wrong password", "")
		}
		return password
	case "customer_name":
		return "Ada Customer"
	case "customer_email":
		return "ada@example.com"
	case "description":
		return "My printer is on fire"
	case "device_type":
		return pick(in, s.platform, "windows", "ios", "linux", "")
	case "os", "os_version", "browser":
		return pick(in, "Windows", "11", "Edge")
	case "body":
		return "Hello from " + scoped
	case "profile":
		return "Corporate Wi-Fi"
	case "technician_id":
		return pick(in, rf.fx.TechC.ID, rf.fx.TechB.ID, rf.fx.TechA.ID, rf.fx.CompanyA).String()
	case "company_id":
		return pick(in, rf.fx.CompanyA, rf.fx.CompanyB, rf.fx.PortalA).String()
	case "webhook_url":
		return pick[any](in, "https://example.com/hook", "", nil, "javascript:alert(1)", "http://169.254.169.254/")
	case "name":
		return "Fuzz " + scoped
	}
	if schema != nil {
		if len(schema.Enum) > 0 {
			return schema.Enum[in.choose(len(schema.Enum))]
		}
		switch {
		case schema.Type.Is("boolean"):
			return in.choose(2) == 0
		case schema.Type.Is("integer"):
			return 1
		}
	}
	return "x"
}

// multipart is an upload body: the file part valid for the scene (choice 0), or its name,
// file name or content changed, or the envelope broken.
func (rf *routeFuzzer) multipart(in *fuzzInput, s *scene, req *fuzzRequest) string {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary("fuzzb0undary"); err != nil {
		panic(err)
	}
	part, name, filename, content := "file", "", "screenshot.png", pngFile
	extra := false
	switch in.choose(12) {
	case 1:
		part = pick(in, "File", "files", "", "file\x00", "csrf_token")
	case 2:
		filename = pick(in, "", ".", "..", "/", "a/../../etc/passwd", `C:\Windows\evil.png`, "a\x00.png", "\xff\xfe.png", "a.PNG", "a.png.exe",
			strings.Repeat("a", 300)+".png", "\".png", "a\r\n.png", ".png", "é.png")
	case 3:
		filename = pick(in, "setup.exe", "notes.txt", "report.pdf", "archive.zip", "photo.jpg", "a.svg", "a.html")
		content = in.take(200)
	case 4:
		content = in.take(200)
	case 5:
		content = nil
	case 6:
		content = bytes.Repeat([]byte{0}, pick(in, maxFileSize, maxFileSize+1, maxFileSize+100<<10))
	case 7:
		extra = true
	case 8:
		name = string(in.take(40))
	case 9: // not a multipart body at all
		req.body = in.take(300)
		return w.FormDataContentType()
	case 10: // cut short, or without its closing boundary
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", `form-data; name="file"; filename="screenshot.png"`)
		p, _ := w.CreatePart(h)
		p.Write(pngFile)
		req.body = buf.Bytes()[:in.choose(buf.Len()+1)]
		return w.FormDataContentType()
	case 11:
		req.body = append([]byte("--fuzzb0undary\r\n"), in.take(300)...)
		return w.FormDataContentType()
	}
	if extra {
		w.WriteField("note", string(in.take(30)))
	}
	h := make(textproto.MIMEHeader)
	disposition := fmt.Sprintf(`form-data; name=%q; filename=%q`, part, filename)
	if name != "" {
		disposition = "form-data; " + name
	}
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Type", pick(in, "application/octet-stream", "image/png", "text/html", string(in.take(20))))
	p, err := w.CreatePart(h)
	if err != nil {
		panic(err)
	}
	p.Write(content)
	if extra {
		p2, _ := w.CreateFormFile("file", "second.png")
		p2.Write(pngFile)
	}
	w.Close()
	req.body = buf.Bytes()
	return w.FormDataContentType()
}

// otherHeaders adds the User-Agent (the scene's, by default), and sometimes a stray header,
// a header block over net/http's limit, or proxy headers.
func (rf *routeFuzzer) otherHeaders(in *fuzzInput, s *scene, req *fuzzRequest) {
	switch in.choose(8) {
	case 5:
		req.header("User-Agent", string(in.take(60)))
	case 6:
		req.header("User-Agent", pick(in, uaIOS, uaAndroid, uaMac, "", strings.Repeat("Mozilla ", 5000)))
	case 7:
	default:
		req.header("User-Agent", s.ua)
	}
	switch in.choose(16) {
	case 12:
		req.header("X-Forwarded-For", pick(in, "1.2.3.4", "::1, 10.0.0.1", "\xff", string(in.take(30))))
	case 13:
		req.header(pick(in, "Accept", "Accept-Encoding", "Origin", "Referer", "X-Requested-With", "Expect", "Range", "If-None-Match"), string(in.take(40)))
	case 14:
		req.header("X-Fuzz-"+strconv.Itoa(in.choose(100)), string(in.take(60)))
	case 15:
		req.header("X-Large", strings.Repeat("h", pick(in, 100_000, 1<<20+1)))
	}
}

func (r *fuzzRequest) header(name, value string) {
	r.headers = append(r.headers, [2]string{name, value})
}

// wire is the request as bytes: framing first (so that nothing a header holds can change
// where the request ends), then the generated headers and the body. CR and LF in a header
// value become spaces: they would end the header, which is framing, not content.
func (r *fuzzRequest) wire() []byte {
	var b bytes.Buffer
	b.WriteString(r.method + " " + r.target + " HTTP/1.1\r\n")
	b.WriteString("Host: 127.0.0.1\r\nConnection: close\r\n")
	switch {
	case r.chunked:
		b.WriteString("Transfer-Encoding: chunked\r\n")
	case r.body != nil || r.method == "POST" || r.method == "PUT":
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.body))
	}
	line := strings.NewReplacer("\r", " ", "\n", " ")
	for _, h := range r.headers {
		b.WriteString(line.Replace(h[0]) + ": " + line.Replace(h[1]) + "\r\n")
	}
	b.WriteString("\r\n")
	if r.chunked {
		for rest := r.body; len(rest) > 0; {
			n := min(len(rest), 1000)
			fmt.Fprintf(&b, "%x\r\n", n)
			b.Write(rest[:n])
			b.WriteString("\r\n")
			rest = rest[n:]
		}
		b.WriteString("0\r\n\r\n")
	} else {
		b.Write(r.body)
	}
	return b.Bytes()
}

// ---- sending and judging ----

// answer is what came back on the connection.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	bodyErr error // the body was cut short
}

// fromHandler tells the handler's answers from net/http's own: net/http answers what never
// reaches the handler (a malformed request line or header, 431) in plain text, without the
// headers the handler sets on everything.
func (a *answer) fromHandler() bool { return a.header.Get("Content-Security-Policy") != "" }

// exchange sends the request and fails the test unless the answer is 2xx, 3xx or 4xx, the
// handler's own 4xx in the error shape, and net/http logged no panic.
func (rf *routeFuzzer) exchange(t *testing.T, req *fuzzRequest) {
	t.Helper()
	wire := req.wire()
	rf.errLog.Reset()
	res, err := sendRaw(rf.addr, wire, req.method)
	logged := rf.errLog.String()
	what := func() string {
		op := "off the document"
		switch {
		case req.op != nil:
			op = req.op.String()
		case req.label != "":
			op = req.label
		}
		return fmt.Sprintf("operation %s\nrequest (%d bytes): %s", op, len(wire), quoteTruncated(wire))
	}
	if err != nil && (req.body != nil || req.chunked) {
		// net/http refuses a malformed head and closes the connection at once, without reading
		// the body: the unread body resets the connection, and the reset can overtake the
		// answer. The same head without a body tells whether that is what happened.
		head := *req
		head.body, head.chunked = nil, false
		if probe, perr := sendRaw(rf.addr, head.wire(), req.method); perr == nil && !probe.fromHandler() && probe.status >= 400 && probe.status < 500 {
			res, err = probe, nil
		}
	}
	if err != nil {
		t.Fatalf("%s\nno answer: %v\nserver log: %s", what(), err, logged)
	}
	rf.mu.Lock()
	rf.sent++
	rf.byClass[min(res.status/100, 5)]++
	rf.mu.Unlock()
	answer := fmt.Sprintf("%d %s %s", res.status, res.header.Get("Content-Type"), quoteTruncated(res.body))
	switch {
	case res.status >= 500 || res.status < 200:
		t.Fatalf("%s\nanswered %s\nserver log: %s", what(), answer, logged)
	case strings.Contains(logged, "panic"):
		t.Fatalf("%s\nanswered %s, and the server panicked: %s", what(), answer, logged)
	case strings.Contains(logged, "superfluous"):
		// A handler that answers twice had a second answer (an error, usually) thrown away.
		t.Fatalf("%s\nanswered %s, but the handler tried to answer twice: %s", what(), answer, logged)
	case res.bodyErr != nil && res.fromHandler():
		t.Fatalf("%s\nanswered %s, cut short: %v\nserver log: %s", what(), answer, res.bodyErr, logged)
	}
	if res.status >= 400 && res.fromHandler() && req.method != http.MethodHead {
		if err := checkErrorShape(spec, &response{Status: res.status, Header: res.header, Body: res.body}); err != nil {
			t.Fatalf("%s\nanswered %s\nnot in the error shape: %v", what(), answer, err)
		}
	}
}

// sendRaw writes the request, as bytes no client library would send, on a new connection to
// addr while reading the answer, so that an answer sent before the body was read (a refused
// upload) is still read. It fails only when no answer came; a body cut short is in the answer.
func sendRaw(addr string, wire []byte, method string) (*answer, error) {
	const timeout = 8 * time.Second
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	go conn.Write(wire) // ends with an error when the server closes first; the answer says why
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	for err == nil && res.StatusCode >= 100 && res.StatusCode < 200 { // 100 Continue: the answer follows
		res, err = http.ReadResponse(br, &http.Request{Method: method})
	}
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return &answer{status: res.StatusCode, header: res.Header, body: body, bodyErr: err}, nil
}

// quoteTruncated quotes bytes for a failure message, runs of one byte shortened to ×count
// and the middle of a long request left out.
func quoteTruncated(b []byte) string {
	var out strings.Builder
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] == b[i] {
			j++
		}
		if j-i >= 32 {
			fmt.Fprintf(&out, "%s×%d", strconv.Quote(string(b[i:i+1])), j-i)
			i = j
			continue
		}
		k := i
		for k < len(b) && (k+32 > len(b) || !bytes.Equal(b[k:k+32], bytes.Repeat(b[k:k+1], 32))) {
			k++
		}
		out.WriteString(strconv.Quote(string(b[i:k])))
		i = k
	}
	s := out.String()
	if len(s) > 6000 {
		s = s[:4000] + fmt.Sprintf(" …(%d characters left out)… ", len(s)-5000) + s[len(s)-1000:]
	}
	return s
}
