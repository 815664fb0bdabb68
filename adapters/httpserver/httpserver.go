// Package httpserver is the HTTP server in front of the API, the console and the portal, with
// the limits that keep slow and large clients from holding it: headers and bodies must arrive
// in time, bodies are capped, answers must be read in time, idle connections are closed. Live
// streams (server-sent events) are exempt from the write deadline and keep their own.
//
// What the front ends (the API, the console and the portal) must answer alike lives here too:
// Classify is the one table of what the application's errors mean over HTTP, and SendFile,
// MultipartBoundary and UploadName are how a shared file goes out and comes in.
package httpserver

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// Config holds the server's handler and limits. Zero values take the defaults.
type Config struct {
	// Handler serves every request.
	Handler http.Handler
	// ReadHeaderTimeout bounds how long a client may take to send a request's headers; the
	// connection is closed after it. 10 s by default.
	ReadHeaderTimeout time.Duration
	// BodyTimeout bounds how long a client may take to send a request's body, from the end of
	// its headers, plus Content-Length / BodyMinRate for a large body: a body that trickles in
	// is cut there, and the handler sees a read error (the API answers 408). 20 s by default.
	BodyTimeout time.Duration
	// BodyMinRate is the slowest upload, in bytes per second, that BodyTimeout makes room for:
	// a 25 MiB file at the default 64 KiB/s gets 400 s more. 64 KiB/s by default.
	BodyMinRate int64
	// MaxBody caps every request body, whatever the route does: the routes set tighter caps
	// of their own (64 KiB for JSON, the file size limit for uploads). 26 MiB by default.
	MaxBody int64
	// WriteTimeout bounds how long an answer may take to be worked out, written and read by
	// the client, after the time the body was given (BodyTimeout and its allowance); a client
	// that stops reading is cut. Streams are exempt: they set a deadline before each write.
	// 2 min by default.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends no request for this long. 2 min
	// by default.
	IdleTimeout time.Duration
	// MaxHeaderBytes is net/http's own cap on a request's headers, answered with its own plain
	// 431; keep it above the API's (httpapi.MaxHeaderBytes), which answers 431 in the error
	// shape first. 64 KiB by default.
	MaxHeaderBytes int
	// IsStream tells the requests that are live streams; by default those that accept
	// text/event-stream or whose path ends in /events.
	IsStream func(*http.Request) bool
}

func (c *Config) setDefaults() {
	c.ReadHeaderTimeout = OrDefault(c.ReadHeaderTimeout, 10*time.Second)
	c.BodyTimeout = OrDefault(c.BodyTimeout, 20*time.Second)
	c.BodyMinRate = OrDefault(c.BodyMinRate, 64<<10)
	c.MaxBody = OrDefault(c.MaxBody, 26<<20)
	c.WriteTimeout = OrDefault(c.WriteTimeout, 2*time.Minute)
	c.IdleTimeout = OrDefault(c.IdleTimeout, 2*time.Minute)
	c.MaxHeaderBytes = OrDefault(c.MaxHeaderBytes, 64<<10)
	if c.IsStream == nil {
		c.IsStream = isEventStream
	}
}

// OrDefault is a limit of a server's configuration as set, or def when it is not set (zero or
// negative): the front ends' configurations share the rule that zero takes the default.
func OrDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Handler == nil {
		return errors.New("httpserver: a Handler is required")
	}
	return nil
}

// New returns a server with cfg's limits; the caller starts it with Serve.
func New(cfg Config) (*http.Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &http.Server{
		Handler:           guard(cfg),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		// No ReadTimeout or WriteTimeout: they would apply to live streams too (a read
		// deadline that passes cancels the request's context). guard sets per-request
		// deadlines instead.
	}, nil
}

func isEventStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream") || strings.HasSuffix(r.URL.Path, "/events")
}

// guard sets each request's deadlines and caps its body.
func guard(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		var bodyTime time.Duration
		if r.Body != nil && r.Body != http.NoBody {
			bodyTime = cfg.BodyTimeout
			if r.ContentLength > 0 {
				bodyTime += time.Duration(r.ContentLength / cfg.BodyMinRate * int64(time.Second))
			}
			_ = rc.SetReadDeadline(now.Add(bodyTime))
			r.Body = &deadlineBody{ReadCloser: http.MaxBytesReader(w, r.Body, cfg.MaxBody), rc: rc}
		}
		if !cfg.IsStream(r) {
			// The answer's time starts when the body's ends, at the latest.
			_ = rc.SetWriteDeadline(now.Add(bodyTime + cfg.WriteTimeout))
		}
		cfg.Handler.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the body's read deadline once the body is read to its end: the server
// then reads the connection in the background to notice a client that goes away, and a read
// deadline passing there would cancel a request still being worked on.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// Route returns the pattern mux serves r with; when it has none (pattern ""), what the mux
// itself would answer: 405 with the methods the path takes in allow, or 404. The front ends
// answer such a request in their own shape (the API's error, the console's error page) instead
// of the mux's plain text, and look the route up once.
func Route(mux *http.ServeMux, r *http.Request) (pattern string, status int, allow string) {
	handler, pattern := mux.Handler(r)
	if pattern != "" {
		return pattern, 0, ""
	}
	rec := &muxAnswer{header: http.Header{}, status: http.StatusOK}
	handler.ServeHTTP(rec, r)
	return "", rec.status, rec.header.Get("Allow")
}

// muxAnswer keeps the status and headers of the mux's own answer and drops its body.
type muxAnswer struct {
	header http.Header
	status int
}

func (m *muxAnswer) Header() http.Header         { return m.header }
func (m *muxAnswer) Write(b []byte) (int, error) { return len(b), nil }
func (m *muxAnswer) WriteHeader(status int)      { m.status = status }
