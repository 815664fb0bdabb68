package notifier_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/helpstream/helpstream/internal/notifier"
)

// received is one e-mail the test's SMTP server accepted.
type received struct {
	From, To  string
	TLS       bool
	User      string
	MessageID string
	Subject   string
	Body      string
}

// mailbox is a real SMTP server (go-smtp) in the test process, offering STARTTLS with a
// certificate the returned TLS configuration trusts and AUTH PLAIN as user "hs" password
// "secret".
type mailbox struct {
	mu   sync.Mutex
	got  []received
	addr string
	tls  *tls.Config // the client's: trusts the server's certificate
}

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	certSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	certSrv.StartTLS() // only for its certificate for 127.0.0.1
	cert := certSrv.TLS.Certificates[0]
	roots := x509.NewCertPool()
	roots.AddCert(certSrv.Certificate())
	certSrv.Close()

	m := &mailbox{tls: &tls.Config{RootCAs: roots}}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{box: m, conn: c}, nil }))
	s.Domain = "localhost"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = l.Addr().String()
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return m
}

// url is the --smtp-url of the mailbox.
func (m *mailbox) url() string {
	return "smtp://hs:secret@" + m.addr + "?from=helpstream@example.com"
}

func (m *mailbox) mails() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.got...)
}

type session struct {
	box      *mailbox
	conn     *smtp.Conn
	user     string
	from, to string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "hs" || pass != "secret" {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = to; return nil }
func (s *session) Reset()                                      { s.from, s.to = "", "" }
func (s *session) Logout() error                               { return nil }

func (s *session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return err
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	_, secure := s.conn.TLSConnectionState()
	s.box.mu.Lock()
	s.box.got = append(s.box.got, received{From: s.from, To: s.to, TLS: secure, User: s.user,
		MessageID: msg.Header.Get("Message-ID"), Subject: subject, Body: string(body)})
	s.box.mu.Unlock()
	return nil
}

// hook is a webhook receiver (httptest) whose behaviour the test changes as it goes.
type hook struct {
	srv *httptest.Server
	// secrets are the signing secrets the app made for the technicians posting here (one
	// each: a URL saved by two technicians has two); a POST signed with any of them is genuine
	secrets []string

	mu       sync.Mutex
	got      []hookCall
	failing  int  // answer 500 to this many more requests
	hanging  bool // hold requests until the test ends or hanging is turned off
	released chan struct{}
}

// hookCall is one POST the receiver got.
type hookCall struct {
	Note        notifier.Notification
	Idempotency string
	SignatureOK error
	At          time.Time
}

func newHook(t *testing.T) *hook {
	t.Helper()
	h := &hook{released: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(func() {
		h.setHanging(false)
		h.srv.Close()
	})
	return h
}

func (h *hook) url() string { return h.srv.URL + "/hooks/token-in-path" }

func (h *hook) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	hanging, release := h.hanging, h.released
	h.mu.Unlock()
	if hanging {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		// The client gave up long before the test released the endpoint (its timeout is far
		// shorter): nothing was delivered, whether or not the server noticed it leave.
		return
	}
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failing > 0 {
		h.failing--
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	}
	var n notifier.Notification
	if err := json.Unmarshal(body, &n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.got = append(h.got, hookCall{Note: n, Idempotency: r.Header.Get(notifier.IdempotencyHeader),
		SignatureOK: h.verify(r.Header.Get(notifier.SignatureHeader), body), At: time.Now()})
	w.WriteHeader(http.StatusNoContent)
}

// trust adds the signing secret the app made for a technician posting here.
func (h *hook) trust(secret string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets = append(h.secrets, secret)
}

// verify checks a signature against every secret trusted; the caller holds mu.
func (h *hook) verify(header string, body []byte) error {
	err := notifier.ErrBadSignature
	for _, secret := range h.secrets {
		if err = notifier.Verify(secret, header, body, time.Now(), 5*time.Minute); err == nil {
			return nil
		}
	}
	return err
}

func (h *hook) calls() []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookCall(nil), h.got...)
}

func (h *hook) setFailing(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failing = n
}

func (h *hook) setHanging(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hanging && !on {
		close(h.released)
		h.released = make(chan struct{})
	}
	h.hanging = on
}
