package kurrent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/eventstore/kurrent"
	"github.com/helpstream/helpstream/domain/eventlog"
)

func TestExpectedRevision(t *testing.T) {
	tests := []struct {
		name     string
		expected eventlog.ExpectedVersion
		want     esdb.ExpectedRevision
	}{
		{"any", eventlog.Any(), esdb.Any{}},
		{"no stream", eventlog.NoStream(), esdb.NoStream{}},
		{"exactly -1 is no stream", eventlog.Exactly(-1), esdb.NoStream{}},
		{"exactly 0", eventlog.Exactly(0), esdb.Revision(0)},
		{"exactly 41", eventlog.Exactly(41), esdb.Revision(41)},
		{"exactly large", eventlog.Exactly(1 << 40), esdb.Revision(1 << 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kurrent.ExpectedRevision(tt.expected); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ExpectedRevision(%v) = %#v, want %#v", tt.expected, got, tt.want)
			}
		})
	}
}

func TestPositionMapping(t *testing.T) {
	tests := []esdb.Position{
		{Commit: 0, Prepare: 0},
		{Commit: 1, Prepare: 1},
		{Commit: 12345, Prepare: 12000},
		{Commit: 1<<63 + 7, Prepare: 1<<62 + 3},
		{Commit: ^uint64(0), Prepare: ^uint64(0)},
	}
	for _, p := range tests {
		t.Run(fmt.Sprintf("%d/%d", p.Commit, p.Prepare), func(t *testing.T) {
			pos := kurrent.ToPosition(p)
			hi, lo := pos.Parts()
			if hi != p.Commit || lo != p.Prepare {
				t.Errorf("parts = (%d, %d), want (commit %d, prepare %d)", hi, lo, p.Commit, p.Prepare)
			}
			if back := kurrent.FromPosition(pos); back != p {
				t.Errorf("FromPosition(ToPosition(%v)) = %v", p, back)
			}
			text, err := pos.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			var parsed eventlog.Position
			if err := parsed.UnmarshalText(text); err != nil || kurrent.FromPosition(parsed) != p {
				t.Errorf("text round trip of %v through %q = %v, %v", p, text, parsed, err)
			}
		})
	}
}

