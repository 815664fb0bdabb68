package httpapi

// The body decoders are unexported, so their fuzz target is an internal test; the route
// fuzzer (routefuzz_test.go) sends the same kind of bytes through the whole server.

import (
	"bytes"
	"go/ast"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// bodyDecoder decodes one route's JSON body type the way its handler does.
type bodyDecoder struct {
	name   string // the body type
	decode func(a *API, w http.ResponseWriter, r *http.Request) (any, error)
}

func decoderOf[B requestBody]() bodyDecoder {
	return bodyDecoder{name: reflect.TypeFor[B]().Name(), decode: func(a *API, w http.ResponseWriter, r *http.Request) (any, error) {
		return decodeBody[B](a, w, r)
	}}
}

// bodyDecoders is every JSON request body of the API (TestDecodeFuzzCoversEveryBody keeps
// the list complete).
var bodyDecoders = []bodyDecoder{
	decoderOf[submitBody](),
	decoderOf[messageBody](),
	decoderOf[loginBody](),
	decoderOf[availabilityBody](),
	decoderOf[notificationsBody](),
	decoderOf[transferBody](),
	decoderOf[profileBody](),
	decoderOf[templateBody](),
	decoderOf[cannedBody](),
	decoderOf[eraseBody](),
	decoderOf[nameBody](),
	decoderOf[technicianBody](),
	decoderOf[passwordBody](),
	decoderOf[accessBody](),
	decoderOf[auditorBody](),
	decoderOf[auditorAccessBody](),
	decoderOf[routingBody](),
	decoderOf[serviceLevelsBody](),
	decoderOf[retentionBody](),
}

// FuzzDecodeBody decodes any bytes, sent with any Content-Type, as the JSON body of the route
// the input picks, as the handler does (the idempotency fingerprint's read of the body first,
// then the strict decoder and the required fields): the result is a value or an error that
// answers 4xx in the error shape, never a 5xx and never a panic.
func FuzzDecodeBody(f *testing.F) {
	seeds := []struct {
		ct   string
		body string
	}{
		{"application/json", `{"customer_name":"Ada","customer_email":"ada@example.com","description":"On fire","device_type":"windows"}`},
		{"application/json", `{"body":"hello"}`},
		{"application/json", `{"email":"alice@example.com","password":"secret"}`},
		{"application/json; charset=utf-8", `{"availability":"available"}`},
		{"application/json", `{"email":true,"in_console":false,"webhook_url":"https://example.com/hook"}`},
		{"application/json", `{"technician_id":"11111111-1111-1111-1111-111111111111"}`},
		{"application/json", `{"profile":"Corporate Wi-Fi"}`},
		{"application/json", `{"name":"Acme"}`},
		{"application/json", `{"name":"Tess","email":"tess@example.com","password":"correct horse"}`},
		{"application/json", `{"password":"correct horse"}`},
		{"application/json", `{"company_id":"11111111-1111-1111-1111-111111111111"}`},
		{"application/json", `{"name":"Ann","email":"ann@example.com","password":"audit horse"}`},
		{"application/json", `{"all_companies":true}`},
		{"application/json", `{"assign_seconds":900,"business_hours":[{"day":"mon","from":"09:00","to":"17:00"}]}`},
		{"application/json", `{"erase_after_days":30}`},
		{"", `{"body":"\u0000"}`},
		{"text/plain", `{"body":"x"}`},
		{"application/json", `{"body":"x"} {"body":"y"}`},
		{"application/json", `{"body":1}`},
		{"application/json", `[{"body":"x"}]`},
		{"application/json", `{"body":"x","extra":1}`},
		{"application/json", "{\"body\":\"\xff\xfe\"}"},
		{"application/json", `{"email":null,"in_console":true}`},
		{"application/json", `{"body":"` + strings.Repeat("a", 70<<10) + `"}`},
		{"application/json; charset", `{}`},
		{"", ``},
		{"application/json", `{"mode":"round-robin","default_capacity":3,"capacities":[{"technician_id":"11111111-1111-1111-1111-111111111111","capacity":2}],"away_limit_seconds":600}`},
	}
	for i, s := range seeds {
		f.Add(uint8(i), s.ct, []byte(s.body))
	}
	api := &API{cfg: Config{MaxJSONBody: 64 << 10}} // New's default limit
	f.Fuzz(func(t *testing.T, route uint8, contentType string, body []byte) {
		d := bodyDecoders[int(route)%len(bodyDecoders)]
		newRequest := func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/fuzz", bytes.NewReader(body))
			r.Header["Content-Type"] = []string{contentType} // as sent, not canonicalised by Set
			return r
		}
		if _, err := api.fingerprint(httptest.NewRecorder(), newRequest()); err != nil {
			wantClientError(t, "fingerprint", d.name, contentType, body, err)
		}
		v, err := d.decode(api, httptest.NewRecorder(), newRequest())
		if err != nil {
			wantClientError(t, "decode", d.name, contentType, body, err)
			return
		}
		if rb, ok := v.(requestBody); !ok || rb.missingField() != nil {
			t.Fatalf("%s decoded %q (Content-Type %q) into %#v without the required fields", d.name, body, contentType, v)
		}
	})
}

// wantClientError fails unless err answers 4xx in the error shape.
func wantClientError(t *testing.T, step, name, contentType string, body []byte, err error) {
	t.Helper()
	e := classify(err)
	if e.Status < 400 || e.Status >= 500 || e.Code == "" || e.Message == "" {
		t.Fatalf("%s of a %s, Content-Type %q, body %q: %v answers %d %q %q, want a 4xx in the error shape",
			step, name, contentType, truncated(body), err, e.Status, e.Code, e.Message)
	}
}

func truncated(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:300:300], "…"...)
	}
	return b
}

// TestDecodeFuzzCoversEveryBody reads the package's source: every type with a missingField
// method is a JSON request body, and FuzzDecodeBody must decode it.
func TestDecodeFuzzCoversEveryBody(t *testing.T) {
	var bodies []string
	for _, file := range ParseSource(t) {
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "missingField" {
				continue
			}
			if id, ok := fn.Recv.List[0].Type.(*ast.Ident); ok {
				bodies = append(bodies, id.Name)
			}
		}
	}
	var covered []string
	for _, d := range bodyDecoders {
		covered = append(covered, d.name)
	}
	sort.Strings(bodies)
	sort.Strings(covered)
	if len(bodies) == 0 || !slices.Equal(bodies, covered) {
		t.Fatalf("request bodies in the source: %v\nbodies FuzzDecodeBody decodes: %v", bodies, covered)
	}
}
