package pgstore

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
)

var metadataInputs = []string{
	`{}`,
	`{"actor":"admin","occurred_at":"2026-11-25T14:45:00.123456789Z"}`,
	`{"actor":"technician:6d830c2d-47a8-53bb-85c3-7a1a7b064359","occurred_at":"2026-11-25T14:45:00Z","correlation_id":"c","causation_id":"k","previous_hash":"ab","hash":"cd"}`,
	`{"hash":"cd","actor":"customer:x","occurred_at":"2026-11-25T15:45:00+01:00"}`,
	`{"actor":"a\"b\\c\u00e9 \ud83d\ude00"}`,
	`{"actor":"Zoë"}`,
	`{"Actor":"admin"}`,
	`{"actor":"a","actor":"b"}`,
	`{"actor":"a","extra":{"x":[1,2]}}`,
	`{"actor":"system","decision":{"by":"auto-assignment","rule":"round-robin"}}`,
	`{"actor":"system","decision":{"by":"reassignment","rule":"away_limit","reason":"Zoë was Away"}}`,
	`{"actor":"system","decision":null}`,
	`{"actor":"system","decision":"auto"}`,
	`{"actor": "a" }`,
	`{"actor":null}`,
	`{"actor":1}`,
	`{"occurred_at":"yesterday"}`,
	`{"occurred_at":"2026-11-25 14:45:00Z"}`,
	`{"actor":"a",}`,
	`{"actor":"a"`,
	`{"actor":"a"}x`,
	`null`,
	`[]`,
	``,
}

// decodeMetadata decodes what encoding/json decodes, into the same values, and refuses what it
// refuses.
func TestDecodeMetadataAsEncodingJSON(t *testing.T) {
	m := eventlog.Metadata{Actor: "technician:1", OccurredAt: time.Date(2026, 11, 25, 14, 45, 0, 123456789, time.UTC),
		CorrelationID: "corr", CausationID: "cause", PreviousHash: "00ff", Hash: "ff00"}
	written, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range append(metadataInputs, string(written)) {
		t.Run(in, func(t *testing.T) { checkDecodeMetadata(t, []byte(in)) })
	}
}

func FuzzDecodeMetadataAsEncodingJSON(f *testing.F) {
	for _, in := range metadataInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(checkDecodeMetadata)
}

func checkDecodeMetadata(t *testing.T, data []byte) {
	var want, got eventlog.Metadata
	wantErr := json.Unmarshal(data, &want)
	err := decodeMetadata(data, &got)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%q: error %v, encoding/json says %v", data, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decoded %+v, encoding/json decodes %+v", data, got, want)
	}
}
