package eventlog_test

import (
	"encoding/json"
	"testing"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/codectest"
	"github.com/helpstream/helpstream/domain/request"
)

// FuzzCodecDecode feeds any type name and any payload bytes to the codecs a reader uses (the
// request and directory codecs, and a codec with a chain of upcasters): Decode must answer an
// event or an error, never panic; and what it decodes must be what the codec writes back, so
// that a stored event read, changed and rewritten cannot drift. The directory codec reads
// technician.notification_settings_changed.v1 through an upcaster; the chain of several is this
// file's own: it holds the codec's part (the chain, its bound, errors on the way) to the
// property, whatever the bytes.
func FuzzCodecDecode(f *testing.F) {
	codectest.AddSamples(f, request.Codec(), codectest.RequestSamples()...)
	codectest.AddSamples(f, directory.Codec(), codectest.DirectorySamples()...)
	f.Add("test.greeting.v1", []byte(`{"msg":"hello"}`))
	f.Add("test.greeting.v2", []byte(`{"text":"hallo","lang":"de"}`))
	f.Add("test.greeting.v1", []byte(`{"msg":""}`))
	f.Add("test.greeting.v2", []byte(`null`))
	f.Add("fuzz.loop.a", []byte(`{}`))
	f.Add("fuzz.lost.v1", []byte(`{}`))
	f.Add("request.submitted.v1", []byte(`{"customer":{"name":"\u0000\ud800"},"source":null}`))
	f.Add("request.file_shared.v1", []byte(`{"size":1e400}`))
	f.Add("technician.notification_settings_changed.v1", []byte(`{"settings":{"email":"yes"}}`))
	f.Add("technician.notification_settings_changed.v1", []byte(`{"technician_id":"11111111-1111-1111-1111-111111111111","settings":{"email":true,"webhook_url":"https://h.example.com/x?token=t0k3n","in_console":false}}`))
	f.Add("technician.notification_settings_changed.v1", []byte(`{"technician_id":null,"settings":null}`))
	f.Add("request.assigned.v1", []byte("\xff\xfe{"))

	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		for _, codec := range []*eventlog.Codec{upcastingCodec(), request.Codec(), directory.Codec()} {
			codectest.CheckDecode(t, codec, typ, data)
		}
	})
}

// upcastingCodec is greetingCodec, whose greetings are read through two upcasters, with an
// upcaster cycle (fuzz.loop.a ↔ fuzz.loop.b) and an upcaster to a type nobody knows
// (fuzz.lost.v1) besides.
func upcastingCodec() *eventlog.Codec {
	same := func(to string) eventlog.Upcaster {
		return func(data json.RawMessage) (string, json.RawMessage, error) { return to, data, nil }
	}
	return greetingCodec().
		WithUpcaster("fuzz.loop.a", same("fuzz.loop.b")).
		WithUpcaster("fuzz.loop.b", same("fuzz.loop.a")).
		WithUpcaster("fuzz.lost.v1", same("fuzz.lost.v2"))
}
