package httpapi_test

// Accounts: login throttling per e-mail address and per client address, the lockout an
// administrator lifts, and the sessions a password change or an access revocation ends. The
// throttle's clock is a hand-moved one, so that a 15-minute window passes in no time; the
// servers take the client address from X-Forwarded-For, so that one test plays many clients.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpapi"
	"github.com/helpstream/helpstream/adapters/httpserver/httpservertest"
	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// newThrottledEnvs starts n API servers on one fresh database, as n serve processes would
// run, each with its own credentials store and Accounts; their logins are throttled by the
// default policy on the clock returned, and they trust X-Forwarded-For.
func newThrottledEnvs(t *testing.T, n int) ([]*env, *httpservertest.Clock) {
	t.Helper()
	loadSpec(t)
	svc := servicetest.New(t, apiConfig)
	a, pool, dir := svc.App, svc.Pool, svc.Config().FilesDir
	clk := httpservertest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	envs := make([]*env, n)
	for i := range envs {
		creds := credentials.New(pool)
		accounts := app.NewAccounts(a, creds, 0).WithLoginPolicy(app.LoginPolicy{Now: clk.Now})
		api, err := httpapi.New(httpapi.Config{App: a, Accounts: accounts, Idempotency: creds, AdminToken: adminToken, TrustProxyHeaders: true})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		hc := srv.Client()
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		hc.Timeout = 30 * time.Second
		envs[i] = &env{pool: pool, files: dir, srv: srv, hc: hc}
	}
	return envs, clk
}

// newThrottledEnv is newThrottledEnvs with one server.
func newThrottledEnv(t *testing.T) (*env, *httpservertest.Clock) {
	t.Helper()
	envs, clk := newThrottledEnvs(t, 1)
	return envs[0], clk
}

// loginFrom sends a login as the client at ip.
func loginFrom(t *testing.T, e *env, ip, email, pw string) *response {
	t.Helper()
	return e.anonymous().post(t, "/api/v1/auth/login", map[string]any{"email": email, "password": pw}, header("X-Forwarded-For", ip))
}

// loginAnswer is what a login answered, as a client sees it.
type loginAnswer struct {
	status     int
	code       string
	message    string
	retryAfter string
}

func (a loginAnswer) String() string {
	return fmt.Sprintf("%d %s %q Retry-After=%q", a.status, a.code, a.message, a.retryAfter)
}

func loginAnswerOf(t *testing.T, r *response) loginAnswer {
	t.Helper()
	a := loginAnswer{status: r.Status, retryAfter: r.Header.Get("Retry-After")}
	if r.Status >= 400 {
		er := r.err(t)
		a.code, a.message = er.Code, er.Message
	}
	return a
}

const wrongPassword = "not the password"

// The attempts of the default policy: 5 free failures, then a window of 10 s after each
// failure that doubles up to 15 min, and a lockout at the 20th failure.
var (
	wrong    = loginAnswer{status: http.StatusUnauthorized, code: "unauthorized", message: app.ErrBadCredentials.Error()}
	lockedUp = loginAnswer{status: http.StatusLocked, code: "account_locked", message: app.ErrAccountLocked.Error()}
)

func throttled(seconds int) loginAnswer {
	return loginAnswer{status: http.StatusTooManyRequests, code: "too_many_attempts", retryAfter: strconv.Itoa(seconds),
		message: fmt.Sprintf("too many failed logins for this e-mail address; try again in %d seconds", seconds)}
}