func TestPositionOrderFollowsAll(t *testing.T) {
	// $all is ordered by commit position, then prepare position (events of one transaction share
	// the commit position).
	ordered := []esdb.Position{
		{Commit: 100, Prepare: 100},
		{Commit: 200, Prepare: 150},
		{Commit: 200, Prepare: 180},
		{Commit: 200, Prepare: 200},
		{Commit: 300, Prepare: 10},
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := kurrent.ToPosition(ordered[i]).Compare(kurrent.ToPosition(ordered[j])); got != want {
				t.Errorf("Compare(%v, %v) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestAllPosition(t *testing.T) {
	if got := kurrent.AllPosition(eventlog.Start()); got != (esdb.Start{}) {
		t.Errorf("AllPosition(Start) = %#v, want esdb.Start{}", got)
	}
	p := eventlog.NewPosition(42, 40)
	if got := kurrent.AllPosition(p); got != (esdb.Position{Commit: 42, Prepare: 40}) {
		t.Errorf("AllPosition(%v) = %#v", p, got)
	}
}

func sampleMetadata() eventlog.Metadata {
	return eventlog.Metadata{
		Actor:         "technician:" + uuid.NewString(),
		OccurredAt:    time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC),
		CorrelationID: uuid.NewString(),
		CausationID:   uuid.NewString(),
		PreviousHash:  strings.Repeat("ab", 32),
		Hash:          strings.Repeat("cd", 32),
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		meta eventlog.Metadata
	}{
		{"full", sampleMetadata()},
		{"zero", eventlog.Metadata{}},
		{"actor only", eventlog.Metadata{Actor: "system"}},
		{"unicode and quotes", eventlog.Metadata{Actor: `customer:"Zoë" <é>`, OccurredAt: time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := kurrent.EncodeMetadata(tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(b) {
				t.Fatalf("metadata is not JSON: %s", b)
			}
			got, err := kurrent.DecodeMetadata(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.meta) {
				t.Errorf("round trip = %#v, want %#v", got, tt.meta)
			}
		})
	}
}

func TestDecodeMetadata(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    eventlog.Metadata
		wantErr bool
	}{
		{"empty", "", eventlog.Metadata{}, false},
		{"blank", "  \n", eventlog.Metadata{}, false},
		{"empty object", "{}", eventlog.Metadata{}, false},
		{"unknown fields ignored", `{"actor":"admin","$correlationId":"x","other":1}`, eventlog.Metadata{Actor: "admin"}, false},
		{"time", `{"occurred_at":"2024-01-02T03:04:05.000000006Z"}`, eventlog.Metadata{OccurredAt: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)}, false},
		{"not json", "actor=admin", eventlog.Metadata{}, true},
		{"bad time", `{"occurred_at":"yesterday"}`, eventlog.Metadata{}, true},
		{"array", `[1,2]`, eventlog.Metadata{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kurrent.DecodeMetadata([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("DecodeMetadata(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeMetadata(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestToEventData(t *testing.T) {
	id := uuid.New()
	meta := sampleMetadata()
	meta.Decision = &eventlog.Decision{By: eventlog.DecisionReassignment, Rule: "away_limit", Reason: "away_limit: Bob was Offline 5m0s with 1 unanswered request"}
	// Odd but valid JSON: the bytes must travel unchanged (the hash chain depends on them).
	data := json.RawMessage("{\"b\": 1,  \"a\":[ 2 ,3 ], \"b\": 4}")
	got, err := kurrent.ToEventData(eventlog.EventData{ID: id, Type: "request.submitted.v1", Data: data, Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	if got.EventID != id {
		t.Errorf("EventID = %s, want our ID %s", got.EventID, id)
	}
	if got.EventType != "request.submitted.v1" {
		t.Errorf("EventType = %q", got.EventType)
	}
	if got.ContentType != esdb.ContentTypeJson {
		t.Errorf("ContentType = %v, want JSON", got.ContentType)
	}
	if !bytes.Equal(got.Data, data) {
		t.Errorf("Data = %s, want %s", got.Data, data)
	}
	back, err := kurrent.DecodeMetadata(got.Metadata)
	if err != nil || !reflect.DeepEqual(back, meta) {
		t.Errorf("Metadata = %s (%v), want %#v", got.Metadata, err, meta)
	}

	empty, err := kurrent.ToEventData(eventlog.EventData{ID: id, Type: "t.v1"})
	if err != nil {
		t.Fatal(err)
	}
	if empty.Data == nil || len(empty.Data) != 0 {
		t.Errorf("nil data should travel as empty bytes, got %#v", empty.Data)
	}
}

func TestToEventDataRejects(t *testing.T) {
	tests := []struct {
		name   string
		event  eventlog.EventData
		target error
	}{
		{"no id", eventlog.EventData{Type: "t.v1", Data: json.RawMessage(`{}`)}, kurrent.ErrNoEventID},
		{"no type", eventlog.EventData{ID: uuid.New(), Data: json.RawMessage(`{}`)}, nil},
		{"system type", eventlog.EventData{ID: uuid.New(), Type: "$metadata", Data: json.RawMessage(`{}`)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kurrent.ToEventData(tt.event)
			if err == nil {
				t.Fatal("accepted")
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("error %v is not %v", err, tt.target)
			}
		})
	}
}

func TestToEventDataBatch(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	ok := []eventlog.EventData{{ID: a, Type: "x.v1"}, {ID: b, Type: "y.v1"}}
	got, err := kurrent.ToEventDataBatch(ok)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].EventID != a || got[1].EventID != b {
		t.Errorf("batch = %+v", got)
	}
	_, err = kurrent.ToEventDataBatch([]eventlog.EventData{{ID: a, Type: "x.v1"}, {ID: a, Type: "y.v1"}})
	if !errors.Is(err, eventlog.ErrIDReused) {
		t.Errorf("duplicate ID in one batch: error %v, want ErrIDReused", err)
	}
	_, err = kurrent.ToEventDataBatch([]eventlog.EventData{{ID: a, Type: "x.v1"}, {Type: "y.v1"}})
	if !errors.Is(err, kurrent.ErrNoEventID) {
		t.Errorf("missing ID in a batch: error %v, want ErrNoEventID", err)
	}
}

func recorded(stream string, version uint64, pos uint64, typ string, meta []byte) *esdb.RecordedEvent {
	return &esdb.RecordedEvent{
		EventID:      uuid.New(),
		EventType:    typ,
		ContentType:  "application/json",
		StreamID:     stream,
		EventNumber:  version,
		Position:     esdb.Position{Commit: pos, Prepare: pos},
		CreatedDate:  time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Data:         []byte(`{"n":1}`),
		UserMetadata: meta,
	}
}

func TestFromRecordedEvent(t *testing.T) {
	meta := sampleMetadata()
	metaJSON, _ := kurrent.EncodeMetadata(meta)
	stream := "request-" + uuid.NewString()

	tests := []struct {
		name       string
		event      *esdb.RecordedEvent
		namespace  string
		wantStream string
		wantMeta   eventlog.Metadata
		wantErr    bool
	}{
		{"plain", recorded(stream, 7, 900, "request.assigned.v1", metaJSON), "", stream, meta, false},
		{"namespace stripped", recorded("tenant-a."+stream, 0, 10, "request.submitted.v1", metaJSON), "tenant-a.", stream, meta, false},
		{"no metadata", recorded(stream, 1, 20, "x.v1", nil), "", stream, eventlog.Metadata{}, false},
		{"outside namespace", recorded(stream, 1, 20, "x.v1", metaJSON), "tenant-a.", "", eventlog.Metadata{}, true},
		{"bad metadata", recorded(stream, 1, 20, "x.v1", []byte("{")), "", "", eventlog.Metadata{}, true},
		{"nil event", nil, "", "", eventlog.Metadata{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kurrent.FromRecordedEvent(tt.event, tt.namespace)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			e := tt.event
			want := eventlog.RecordedEvent{
				ID:         e.EventID,
				StreamID:   tt.wantStream,
				Version:    int64(e.EventNumber),
				Type:       e.EventType,
				Data:       json.RawMessage(e.Data),
				Metadata:   tt.wantMeta,
				Position:   eventlog.NewPosition(e.Position.Commit, e.Position.Prepare),
				RecordedAt: e.CreatedDate,
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("FromRecordedEvent = %+v\nwant %+v", got, want)
			}
		})
	}
}

// An event written through ToEventData and read back as the server returns it keeps every field.
func TestEventRoundTrip(t *testing.T) {
	in := eventlog.EventData{
		ID:       uuid.New(),
		Type:     "request.message_sent.v1",
		Data:     json.RawMessage(`{"text":"Bonjour, je n'arrive pas à imprimer","attachments":[]}`),
		Metadata: sampleMetadata(),
	}
	wire, err := kurrent.ToEventData(in)
	if err != nil {
		t.Fatal(err)
	}
	stored := &esdb.RecordedEvent{
		EventID:      wire.EventID,
		EventType:    wire.EventType,
		ContentType:  "application/json",
		StreamID:     "request-1",
		EventNumber:  3,
		Position:     esdb.Position{Commit: 5000, Prepare: 4990},
		Data:         wire.Data,
		UserMetadata: wire.Metadata,
	}
	out, err := kurrent.FromRecordedEvent(stored, "")
	if err != nil {
		t.Fatal(err)
	}
	if out.ID != in.ID || out.Type != in.Type || !bytes.Equal(out.Data, in.Data) || !reflect.DeepEqual(out.Metadata, in.Metadata) {
		t.Errorf("round trip changed the event:\n in  %+v\n out %+v", in, out)
	}
	if out.StreamID != "request-1" || out.Version != 3 || out.Position != eventlog.NewPosition(5000, 4990) {
		t.Errorf("stream/version/position = %s/%d/%v", out.StreamID, out.Version, out.Position)
	}
}

func TestIsSystemEvent(t *testing.T) {
	tests := []struct {
		stream, typ string
		want        bool
	}{
		{"request-1", "request.submitted.v1", false},
		{"$stats-127.0.0.1:2113", "$statsCollected", true},
		{"$$request-1", "$metadata", true},
		{"request-1", "$>", true},
		{"$ce-request", "request.submitted.v1", true},
		{"company-1", "company.created.v1", false},
	}
	for _, tt := range tests {
		e := &esdb.RecordedEvent{StreamID: tt.stream, EventType: tt.typ}
		if got := kurrent.IsSystemEvent(e); got != tt.want {
			t.Errorf("IsSystemEvent(%s, %s) = %v, want %v", tt.stream, tt.typ, got, tt.want)
		}
	}
	if !kurrent.IsSystemEvent(nil) {
		t.Error("a missing event (unresolved link) must be skipped")
	}
}

func TestStreamName(t *testing.T) {
	tests := []struct {
		namespace, stream, want string
		wantErr                 bool
	}{
		{"", "request-abc", "request-abc", false},
		{"t1.", "request-abc", "t1.request-abc", false},
		{"", "", "", true},
		{"", "$all", "", true},
		{"", "$$request-abc", "", true},
	}
	for _, tt := range tests {
		got, err := kurrent.StreamName(tt.namespace, tt.stream)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("StreamName(%q, %q) = %q, %v; want %q, err %v", tt.namespace, tt.stream, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSubscriptionFilter(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		prefixes  []string
		want      *esdb.SubscriptionFilter
	}{
		{"prefixes", "", []string{"request-", "company-"}, &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"request-", "company-"}}},
		{"prefixes in a namespace", "t1.", []string{"request-"}, &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"t1.request-"}}},
		{"namespace only", "t1.", nil, &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"t1."}}},
		{"everything but system events", "", nil, esdb.ExcludeSystemEventsFilter()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kurrent.SubscriptionFilter(tt.namespace, tt.prefixes); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SubscriptionFilter = %+v, want %+v", got, tt.want)
			}
		})
	}
	// The caller's slice is not changed by namespacing.
	prefixes := []string{"request-"}
	kurrent.SubscriptionFilter("t1.", prefixes)
	if prefixes[0] != "request-" {
		t.Errorf("caller's prefixes changed: %v", prefixes)
	}
}

func TestSubscribeOptions(t *testing.T) {
	tests := []struct {
		name string
		cfg  kurrent.Config
		from eventlog.Position
		want esdb.SubscribeToAllOptions
	}{
		{
			name: "from the start, defaults",
			from: eventlog.Start(),
			want: esdb.SubscribeToAllOptions{
				From:               esdb.Start{},
				Filter:             &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"request-"}},
				MaxSearchWindow:    kurrent.DefaultMaxSearchWindow,
				CheckpointInterval: 1,
			},
		},
		{
			name: "from a position, leader, window",
			cfg:  kurrent.Config{RequireLeader: true, MaxSearchWindow: 100},
			from: eventlog.NewPosition(77, 70),
			want: esdb.SubscribeToAllOptions{
				From:               esdb.Position{Commit: 77, Prepare: 70},
				Filter:             &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"request-"}},
				MaxSearchWindow:    100,
				CheckpointInterval: 1,
				RequiresLeader:     true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := kurrent.SubscribeOptions(tt.cfg, tt.from, []string{"request-"})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SubscribeOptions = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadOptions(t *testing.T) {
	all := kurrent.ReadAllOptions(kurrent.Config{}, eventlog.NewPosition(10, 9))
	if all.Direction != esdb.Forwards || all.From != (esdb.Position{Commit: 10, Prepare: 9}) || all.RequiresLeader {
		t.Errorf("ReadAllOptions = %+v", all)
	}
	if got := kurrent.ReadAllOptions(kurrent.Config{RequireLeader: true}, eventlog.Start()); got.From != (esdb.Start{}) || !got.RequiresLeader {
		t.Errorf("ReadAllOptions(start, leader) = %+v", got)
	}
	for _, tt := range []struct {
		from int64
		want uint64
	}{{0, 0}, {5, 5}, {-3, 0}} {
		got := kurrent.ReadStreamOptions(kurrent.Config{}, tt.from)
		if got.Direction != esdb.Forwards || got.From != esdb.Revision(tt.want) {
			t.Errorf("ReadStreamOptions(%d) = %+v, want from revision %d", tt.from, got, tt.want)
		}
	}
}

// wrongVersion reproduces the text EventStore-Client-Go v4 gives a wrong-expected-version error.
func wrongVersion(expected, current string) error {
	return fmt.Errorf("wrong expected version: expecting '%s' but got '%s'", expected, current)
}

func TestActualVersion(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   int64
		wantOK bool
	}{
		{"revision", wrongVersion("3", "5"), 5, true},
		{"zero", wrongVersion("no_stream", "0"), 0, true},
		{"no stream", wrongVersion("4", "no_stream"), -1, true},
		{"wrapped", fmt.Errorf("append: %w", wrongVersion("any", "17")), 17, true},
		{"unrelated", errors.New("connection refused"), 0, false},
		{"garbage", wrongVersion("1", "x"), 0, false},
		{"nil", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := kurrent.ActualVersion(tt.err)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ActualVersion = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestMapAppendErrorCode(t *testing.T) {
	stream := "request-" + uuid.NewString()
	tests := []struct {
		name       string
		expected   eventlog.ExpectedVersion
		code       esdb.ErrorCode
		err        error
		wantActual int64
		concurrent bool
	}{
		{"conflict with revision", eventlog.Exactly(3), esdb.ErrorCodeWrongExpectedVersion, wrongVersion("3", "5"), 5, true},
		{"stream exists already", eventlog.NoStream(), esdb.ErrorCodeWrongExpectedVersion, wrongVersion("no_stream", "0"), 0, true},
		{"stream missing", eventlog.Exactly(2), esdb.ErrorCodeWrongExpectedVersion, wrongVersion("2", "no_stream"), -1, true},
		{"conflict without detail", eventlog.Exactly(2), esdb.ErrorCodeWrongExpectedVersion, errors.New("wrong expected version"), -1, true},
		{"other error", eventlog.Exactly(2), esdb.ErrorCodeAccessDenied, errors.New("access denied"), 0, false},
		{"unknown", eventlog.Any(), esdb.ErrorCodeUnknown, errors.New("boom"), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := kurrent.MapAppendErrorCode(stream, tt.expected, tt.code, tt.err)
			if errors.Is(err, eventlog.ErrConcurrency) != tt.concurrent {
				t.Fatalf("errors.Is(%v, ErrConcurrency) = %v, want %v", err, !tt.concurrent, tt.concurrent)
			}
			if !tt.concurrent {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), stream) {
					t.Errorf("error %v should wrap %v and name the stream", err, tt.err)
				}
				return
			}
			var ce *eventlog.ConcurrencyError
			if !errors.As(err, &ce) {
				t.Fatalf("%v is not a *ConcurrencyError", err)
			}
			if ce.StreamID != stream || ce.Expected != tt.expected || ce.Actual != tt.wantActual {
				t.Errorf("ConcurrencyError = %+v, want stream %s expected %v actual %d", ce, stream, tt.expected, tt.wantActual)
			}
		})
	}
	if err := kurrent.MapAppendErrorCode(stream, eventlog.Any(), esdb.ErrorCodeWrongExpectedVersion, nil); err != nil {
		t.Errorf("nil error mapped to %v", err)
	}
	if err := kurrent.MapAppendError(stream, eventlog.Any(), nil); err != nil {
		t.Errorf("MapAppendError(nil) = %v", err)
	}
	// A plain error has no client code: it is wrapped, not a conflict.
	if err := kurrent.MapAppendError(stream, eventlog.Any(), wrongVersion("1", "2")); errors.Is(err, eventlog.ErrConcurrency) {
		t.Errorf("an error without the client's code must not become a conflict: %v", err)
	}
}

func TestIsPermanentCode(t *testing.T) {
	permanent := []esdb.ErrorCode{esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeUnsupportedFeature, esdb.ErrorCodeStreamDeleted, esdb.ErrorCodeParsing}
	transient := []esdb.ErrorCode{esdb.ErrorCodeUnknown, esdb.ErrorUnavailable, esdb.ErrorCodeNotLeader, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorCodeConnectionClosed, esdb.ErrorAborted, esdb.ErrorCodeInternalServer}
	for _, c := range permanent {
		if !kurrent.IsPermanentCode(c) {
			t.Errorf("code %d should be permanent", c)
		}
	}
	for _, c := range transient {
		if kurrent.IsPermanentCode(c) {
			t.Errorf("code %d should be retried", c)
		}
	}
	if kurrent.IsPermanent(errors.New("plain")) || kurrent.IsPermanent(nil) {
		t.Error("errors without a client code are not permanent")
	}
}

func TestURLs(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"esdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false", false},
		{"esdb+discover://cluster.example.com:2113", "esdb+discover://cluster.example.com:2113", false},
		{"kurrentdb://admin:changeit@a:2113,b:2113,c:2113?nodePreference=leader", "esdb://admin:changeit@a:2113,b:2113,c:2113?nodePreference=leader", false},
		{"kurrentdb+discover://cluster:2113", "esdb+discover://cluster:2113", false},
		{"KurrentDB://h:2113", "esdb://h:2113", false},
		{"kurrent://h:2113?tls=false", "esdb://h:2113?tls=false", false},
		{"postgres://localhost/db", "", true},
		{"localhost:2113", "", true},
	}
	for _, tt := range tests {
		got, err := kurrent.NormalizeURL(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if kurrent.IsURL(tt.in) == tt.wantErr {
			t.Errorf("IsURL(%q) = %v", tt.in, !tt.wantErr)
		}
		if !tt.wantErr {
			if _, err := esdb.ParseConnectionString(got); err != nil {
				t.Errorf("the client rejects the normalized %q: %v", got, err)
			}
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"esdb://admin:changeit@localhost:2113?tls=true", "esdb://admin:xxxxx@localhost:2113?tls=true"},
		{"esdb://admin:changeit@a:2113,b:2113,c:2113", "esdb://admin:xxxxx@a:2113,b:2113,c:2113"},
		{"esdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false"},
		{"esdb://admin@localhost:2113", "esdb://admin@localhost:2113"},
		{"postgres://u:p@h/db?x=@y", "postgres://u:xxxxx@h/db?x=@y"},
		{"not a url", "not a url"},
	}
	for _, tt := range tests {
		if got := kurrent.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	got := kurrent.Config{}.WithDefaults()
	want := kurrent.DefaultConfig()
	if got.ReadPageSize != want.ReadPageSize || got.IDScanPageSize != want.IDScanPageSize ||
		got.AnyAppendAttempts != want.AnyAppendAttempts || got.SubscriptionBuffer != want.SubscriptionBuffer ||
		got.MaxSearchWindow != want.MaxSearchWindow || got.ReconnectMinDelay != want.ReconnectMinDelay ||
		got.ReconnectMaxDelay != want.ReconnectMaxDelay || got.ReconnectJitter != want.ReconnectJitter || got.Logger == nil {
		t.Errorf("Config{}.WithDefaults() = %+v, want %+v", got, want)
	}
	kept := kurrent.Config{ReadPageSize: 7, ReconnectMinDelay: time.Second, ReconnectMaxDelay: time.Minute, Namespace: "t."}.WithDefaults()
	if kept.ReadPageSize != 7 || kept.ReconnectMinDelay != time.Second || kept.ReconnectMaxDelay != time.Minute || kept.Namespace != "t." {
		t.Errorf("set fields must be kept: %+v", kept)
	}
	if j := (kurrent.Config{NoJitter: true}).WithDefaults().ReconnectJitter; j != 0 {
		t.Errorf("NoJitter: jitter = %v", j)
	}
	if err := kurrent.DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     kurrent.Config
		wantErr string
	}{
		{"zero", kurrent.Config{}, ""},
		{"namespace", kurrent.Config{Namespace: "tenant-a."}, ""},
		{"system namespace", kurrent.Config{Namespace: "$sys"}, "Namespace"},
		{"negative page", kurrent.Config{ReadPageSize: -1}, "ReadPageSize"},
		{"negative scan page", kurrent.Config{IDScanPageSize: -5}, "IDScanPageSize"},
		{"negative attempts", kurrent.Config{AnyAppendAttempts: -1}, "AnyAppendAttempts"},
		{"negative buffer", kurrent.Config{SubscriptionBuffer: -1}, "SubscriptionBuffer"},
		{"negative window", kurrent.Config{MaxSearchWindow: -2}, "MaxSearchWindow"},
		{"negative delay", kurrent.Config{ReconnectMinDelay: -time.Second}, "ReconnectMinDelay"},
		{"max below min", kurrent.Config{ReconnectMinDelay: time.Minute, ReconnectMaxDelay: time.Second}, "ReconnectMaxDelay"},
		{"jitter above one", kurrent.Config{ReconnectJitter: 1.5}, "ReconnectJitter"},
		{"negative jitter", kurrent.Config{ReconnectJitter: -0.1}, "ReconnectJitter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %v, want an error about %s", err, tt.wantErr)
			}
		})
	}
}

