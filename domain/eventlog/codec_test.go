package eventlog_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/codectest"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/domain/servicelevel"
)

// versioned is how every event type name ends: a version, from 1.
var versioned = regexp.MustCompile(`\.v[1-9][0-9]*$`)

func TestCodecRoundTrip(t *testing.T) {
	codecs := []struct {
		name   string
		codec  *eventlog.Codec
		events []eventlog.Event
		types  int
		prefix []string
	}{
		{"request", request.Codec(), codectest.RequestSamples(), 18, []string{"request."}},
		{"service levels", servicelevel.Codec(), codectest.ServiceLevelSamples(), 1, []string{"servicelevel."}},
		{"retention", retention.Codec(), codectest.RetentionSamples(), 1, []string{"retention."}},
		{"directory", directory.Codec(), codectest.DirectorySamples(), 12, []string{"company.", "technician.", "auditor."}},
	}
	for _, c := range codecs {
		types := map[string]bool{}
		for _, e := range c.events {
			t.Run(c.name+"/"+e.EventType(), func(t *testing.T) {
				types[e.EventType()] = true
				typ, data, err := c.codec.Encode(e)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				if typ != e.EventType() {
					t.Fatalf("Encode type = %q, want %q", typ, e.EventType())
				}
				if !versioned.MatchString(typ) || !hasAnyPrefix(typ, c.prefix) {
					t.Fatalf("type %q is not a versioned %v name", typ, c.prefix)
				}
				if !json.Valid(data) {
					t.Fatalf("Encode data is not JSON: %s", data)
				}
				if !c.codec.Knows(typ) {
					t.Fatalf("Knows(%q) = false", typ)
				}
				back, err := c.codec.Decode(typ, data)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if reflect.TypeOf(back) != reflect.TypeOf(e) || !reflect.DeepEqual(back, e) {
					t.Fatalf("Decode = %#v, want %#v", back, e)
				}
				// The decoded event is a fresh value, not shared with the factory's next result.
				again, _ := c.codec.Decode(typ, data)
				if len(data) > 2 && reflect.ValueOf(again).Pointer() == reflect.ValueOf(back).Pointer() {
					t.Fatal("Decode returned the same pointer twice")
				}
			})
		}
		if len(types) != c.types {
			t.Errorf("%s events cover %d types, want %d", c.name, len(types), c.types)
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// The two codecs do not overlap and do not know each other's events.
func TestCodecsAreSeparate(t *testing.T) {
	rc, dc := request.Codec(), directory.Codec()
	for _, e := range codectest.RequestSamples() {
		if dc.Knows(e.EventType()) {
			t.Errorf("directory codec knows %s", e.EventType())
		}
	}
	for _, e := range codectest.DirectorySamples() {
		if rc.Knows(e.EventType()) {
			t.Errorf("request codec knows %s", e.EventType())
		}
	}
}

func TestCodecDecodeErrors(t *testing.T) {
	codec := request.Codec()
	tests := []struct {
		name    string
		typ     string
		data    string
		unknown bool
	}{
		{"unknown type", "request.exploded.v1", `{}`, true},
		{"empty type", "", `{}`, true},
		{"future version", "request.submitted.v2", `{}`, true},
		{"directory type", "company.created.v1", `{}`, true},
		{"broken JSON", "request.assigned.v1", `{"technician_id":`, false},
		{"wrong JSON type", "request.assigned.v1", `[]`, false},
		{"bad UUID", "request.assigned.v1", `{"technician_id":"not-a-uuid"}`, false},
		{"string for a number", "request.file_shared.v1", `{"size":"big"}`, false},
		{"empty payload", "request.closed.v1", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := codec.Decode(tt.typ, json.RawMessage(tt.data))
			if err == nil {
				t.Fatalf("Decode(%q, %s) = %#v, want an error", tt.typ, tt.data, e)
			}
			if errors.Is(err, eventlog.ErrUnknownEventType) != tt.unknown {
				t.Fatalf("Decode error %v: ErrUnknownEventType %v, want %v", err, errors.Is(err, eventlog.ErrUnknownEventType), tt.unknown)
			}
			if tt.typ != "" && !strings.Contains(err.Error(), tt.typ) {
				t.Fatalf("error %q does not name the type %q", err, tt.typ)
			}
		})
	}
}

// Unknown fields are ignored, missing ones are zero: old readers survive added fields.
func TestCodecDecodeTolerance(t *testing.T) {
	codec := request.Codec()
	e, err := codec.Decode("request.assigned.v1", json.RawMessage(`{"technician_id":"11111111-1111-1111-1111-111111111111","added_later":true}`))
	if err != nil || !reflect.DeepEqual(e, &request.Assigned{TechnicianID: codectest.SampleID1}) {
		t.Fatalf("Decode with an extra field = %#v, %v", e, err)
	}
	e, err = codec.Decode("request.assigned.v1", json.RawMessage(`{}`))
	if err != nil || !reflect.DeepEqual(e, &request.Assigned{}) {
		t.Fatalf("Decode of {} = %#v, %v", e, err)
	}
}

// A test event at its third version, with upcasters from the first and second.
type greeting struct {
	Text string `json:"text"`
	Lang string `json:"lang"`
}

func (*greeting) EventType() string { return "test.greeting.v3" }

type farewell struct {
	Text string `json:"text"`
}

func (*farewell) EventType() string { return "test.farewell.v1" }

// v1 {"msg": ...} → v2 {"text": ...} → v3 {"text": ..., "lang": "en"}.
func greetingCodec() *eventlog.Codec {
	return eventlog.NewCodec(
		func() eventlog.Event { return &greeting{} },
		func() eventlog.Event { return &farewell{} },
	).WithUpcaster("test.greeting.v1", func(data json.RawMessage) (string, json.RawMessage, error) {
		var v1 struct {
			Msg string `json:"msg"`
		}
		if err := json.Unmarshal(data, &v1); err != nil {
			return "", nil, err
		}
		if v1.Msg == "" {
			return "", nil, errors.New("v1 greeting without msg")
		}
		out, err := json.Marshal(map[string]string{"text": v1.Msg})
		return "test.greeting.v2", out, err
	}).WithUpcaster("test.greeting.v2", func(data json.RawMessage) (string, json.RawMessage, error) {
		var v2 map[string]any
		if err := json.Unmarshal(data, &v2); err != nil {
			return "", nil, err
		}
		v2["lang"] = "en"
		out, err := json.Marshal(v2)
		return "test.greeting.v3", out, err
	})
}

func TestCodecUpcasters(t *testing.T) {
	codec := greetingCodec()
	tests := []struct {
		name string
		typ  string
		data string
		want eventlog.Event
	}{
		{"v1 through two upcasters", "test.greeting.v1", `{"msg":"hello"}`, &greeting{Text: "hello", Lang: "en"}},
		{"v2 through one upcaster", "test.greeting.v2", `{"text":"bonjour"}`, &greeting{Text: "bonjour", Lang: "en"}},
		{"v2 with a language keeps being upcast", "test.greeting.v2", `{"text":"hallo","lang":"de"}`, &greeting{Text: "hallo", Lang: "en"}},
		{"current version directly", "test.greeting.v3", `{"text":"hola","lang":"es"}`, &greeting{Text: "hola", Lang: "es"}},
		{"other event untouched", "test.farewell.v1", `{"text":"bye"}`, &farewell{Text: "bye"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !codec.Knows(tt.typ) {
				t.Fatalf("Knows(%q) = false", tt.typ)
			}
			got, err := codec.Decode(tt.typ, json.RawMessage(tt.data))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode = %#v, want %#v", got, tt.want)
			}
		})
	}
	// Encoding always writes the current version.
	typ, data, err := codec.Encode(&greeting{Text: "hi", Lang: "fr"})
	if err != nil || typ != "test.greeting.v3" || string(data) != `{"text":"hi","lang":"fr"}` {
		t.Fatalf("Encode = %s %s %v", typ, data, err)
	}
	if codec.Knows("test.greeting.v4") || codec.Knows("test.greeting") {
		t.Fatal("Knows an unregistered version")
	}
}

func TestCodecUpcasterErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		codec    *eventlog.Codec
		typ      string
		data     string
		wantErr  error  // matched with errors.Is when set
		wantText string // must appear in the message
	}{
		{"upcaster fails", greetingCodec(), "test.greeting.v1", `{"msg":""}`, nil, "upcast test.greeting.v1"},
		{"upcaster gets broken JSON", greetingCodec(), "test.greeting.v1", `{`, nil, "upcast test.greeting.v1"},
		{"second upcaster fails", greetingCodec(), "test.greeting.v2", `[1]`, nil, "upcast test.greeting.v2"},
		{"upcaster error is wrapped", eventlog.NewCodec(func() eventlog.Event { return &greeting{} }).
			WithUpcaster("test.greeting.v2", func(json.RawMessage) (string, json.RawMessage, error) { return "", nil, boom }),
			"test.greeting.v2", `{}`, boom, "upcast test.greeting.v2: boom"},
		{"upcaster to an unknown type", eventlog.NewCodec(func() eventlog.Event { return &greeting{} }).
			WithUpcaster("test.greeting.v2", func(d json.RawMessage) (string, json.RawMessage, error) { return "test.greeting.v9", d, nil }),
			"test.greeting.v2", `{}`, eventlog.ErrUnknownEventType, "test.greeting.v9"},
		{"upcaster that panics costs the event an error, not the reader", eventlog.NewCodec(func() eventlog.Event { return &greeting{} }).
			WithUpcaster("test.greeting.v2", func(d json.RawMessage) (string, json.RawMessage, error) {
				var m map[string]any
				_ = json.Unmarshal(d, &m)
				m["lang"] = "en" // a nil map for null: panics
				return "test.greeting.v3", d, nil
			}),
			"test.greeting.v2", `null`, eventlog.ErrUpcasterPanicked, "upcast test.greeting.v2: the upcaster panicked"},
		{"upcaster cycle ends instead of hanging", eventlog.NewCodec(func() eventlog.Event { return &greeting{} }).
			WithUpcaster("test.a.v1", func(d json.RawMessage) (string, json.RawMessage, error) { return "test.b.v1", d, nil }).
			WithUpcaster("test.b.v1", func(d json.RawMessage) (string, json.RawMessage, error) { return "test.a.v1", d, nil }),
			"test.a.v1", `{}`, nil, "test."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := tt.codec.Decode(tt.typ, json.RawMessage(tt.data))
			if err == nil {
				t.Fatalf("Decode = %#v, want an error", e)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("Decode error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}

type unencodable struct {
	C chan int `json:"c"`
}

func (*unencodable) EventType() string { return "test.unencodable.v1" }

func TestCodecEncodeError(t *testing.T) {
	codec := eventlog.NewCodec(func() eventlog.Event { return &unencodable{} })
	typ, data, err := codec.Encode(&unencodable{C: make(chan int)})
	if err == nil {
		t.Fatalf("Encode = %s %s, want an error", typ, data)
	}
	if !strings.Contains(err.Error(), "test.unencodable.v1") || typ != "" || data != nil {
		t.Fatalf("Encode = %q %s %v", typ, data, err)
	}
}

// SetUnmarshal replaces how every codec reads payloads; nil restores encoding/json.
func TestSetUnmarshal(t *testing.T) {
	var calls int
	eventlog.SetUnmarshal(func(data []byte, v any) error {
		calls++
		return json.Unmarshal(data, v)
	})
	defer eventlog.SetUnmarshal(nil)
	e, err := request.Codec().Decode("request.assigned.v1", json.RawMessage(`{"technician_id":"11111111-1111-1111-1111-111111111111"}`))
	if err != nil || calls != 1 || !reflect.DeepEqual(e, &request.Assigned{TechnicianID: codectest.SampleID1}) {
		t.Fatalf("Decode through the set unmarshal: %#v, %v, %d calls", e, err, calls)
	}
	eventlog.SetUnmarshal(nil)
	if _, err := request.Codec().Decode("request.assigned.v1", json.RawMessage(`{}`)); err != nil || calls != 1 {
		t.Fatalf("after SetUnmarshal(nil): %v, %d calls; want encoding/json", err, calls)
	}
}