// The finding: 30 wrong passwords in 2 s, then the right one worked at once. Now the
// sixth attempt is refused with 429 and Retry-After, the right password too (it is not
// checked) until the window passes, and then it works.
func TestLoginThrottleThirtyWrongThenRight(t *testing.T) {
	t.Parallel()
	e, clk := newThrottledEnv(t)
	e.registerTechnician(t, "Alice Tech", "alice@example.com")
	const ip = "198.51.100.7"

	for i := range 30 {
		got := loginAnswerOf(t, loginFrom(t, e, ip, "alice@example.com", wrongPassword))
		want := wrong
		if i >= 5 {
			want = throttled(10)
		}
		if got != want {
			t.Fatalf("wrong password #%d: %v, want %v", i+1, got, want)
		}
	}
	if got := loginAnswerOf(t, loginFrom(t, e, ip, "Alice@Example.com ", password)); got != throttled(10) {
		t.Fatalf("the right password at once (another spelling of the address): %v, want %v", got, throttled(10))
	}
	clk.Advance(9 * time.Second)
	if got := loginAnswerOf(t, loginFrom(t, e, ip, "alice@example.com", password)); got != throttled(1) {
		t.Fatalf("the right password 9 s later: %v, want %v", got, throttled(1))
	}
	clk.Advance(time.Second)
	loginFrom(t, e, ip, "alice@example.com", password).want(t, http.StatusOK)
}

// lockOut sends wrong passwords for email from ip until it answers anything but 401 or 429,
// waiting out each window on the clock, and returns what every attempt answered.
func lockOut(t *testing.T, e *env, clk *httpservertest.Clock, ip, email string) []loginAnswer {
	t.Helper()
	var got []loginAnswer
	for len(got) < 100 {
		a := loginAnswerOf(t, loginFrom(t, e, ip, email, wrongPassword))
		got = append(got, a)
		switch a.status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			seconds, err := strconv.Atoi(a.retryAfter)
			if err != nil {
				t.Fatalf("429 with Retry-After %q", a.retryAfter)
			}
			clk.Advance(time.Duration(seconds) * time.Second)
		default:
			return got
		}
	}
	t.Fatalf("no lockout after %d attempts", len(got))
	return nil
}

// The window doubles with each failure up to the cap, the 20th failure locks the address for
// good (waiting does not lift it, the right password does not either), and an unknown address
// goes through exactly the same answers: nothing tells the two apart. The unlock route lets
// the technician in again.
func TestLoginBackoffLockoutAndUnlockRoute(t *testing.T) {
	t.Parallel()
	e, clk := newThrottledEnv(t)
	bob := e.registerTechnician(t, "Bob Tech", "bob@example.com")

	var want []loginAnswer
	for range 5 {
		want = append(want, wrong)
	}
	for _, seconds := range []int{10, 20, 40, 80, 160, 320, 640, 900, 900, 900, 900, 900, 900, 900, 900} {
		want = append(want, throttled(seconds), wrong)
	}
	want = append(want, lockedUp)

	for _, c := range []struct{ name, ip, email string }{
		{"known address", "198.51.100.20", "bob@example.com"},
		{"unknown address", "198.51.100.21", "nobody@example.com"},
		{"not an address", "198.51.100.22", "nobody"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := lockOut(t, e, clk, c.ip, c.email)
			if len(got) != len(want) {
				t.Fatalf("%d answers, want %d:\n%v", len(got), len(want), got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("attempt %d: %v, want %v", i+1, got[i], want[i])
				}
			}
		})
	}

	clk.Advance(48 * time.Hour)
	if got := loginAnswerOf(t, loginFrom(t, e, "198.51.100.23", "bob@example.com", password)); got != lockedUp {
		t.Fatalf("the right password two days later, from elsewhere: %v, want %v", got, lockedUp)
	}

	var unlocked struct {
		ID        uuid.UUID `json:"id"`
		Email     string    `json:"email"`
		Failures  int       `json:"failures"`
		WasLocked bool      `json:"was_locked"`
	}
	e.admin().post(t, "/api/v1/admin/technicians/"+bob.String()+"/unlock", nil).want(t, http.StatusOK).decode(t, &unlocked)
	if unlocked.ID != bob || unlocked.Email != "bob@example.com" || unlocked.Failures != 20 || !unlocked.WasLocked {
		t.Fatalf("unlock answered %+v", unlocked)
	}
	loginFrom(t, e, "198.51.100.20", "bob@example.com", password).want(t, http.StatusOK)

	e.admin().post(t, "/api/v1/admin/technicians/"+bob.String()+"/unlock", nil).want(t, http.StatusOK).decode(t, &unlocked)
	if unlocked.Failures != 0 || unlocked.WasLocked {
		t.Errorf("unlocking again answered %+v", unlocked)
	}
	e.admin().post(t, "/api/v1/admin/technicians/"+uuid.NewString()+"/unlock", nil).wantErr(t, http.StatusNotFound, "not_found")
	e.anonymous().post(t, "/api/v1/admin/technicians/"+bob.String()+"/unlock", nil).wantErr(t, http.StatusUnauthorized, "unauthorized")
}