func TestReconnectDelay(t *testing.T) {
	cfg := kurrent.Config{ReconnectMinDelay: 100 * time.Millisecond, ReconnectMaxDelay: time.Second, ReconnectJitter: 0.5}
	tests := []struct {
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{0, 0, 100 * time.Millisecond},
		{1, 0, 200 * time.Millisecond},
		{2, 0, 400 * time.Millisecond},
		{3, 0, 800 * time.Millisecond},
		{4, 0, time.Second},                         // capped
		{1000, 0, time.Second},                      // no overflow
		{0, 1, 50 * time.Millisecond},               // full jitter takes half off
		{3, 0.5, 600 * time.Millisecond},            // 800ms - 800ms*0.5*0.5
		{-1, 0, 100 * time.Millisecond},             // clamped
		{4, 2, 500 * time.Millisecond},              // rnd clamped to 1
		{4, -1, time.Second},                        // rnd clamped to 0
		{2, 0.25, 350 * time.Millisecond},           // 400ms - 400ms*0.5*0.25
		{10, 0.999999, 500000500 * time.Nanosecond}, // just above half the cap
	}
	for _, tt := range tests {
		if got := cfg.ReconnectDelay(tt.attempt, tt.rnd); got != tt.want {
			t.Errorf("ReconnectDelay(%d, %v) = %s, want %s", tt.attempt, tt.rnd, got, tt.want)
		}
	}
	noJitter := kurrent.Config{NoJitter: true}
	if got := noJitter.ReconnectDelay(0, 0.9); got != kurrent.DefaultReconnectMinDelay {
		t.Errorf("without jitter: %s", got)
	}
	// Every delay stays within [d*(1-jitter), d] and never above the cap.
	for attempt := 0; attempt < 70; attempt++ {
		for _, rnd := range []float64{0, 0.3, 0.7, 0.99} {
			d := kurrent.DefaultConfig().ReconnectDelay(attempt, rnd)
			if d <= 0 || d > kurrent.DefaultReconnectMaxDelay {
				t.Fatalf("ReconnectDelay(%d, %v) = %s out of range", attempt, rnd, d)
			}
		}
	}
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New accepted an invalid configuration")
		}
	}()
	kurrent.New(nil, kurrent.Config{ReadPageSize: -1})
}

func TestOpenRejectsBadConnectionStrings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, u := range []string{
		"postgres://localhost/helpstream",
		"esdb://",
		"esdb://localhost:2113?tls=maybe",
	} {
		if s, err := kurrent.Open(ctx, u); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", u)
		}
	}
	if _, err := kurrent.OpenConfig(ctx, "esdb://localhost:2113?tls=false", kurrent.Config{ReconnectJitter: 3}); err == nil {
		t.Error("OpenConfig accepted an invalid configuration")
	}
}

func TestOpenFailsWithoutServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	// Port 1 on the loopback: nothing listens there, so the ping fails fast.
	s, err := kurrent.Open(ctx, "esdb://127.0.0.1:1?tls=false&maxDiscoverAttempts=1&defaultDeadline=2000")
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded without a server")
	}
	if !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("error %q should say the server does not answer", err)
	}
	t.Logf("Open failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
}
