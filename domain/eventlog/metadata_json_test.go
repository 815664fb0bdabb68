package eventlog_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// reference decodes metadata as encoding/json does without Metadata's own decoder.
func reference(data []byte) (eventlog.Metadata, error) {
	type plain eventlog.Metadata
	var p plain
	err := json.Unmarshal(data, &p)
	return eventlog.Metadata(p), err
}

var metadataInputs = []string{
	`{}`,
	`{"actor":"admin","occurred_at":"2026-11-25T14:45:00.123456789Z"}`,
	`{"actor":"technician:6d830c2d-47a8-53bb-85c3-7a1a7b064359","occurred_at":"2026-11-25T14:45:00Z","correlation_id":"c","causation_id":"k","previous_hash":"ab","hash":"cd"}`,
	`{"hash":"cd","actor":"customer:x","occurred_at":"2026-11-25T15:45:00+01:00"}`,
	`{"actor":"a\"b","occurred_at":"2026-11-25T14:45:00Z"}`,
	`{"actor":"Zo\u00eb"}`,
	`{"actor":"Zoë"}`,
	`{"Actor":"admin"}`,
	`{"actor":"a","actor":"b"}`,
	`{"actor":"a","extra":"x"}`,
	`{"actor":"a","extra":1}`,
	`{"actor": "a"}`,
	` {"actor":"a"}`,
	`{"actor":"a"} `,
	`{"actor":"a",}`,
	`{"actor":"a"`,
	`{"actor":1}`,
	`{"actor":null}`,
	`{"occurred_at":"yesterday"}`,
	`{"occurred_at":"2026-11-25 14:45:00Z"}`,
	`{"actor":"a"}x`,
	`{"actor":"a""b"}`,
	`{"actor":"tab	here"}`,
	`{"actor"`,
	`{"actor":`,
	`{"actor":"a`,
	`{"actor"x"a"}`,
	`{`,
	`null`,
	`[]`,
	`"x"`,
	``,
}

func TestMetadataDecodesAsEncodingJSON(t *testing.T) {
	for _, in := range metadataInputs {
		t.Run(in, func(t *testing.T) { checkMetadataDecoding(t, []byte(in)) })
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	m := eventlog.Metadata{Actor: "technician:1", OccurredAt: time.Date(2026, 11, 25, 14, 45, 0, 123456789, time.UTC),
		CorrelationID: "corr", CausationID: "cause", PreviousHash: "00ff", Hash: "ff00"}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got eventlog.Metadata
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip of %s: got %+v, want %+v", data, got, m)
	}
}

func FuzzMetadataDecodesAsEncodingJSON(f *testing.F) {
	for _, in := range metadataInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(checkMetadataDecoding)
}

func checkMetadataDecoding(t *testing.T, data []byte) {
	want, wantErr := reference(data)
	var got eventlog.Metadata
	gotErr := json.Unmarshal(data, &got)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%q: error %v, encoding/json says %v", data, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decoded %+v, encoding/json decodes %+v", data, got, want)
	}
	var direct eventlog.Metadata
	if err := direct.UnmarshalJSON(data); (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(direct, want) {
		t.Fatalf("%q: UnmarshalJSON gives %+v, %v; encoding/json %+v, %v", data, direct, err, want, wantErr)
	}
}
