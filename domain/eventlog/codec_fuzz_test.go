package eventlog_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// FuzzCodecDecode feeds any type name and any payload bytes to the codecs a reader uses (the
// request and directory codecs, and a codec with a chain of upcasters): Decode must answer an
// event or an error, never panic; and what it decodes must be what the codec writes back, so
// that a stored event read, changed and rewritten cannot drift. The domain registers no
// upcaster yet, so the chain is this file's own: it holds the codec's part (the chain, its
// bound, errors on the way) to the property, whatever the bytes.
func FuzzCodecDecode(f *testing.F) {
	requestEvents, directoryEvents := allEvents()
	for _, e := range append(requestEvents, directoryEvents...) {
		data, err := json.Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(e.EventType(), data)
	}
	f.Add("fuzz.note.v1", []byte(`{"msg":"hello"}`))
	f.Add("fuzz.note.v2", []byte(`{"text":"hallo","lang":"de"}`))
	f.Add("fuzz.note.v1", []byte(`{"msg":""}`))
	f.Add("fuzz.note.v2", []byte(`null`))
	f.Add("fuzz.loop.a", []byte(`{}`))
	f.Add("fuzz.lost.v1", []byte(`{}`))
	f.Add("request.submitted.v1", []byte(`{"customer":{"name":"\u0000\ud800"},"source":null}`))
	f.Add("request.file_shared.v1", []byte(`{"size":1e400}`))
	f.Add("technician.notification_settings_changed.v1", []byte(`{"settings":{"email":"yes"}}`))
	f.Add("request.assigned.v1", []byte("\xff\xfe{"))

	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		for _, codec := range []*eventlog.Codec{upcastingCodec(), request.Codec(), directory.Codec()} {
			checkDecode(t, codec, typ, data)
		}
	})
}

// checkDecode is the decoding contract for one codec: an event or an error, never both and
// never neither; a decoded event is of a type the codec knows, and it encodes to bytes that
// decode back to the same event.
func checkDecode(t *testing.T, codec *eventlog.Codec, typ string, data []byte) {
	t.Helper()
	e, err := codec.Decode(typ, data)
	if err != nil {
		if e != nil {
			t.Fatalf("Decode(%q, %q) returned %#v with the error %v", typ, data, e, err)
		}
		return
	}
	if e == nil {
		t.Fatalf("Decode(%q, %q) returned neither an event nor an error", typ, data)
	}
	if !codec.Knows(e.EventType()) {
		t.Fatalf("Decode(%q, %q) made a %s, which the codec does not know", typ, data, e.EventType())
	}
	typ2, data2, err := codec.Encode(e)
	if err != nil {
		t.Fatalf("Decode(%q, %q) made %#v, which does not encode: %v", typ, data, e, err)
	}
	back, err := codec.Decode(typ2, data2)
	if err != nil {
		t.Fatalf("Decode(%q, %q) made %#v, encoded as %s; decoding that fails: %v", typ, data, e, data2, err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("Decode(%q, %q) made %#v, encoded as %s, which decodes to %#v", typ, data, e, data2, back)
	}
}

// note is an event at its third version: v1 {"msg"} → v2 {"text"} → v3 {"text", "lang"}.
type note struct {
	Text string `json:"text"`
	Lang string `json:"lang"`
}

func (*note) EventType() string { return "fuzz.note.v3" }

// upcastingCodec reads notes through two upcasters, and has an upcaster cycle (fuzz.loop.a ↔
// fuzz.loop.b) and an upcaster to a type nobody knows (fuzz.lost.v1).
func upcastingCodec() *eventlog.Codec {
	same := func(to string) eventlog.Upcaster {
		return func(data json.RawMessage) (string, json.RawMessage, error) { return to, data, nil }
	}
	return eventlog.NewCodec(func() eventlog.Event { return &note{} }).
		WithUpcaster("fuzz.note.v1", func(data json.RawMessage) (string, json.RawMessage, error) {
			var v1 struct {
				Msg string `json:"msg"`
			}
			if err := json.Unmarshal(data, &v1); err != nil {
				return "", nil, err
			}
			if v1.Msg == "" {
				return "", nil, errors.New("a v1 note without msg")
			}
			out, err := json.Marshal(struct {
				Text string `json:"text"`
			}{v1.Msg})
			return "fuzz.note.v2", out, err
		}).
		WithUpcaster("fuzz.note.v2", func(data json.RawMessage) (string, json.RawMessage, error) {
			var v2 struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal(data, &v2); err != nil {
				return "", nil, err
			}
			out, err := json.Marshal(note{Text: v2.Text, Lang: "en"})
			return "fuzz.note.v3", out, err
		}).
		WithUpcaster("fuzz.loop.a", same("fuzz.loop.b")).
		WithUpcaster("fuzz.loop.b", same("fuzz.loop.a")).
		WithUpcaster("fuzz.lost.v1", same("fuzz.lost.v2"))
}
