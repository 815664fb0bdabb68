package httpserver_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/httpserver"
)

// serve starts a server with short limits on a free port and returns its address.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv, err := httpserver.New(httpserver.Config{
		Handler:           h,
		ReadHeaderTimeout: 300 * time.Millisecond,
		BodyTimeout:       300 * time.Millisecond,
		WriteTimeout:      300 * time.Millisecond,
		IdleTimeout:       300 * time.Millisecond,
		MaxBody:           1 << 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// readBody answers 200 with the body's length, or 408/413/400 as the API does for the errors
// of reading it.
var readBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	case errors.Is(err, net.ErrClosed), err != nil && strings.Contains(err.Error(), "timeout"):
		w.WriteHeader(http.StatusRequestTimeout)
	case err != nil:
		w.WriteHeader(http.StatusBadRequest)
	default:
		fmt.Fprint(w, n)
	}
})

// closedWithin reports whether the server closes conn (or answers) within d.
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) (string, bool) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(conn)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return string(b), false
		}
	}
	return string(b), true
}

// trickle sends start on c, then a byte every 100 ms, 20 in all, as a slow client would.
func trickle(c net.Conn, start string) net.Conn {
	fmt.Fprint(c, start)
	go func() {
		for range 20 {
			if _, err := c.Write([]byte("X")); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return c
}

func TestSlowClientsAreCut(t *testing.T) {
	addr := serve(t, readBody)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	t.Run("headers a byte at a time", func(t *testing.T) {
		c := trickle(dial(), "POST / HTTP/1.1\r\nHost: x\r\n")
		if _, closed := closedWithin(t, c, 2*time.Second); !closed {
			t.Fatal("a client trickling its headers was not cut")
		}
	})
	t.Run("body a byte at a time", func(t *testing.T) {
		c := trickle(dial(), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
		got, closed := closedWithin(t, c, 2*time.Second)
		if !closed {
			t.Fatal("a client trickling its body was not cut")
		}
		if !strings.HasPrefix(got, "HTTP/1.1 408") {
			t.Errorf("a trickled body answered %q, want 408", firstLine(got))
		}
	})
	t.Run("body larger than MaxBody", func(t *testing.T) {
		c := dial()
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n%s", strings.Repeat("x", 4096))
		got, _ := closedWithin(t, c, 2*time.Second)
		if !strings.HasPrefix(got, "HTTP/1.1 413") {
			t.Errorf("a large body answered %q, want 413", firstLine(got))
		}
	})
	t.Run("idle keep-alive connection", func(t *testing.T) {
		c := dial()
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		r := bufio.NewReader(c)
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := r.ReadByte(); err == nil {
			t.Fatal("read a byte from an idle connection")
		} else if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("an idle connection was kept open")
		}
	})
	t.Run("a normal request is served", func(t *testing.T) {
		if status, b := post(t, "http://"+addr+"/", "hello"); status != 200 || b != "5" {
			t.Fatalf("got %d %q", status, b)
		}
	})
}

// A client that stops reading a large answer is cut by the write deadline; a live stream is
// not, however long it lasts, and a request whose body was read in time may take longer than
// the body's deadline to be answered.
func TestWriteDeadlinesAndStreams(t *testing.T) {
	big := strings.Repeat("x", 8<<20)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.WriteString(w, big); err != nil {
			return
		}
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := range 8 {
			if _, err := fmt.Fprintf(w, "data: %d\n\n", i); err != nil || rc.Flush() != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	mux.HandleFunc("POST /slow", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(450 * time.Millisecond) // past the body's deadline, within the answer's
		if r.Context().Err() != nil {
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		}
		fmt.Fprint(w, "done")
	})
	addr := serve(t, mux)

	t.Run("a client that does not read", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(4096)
		fmt.Fprint(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
		time.Sleep(time.Second) // longer than WriteTimeout, reading nothing
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _ := io.Copy(io.Discard, c)
		if n >= int64(len(big)) {
			t.Fatalf("read %d bytes: the answer to a client that stopped reading was not cut", n)
		}
	})
	t.Run("a live stream outlives the write deadline", func(t *testing.T) {
		res, err := http.Get("http://" + addr + "/events")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("stream cut: %v after %q", err, b)
		}
		if strings.Count(string(b), "data:") != 8 {
			t.Fatalf("stream got %q, want 8 events over 800 ms", b)
		}
	})
	t.Run("a slow answer after a prompt body", func(t *testing.T) {
		if status, b := post(t, "http://"+addr+"/slow", "hi"); status != 200 || b != "done" {
			t.Fatalf("got %d %q: the body's read deadline cancelled the request", status, b)
		}
	})
}

// post sends body to url as text and returns the answer's status and body.
func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	res, err := http.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
