package httpapi_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// fuzzer makes random bodies: raw byte strings and random JSON values whose keys are often the
// route's own field names, so that they get past the decoder and reach validation.
type fuzzer struct {
	r    *rand.Rand
	keys []string
}

var fuzzStrings = []string{
	"", " ", "x", "null", "true", "0", "-1", "1e999", "ﬀ", "\u0000", "\u202e", "<script>alert(1)</script>",
	"' OR 1=1 --", "../../etc/passwd", "%00", "\\", "\"", "a@b", "ada@example.com", "available", "busy",
	"windows", "ios", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
	"https://example.com", "javascript:alert(1)", strings.Repeat("é", 300), "\xff\xfe",
}

func (f *fuzzer) bytes() []byte {
	n := f.r.IntN(120)
	b := make([]byte, n)
	alphabet := `{}[]":,0123456789.-+eE truefalsnl\abc` + "\x00\xff\n"
	for i := range b {
		if f.r.IntN(4) == 0 {
			b[i] = byte(f.r.IntN(256))
		} else {
			b[i] = alphabet[f.r.IntN(len(alphabet))]
		}
	}
	if f.r.IntN(3) == 0 && n > 0 {
		b[0] = '{'
	}
	return b
}

func (f *fuzzer) value(depth int) any {
	switch k := f.r.IntN(9); {
	case k == 0:
		return nil
	case k == 1:
		return f.r.IntN(2) == 0
	case k == 2:
		return []float64{0, -1, 1.5, 1e300, -1e-300, math.MaxInt64, float64(f.r.Int64())}[f.r.IntN(7)]
	case k <= 5:
		return fuzzStrings[f.r.IntN(len(fuzzStrings))]
	case k == 6 && depth < 3:
		a := make([]any, f.r.IntN(4))
		for i := range a {
			a[i] = f.value(depth + 1)
		}
		return a
	case depth < 3:
		return f.object(depth + 1)
	}
	return "leaf"
}

func (f *fuzzer) object(depth int) map[string]any {
	m := map[string]any{}
	for range f.r.IntN(5) {
		key := fuzzStrings[f.r.IntN(len(fuzzStrings))]
		if len(f.keys) > 0 && f.r.IntN(4) != 0 {
			key = f.keys[f.r.IntN(len(f.keys))]
		}
		m[key] = f.value(depth)
	}
	return m
}

// json returns a random JSON document: usually an object, sometimes any value.
func (f *fuzzer) json() []byte {
	var v any = f.object(0)
	if f.r.IntN(5) == 0 {
		v = f.value(0)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{}`)
	}
	return b
}

// TestFuzzJSONRoutes posts 300 random bodies (random bytes and random JSON values) to every
// route with a JSON body: never a 5xx, every refusal in the one error shape (the harness checks
// each response against openapi.yaml), and a refused request writes nothing.
func TestFuzzJSONRoutes(t *testing.T) {
	t.Parallel()
	const perRoute = 300
	e, f := newBadInputFixture(t)
	seed := uint64(20261125)
	t.Logf("seed %d", seed)
	for i, r := range f.jsonRoutes() {
		t.Run(r.name, func(t *testing.T) {
			keys := []string{}
			for _, fl := range r.fields {
				keys = append(keys, fl.name)
			}
			fz := &fuzzer{r: rand.New(rand.NewPCG(seed, uint64(i))), keys: keys}
			accepted := 0
			for n := range perRoute {
				body := fz.json()
				if n%2 == 0 {
					body = fz.bytes()
				}
				before := e.tail(t)
				res := r.who.raw(t, r.method, r.path, body)
				switch {
				case res.Status >= 500:
					t.Fatalf("body %q: %s", body, res)
				case res.Status >= 400:
					res.err(t) // the error shape (the harness also checked it against the document)
					e.unchanged(t, before, "a refused random body "+string(body))
				default:
					accepted++
				}
				if t.Failed() {
					t.Fatalf("body %q: %s", body, res)
				}
			}
			t.Logf("%d of %d random bodies were valid requests", accepted, perRoute)
		})
	}
}

// TestFuzzUploads sends random multipart bodies and random file contents to both upload
// routes: never a 5xx, and a refused upload writes nothing and leaves no file behind.
func TestFuzzUploads(t *testing.T) {
	t.Parallel()
	e, f := newBadInputFixture(t)
	fz := &fuzzer{r: rand.New(rand.NewPCG(7, 7))}
	names := []string{"a.png", "a.pdf", "a.txt", "a.exe", "", ".png", "a.PNG", "a.tar.gz", "a.jpg", "a.zip", "..", "a\x00.png"}
	for _, c := range []struct {
		who  *client
		path string
	}{{f.techA, reqPath(f.winID, "files")}, {f.customer, custPath(f.winID, "files")}} {
		for range 60 {
			before, files := e.tail(t), len(e.storedFiles(t))
			var res *response
			if fz.r.IntN(3) == 0 {
				res = c.who.raw(t, http.MethodPost, c.path, fz.bytes(), contentType("multipart/form-data; boundary=b"))
			} else {
				res = c.who.upload(t, c.path, names[fz.r.IntN(len(names))], fz.bytes())
			}
			if res.Status >= 500 {
				t.Fatalf("%s", res)
			}
			if res.Status >= 400 {
				res.err(t)
				e.unchanged(t, before, "a refused random upload")
				if n := len(e.storedFiles(t)); n != files {
					t.Fatalf("a refused upload left a file behind: %s", res)
				}
			}
		}
	}
}