// One client address trying many addresses is throttled after 20 failures whatever the
// addresses, even for a right password; other clients are not, and the window passes.
func TestLoginThrottledPerClientAddress(t *testing.T) {
	t.Parallel()
	e, clk := newThrottledEnv(t)
	e.registerTechnician(t, "Carol Tech", "carol@example.com")
	const sprayer, neighbour = "203.0.113.9", "203.0.113.10"

	for i := range 20 {
		loginFrom(t, e, sprayer, fmt.Sprintf("user%02d@example.com", i), wrongPassword).wantErr(t, http.StatusUnauthorized, "unauthorized")
	}
	res := loginFrom(t, e, sprayer, "carol@example.com", password)
	want := loginAnswer{status: http.StatusTooManyRequests, code: "too_many_attempts", retryAfter: "10",
		message: "too many failed logins from this network address; try again in 10 seconds"}
	if got := loginAnswerOf(t, res); got != want {
		t.Fatalf("a right password from the throttled address: %v, want %v", got, want)
	}
	loginFrom(t, e, neighbour, "carol@example.com", password).want(t, http.StatusOK)
	clk.Advance(10 * time.Second)
	loginFrom(t, e, sprayer, "carol@example.com", password).want(t, http.StatusOK)
	// A success does not wash the address's count: one more failure opens a 20 s window.
	loginFrom(t, e, sprayer, "user99@example.com", wrongPassword).wantErr(t, http.StatusUnauthorized, "unauthorized")
	res = loginFrom(t, e, sprayer, "carol@example.com", password)
	if res.wantErr(t, http.StatusTooManyRequests, "too_many_attempts"); res.Header.Get("Retry-After") != "20" {
		t.Fatalf("Retry-After %q after the 21st failure, want 20", res.Header.Get("Retry-After"))
	}
	// An IPv6 client is counted by its /64: changing the last bits does not get around it.
	for i := range 20 {
		loginFrom(t, e, fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprintf("v6user%02d@example.com", i), wrongPassword).wantErr(t, http.StatusUnauthorized, "unauthorized")
	}
	loginFrom(t, e, "2001:db8:1:2:ffff::1", "carol@example.com", password).wantErr(t, http.StatusTooManyRequests, "too_many_attempts")
	loginFrom(t, e, "2001:db8:1:3::1", "carol@example.com", password).want(t, http.StatusOK)
}

// A successful login resets its address's count: four typos, a success, and five more typos
// before the window opens again.
func TestLoginSuccessResetsTheAccount(t *testing.T) {
	t.Parallel()
	e, _ := newThrottledEnv(t)
	e.registerTechnician(t, "Dave Tech", "dave@example.com")
	const ip = "198.51.100.30"
	steps := []struct {
		pw   string
		want int
	}{
		{wrongPassword, 401}, {wrongPassword, 401}, {wrongPassword, 401}, {wrongPassword, 401},
		{password, 200},
		{wrongPassword, 401}, {wrongPassword, 401}, {wrongPassword, 401}, {wrongPassword, 401}, {wrongPassword, 401},
		{password, 429},
	}
	for i, s := range steps {
		if res := loginFrom(t, e, ip, "dave@example.com", s.pw); res.Status != s.want {
			t.Fatalf("step %d: %s, want %d", i+1, res, s.want)
		}
	}
}

// Guesses sent all at once to two servers cannot slip through one open window together: the
// counters admit one attempt at a time across processes, so exactly the five free failures
// are checked and every other guess is refused unchecked.
func TestLoginConcurrentGuessesAcrossServers(t *testing.T) {
	t.Parallel()
	envs, _ := newThrottledEnvs(t, 2)
	envs[0].registerTechnician(t, "Erin Tech", "erin@example.com")
	const guesses = 40
	statuses := make([]int, guesses)
	atOnce(guesses, func(i int) {
		statuses[i] = loginFrom(t, envs[i%2], "198.51.100.40", "erin@example.com", fmt.Sprintf("guess number %d", i)).Status
	})
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusUnauthorized] != 5 || count[http.StatusTooManyRequests] != guesses-5 {
		t.Fatalf("answers by status: %v, want 5 × 401 and %d × 429", count, guesses-5)
	}
}

