package eventjson_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/helpstream/helpstream/adapters/eventjson"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/codectest"
	"github.com/helpstream/helpstream/domain/request"
)

// samples is one filled-in example of every request and directory event, with text that JSON
// has to escape.
func samples() []eventlog.Event {
	return append(codectest.RequestSamples(), codectest.DirectorySamples()...)
}

// Unmarshal reads what encoding/json reads, into the same values, and refuses what it refuses:
// every event as the codecs write it, and the same payloads written otherwise.
func TestDecodesAsEncodingJSON(t *testing.T) {
	var inputs []struct{ typ, data string }
	add := func(typ, data string) { inputs = append(inputs, struct{ typ, data string }{typ, data}) }
	for _, e := range samples() {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		add(e.EventType(), string(data))
		var fields map[string]any
		if err := json.Unmarshal(data, &fields); err != nil {
			t.Fatal(err)
		}
		indented, _ := json.MarshalIndent(fields, " ", "\t")
		add(e.EventType(), string(indented))
		upper := map[string]any{}
		for k, v := range fields {
			upper[strings.ToUpper(k)] = v
		}
		shouting, _ := json.Marshal(upper)
		add(e.EventType(), string(shouting))
		for k := range fields {
			nulled := map[string]any{}
			for k2, v := range fields {
				nulled[k2] = v
			}
			nulled[k] = nil
			withNull, _ := json.Marshal(nulled)
			add(e.EventType(), string(withNull))
		}
	}
	add("request.submitted.v1", `{"customer":{"name":"\u005a\u006f\u00eb \ud83d\ude00","email":"a@b"},"description":"tab\there"}`)
	add("request.submitted.v1", `{"customer":{"name":"a","name":"b"}}`)
	add("request.submitted.v1", `{"request_id":"11111111111111111111111111111111"}`)
	add("request.submitted.v1", `{"request_id":"{11111111-1111-1111-1111-111111111111}"}`)
	add("request.submitted.v1", `{"request_id":12}`)
	add("request.submitted.v1", `{"customer":"nobody"}`)
	add("request.file_shared.v1", `{"size":1e3}`)
	add("request.file_shared.v1", `{"size":-1}`)
	add("request.file_shared.v1", `{"size":1.5}`)
	add("request.file_shared.v1", `{"size":99999999999999999999}`)
	add(directory.NotificationSettingsChangedV1, `{"technician_id":"33333333-3333-3333-3333-333333333333","email":true,"webhook":true}`)
	add(directory.NotificationSettingsChangedV1, `{"technician_id":"33333333-3333-3333-3333-333333333333","settings":{"email":true,"webhook_url":"https://x"}}`)
	add("request.assigned.v1", `null`)
	add("request.assigned.v1", `{"technician_id":null}`)
	add("request.assigned.v1", `{"technician_id":"11111111-1111-1111-1111-111111111111"} `)
	add("request.assigned.v1", `{"technician_id":"11111111-1111-1111-1111-111111111111"}}`)
	add("request.assigned.v1", `{"technician_id":"11111111-1111-1111-1111-111111111111",}`)
	for _, in := range inputs {
		t.Run(in.typ, func(t *testing.T) { checkDecodesAsEncodingJSON(t, in.typ, []byte(in.data)) })
	}
}

func FuzzDecodesAsEncodingJSON(f *testing.F) {
	for _, e := range samples() {
		data, _ := json.Marshal(e)
		f.Add(e.EventType(), data)
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		if !request.Codec().Knows(typ) && !directory.Codec().Knows(typ) || !json.Valid(data) {
			t.Skip()
		}
		checkDecodesAsEncodingJSON(t, typ, data)
	})
}

// checkDecodesAsEncodingJSON decodes data as an event of type typ through a codec with
// Unmarshal installed, and compares with the same codec on encoding/json. Comparing codec with
// codec, not codec with a bare json.Unmarshal, keeps upcast types honest: an older version is
// read through its upcaster on both sides.
func checkDecodesAsEncodingJSON(t *testing.T, typ string, data []byte) {
	codec := request.Codec()
	if !codec.Knows(typ) {
		codec = directory.Codec()
	}
	eventlog.SetUnmarshal(nil)
	want, wantErr := codec.Decode(typ, data)
	eventjson.Install()
	defer eventlog.SetUnmarshal(nil)
	got, err := codec.Decode(typ, data)

	fresh, _ := codec.Decode(typ, json.RawMessage(`{}`)) // a value of the type typ decodes to
	direct, viaStdlib := reflect.New(reflect.TypeOf(fresh).Elem()).Interface(), reflect.New(reflect.TypeOf(fresh).Elem()).Interface()
	if (eventjson.Unmarshal(data, direct) == nil) != (json.Unmarshal(data, viaStdlib) == nil) {
		t.Fatalf("%s %s: Unmarshal and encoding/json disagree on whether it decodes", typ, data)
	}
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%s %s: error %v, encoding/json says %v", typ, data, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s %s: decoded %#v, encoding/json decodes %#v", typ, data, got, want)
	}
}
