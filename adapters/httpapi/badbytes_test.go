package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBadBytesEveryRoute: on every route, bytes no person's text holds — NUL, bytes that are
// not UTF-8, control characters — in any JSON string field, and odd values in the headers that
// become metadata, are refused with a 4xx in the error shape and write nothing: never a 5xx,
// never an event a read model cannot store, never a header altered after it was hashed.
func TestBadBytesEveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newBadInputFixture(t, e)

	const marker = "MARKER-7f3a"
	poison := []struct {
		name string
		raw  string // as it appears inside the JSON string, bytes or escapes
	}{
		{"NUL escaped", `ab\u0000cd`},
		{"NUL raw", "ab\x00cd"},
		{"invalid UTF-8", "ab\xff\xfecd"},
		{"lone surrogate byte", "ab\xed\xa0\x80cd"},
		{"escape sequence", `ab\u001b[2Jcd`},
		{"C1 control", `ab\u0085cd`},
		{"lone high surrogate escape", `ab\ud800cd`},
		{"lone low surrogate escape", `\udc00abcd`},
		{"reversed surrogate pair", `ab\ude00\ud83dcd`},
	}
	for _, r := range f.jsonRoutes() {
		t.Run(r.name, func(t *testing.T) {
			for _, fl := range r.fields {
				if fl.kind == "bool" {
					continue
				}
				for _, p := range poison {
					body, err := json.Marshal(with(r.valid, fl.name, marker))
					if err != nil {
						t.Fatal(err)
					}
					body = bytes.Replace(body, []byte(marker), []byte(p.raw), 1)
					before := e.tail(t)
					res := r.who.raw(t, r.method, r.path, body)
					switch {
					case res.Status >= 500:
						t.Fatalf("%s in %s: %s", p.name, fl.name, res)
					case res.Status < 400 && fl.name == "password":
						// A password never enters an event; any bytes may be a password.
					case res.Status < 400:
						t.Errorf("%s in %s accepted: %s", p.name, fl.name, res)
					default:
						res.err(t) // the error shape
						e.unchanged(t, before, p.name+" in "+fl.name)
					}
				}
			}
			// Headers that become metadata, refused rather than altered.
			for _, h := range []struct{ name, value, code string }{
				{"Idempotency-Key", "key\xffone", "bad_idempotency_key"},
				{"Idempotency-Key", "clé", "bad_idempotency_key"},
				{"Idempotency-Key", strings.Repeat("k", 201), "bad_idempotency_key"},
				{"X-Correlation-ID", "corr\xc3(", "bad_correlation_id"},
				{"X-Correlation-ID", strings.Repeat("c", 101), "bad_correlation_id"},
			} {
				b, _ := json.Marshal(r.valid)
				refused(t, e, func() *response { return r.who.raw(t, r.method, r.path, b, header(h.name, h.value)) }, http.StatusBadRequest, h.code, h.name)
			}
			// Control characters in a header value are not HTTP: the server refuses them with
			// 400 before any route runs (Go's net/http, in plain text).
			for _, v := range []string{"key\x00one", "corr\x1bid", "a\x7fb"} {
				before := e.tail(t)
				if status := rawStatus(t, e, r.method+" "+r.path+" HTTP/1.1\r\nHost: x\r\nIdempotency-Key: "+v+"\r\nContent-Length: 2\r\n\r\n{}"); status != http.StatusBadRequest {
					t.Errorf("Idempotency-Key %q: %d, want 400", v, status)
				}
				e.unchanged(t, before, "a control character in a header")
			}
			b, _ := json.Marshal(r.valid)
			refused(t, e, func() *response {
				return r.who.raw(t, r.method, r.path, b, header("X-Padding", strings.Repeat("p", 20<<10)))
			}, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large", "")
		})
	}

	t.Run("escapes of whole characters are text", func(t *testing.T) {
		for _, body := range []string{`{"body":"smile \ud83d\ude00"}`, `{"body":"a literal \\ud800 is text"}`, `{"body":"\u00e9t\u00e9"}`} {
			f.customer.raw(t, http.MethodPost, custPath(f.winID, "messages"), []byte(body)).want(t, http.StatusCreated)
		}
	})
	t.Run("messages keep their line breaks, names refuse them", func(t *testing.T) {
		f.techA.post(t, reqPath(f.winID, "messages"), map[string]any{"body": "line one\nline two\ttabbed"}).want(t, http.StatusCreated)
		refused(t, e, func() *response {
			return e.anonymous().with(uaWindows).post(t, "/api/v1/portals/"+f.portalA.String()+"/requests",
				map[string]any{"customer_name": "Ada\nLovelace", "customer_email": "ada@example.com", "description": "x"})
		}, http.StatusUnprocessableEntity, "invalid", "control character")
	})
	t.Run("the message says what and where", func(t *testing.T) {
		res := f.customer.raw(t, http.MethodPost, custPath(f.winID, "messages"), []byte(`{"body":"hello\u0000world"}`))
		er := res.wantErr(t, http.StatusUnprocessableEntity, "invalid")
		if !strings.Contains(er.Message, "NUL") || !strings.Contains(er.Message, "character 6") {
			t.Errorf("message %q does not say what is wrong and where", er.Message)
		}
		res = f.customer.raw(t, http.MethodPost, custPath(f.winID, "messages"), []byte("{\"body\":\"caf\xe9\"}"))
		if er := res.wantErr(t, http.StatusBadRequest, "malformed_json"); !strings.Contains(er.Message, "UTF-8") {
			t.Errorf("message %q does not say UTF-8", er.Message)
		}
	})
	t.Run("a correlation ID is stored as sent and the chain verifies", func(t *testing.T) {
		f.techA.post(t, reqPath(f.winID, "notes"), map[string]any{"body": "traced"}, header("X-Correlation-ID", "trace-42 (retry 1)")).want(t, http.StatusCreated)
		var h struct {
			Verified bool `json:"verified"`
			Events   []struct {
				Metadata map[string]any `json:"metadata"`
			} `json:"events"`
		}
		f.techA.get(t, reqPath(f.winID, "history")).want(t, http.StatusOK).decode(t, &h)
		last := h.Events[len(h.Events)-1].Metadata
		if !h.Verified || last["correlation_id"] != "trace-42 (retry 1)" {
			t.Errorf("verified %v, correlation %v", h.Verified, last["correlation_id"])
		}
	})
}

// rawStatus sends request as bytes, which no client library would send, and returns the
// status the server answers.
func rawStatus(t *testing.T, e *env, request string) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}