// sessions are a technician's two ways in: a bearer token and a console cookie.
type sessions struct {
	bearer, cookie *client
}

func openSessions(t *testing.T, e *env, email string) sessions {
	t.Helper()
	cookie, lr := cookieLogin(t, e, email)
	return sessions{bearer: e.login(t, email), cookie: &client{e: e, cookie: cookie.Value, csrf: lr.CSRFToken}}
}

// check asserts what GET /api/v1/me answers with each of the sessions.
func (s sessions) check(t *testing.T, status int) {
	t.Helper()
	for name, c := range map[string]*client{"bearer token": s.bearer, "console cookie": s.cookie} {
		if res := c.get(t, "/api/v1/me"); res.Status != status {
			t.Errorf("%s: %s, want %d", name, res, status)
		}
	}
}

// A password change and an access revocation end every session of the technician, bearer
// tokens and console cookies alike (401), and a new login works; a revocation that is refused
// ends nothing.
func TestSessionsEndWithPasswordAndAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acme, globex := e.createCompany(t, "Acme"), e.createCompany(t, "Globex")
	cases := []struct {
		name        string
		act         func(t *testing.T, tech uuid.UUID)
		ended       bool
		newPassword string
	}{
		{"password changed", func(t *testing.T, tech uuid.UUID) {
			e.admin().json(t, http.MethodPut, "/api/v1/admin/technicians/"+tech.String()+"/password", map[string]any{"password": "a brand new one"}).want(t, http.StatusOK)
		}, true, "a brand new one"},
		{"access revoked", func(t *testing.T, tech uuid.UUID) {
			e.admin().raw(t, http.MethodDelete, "/api/v1/admin/technicians/"+tech.String()+"/access/"+acme.String(), nil).want(t, http.StatusOK)
		}, true, password},
		{"revoking access never granted is refused", func(t *testing.T, tech uuid.UUID) {
			e.admin().raw(t, http.MethodDelete, "/api/v1/admin/technicians/"+tech.String()+"/access/"+globex.String(), nil).wantErr(t, http.StatusUnprocessableEntity, "invalid")
		}, false, password},
		{"revoking access to an unknown company is refused", func(t *testing.T, tech uuid.UUID) {
			e.admin().raw(t, http.MethodDelete, "/api/v1/admin/technicians/"+tech.String()+"/access/"+uuid.NewString(), nil).wantErr(t, http.StatusNotFound, "not_found")
		}, false, password},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			email := fmt.Sprintf("tech%d@example.com", i)
			tech := e.registerTechnician(t, "Tech "+strconv.Itoa(i), email)
			e.grant(t, tech, acme)
			old := openSessions(t, e, email)
			old.check(t, http.StatusOK)
			c.act(t, tech)
			if !c.ended {
				old.check(t, http.StatusOK)
				return
			}
			old.check(t, http.StatusUnauthorized)
			if c.newPassword != password {
				e.anonymous().post(t, "/api/v1/auth/login", map[string]any{"email": email, "password": password}).wantErr(t, http.StatusUnauthorized, "unauthorized")
			}
			var lr loginResponse
			e.anonymous().post(t, "/api/v1/auth/login", map[string]any{"email": email, "password": c.newPassword}).want(t, http.StatusOK).decode(t, &lr)
			(&client{e: e, bearer: lr.Token}).get(t, "/api/v1/me").want(t, http.StatusOK)
		})
	}
}

// relogin logs a technician in again, after something ended their sessions.
func (e *env) relogin(t testing.TB, c *client) *client {
	t.Helper()
	var p struct {
		Email string `json:"email"`
	}
	e.admin().get(t, "/api/v1/admin/technicians/"+c.id.String()).want(t, http.StatusOK).decode(t, &p)
	return e.login(t, p.Email)
}
