package eventlog_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/helpstream/helpstream/domain/eventlog"
)

type opened struct{}

func (*opened) EventType() string { return "test.opened.v1" }

type noted struct{ Text string }

func (*noted) EventType() string { return "test.noted.v1" }

func TestReplay(t *testing.T) {
	errNotOurs := errors.New("not our stream")
	tests := []struct {
		name    string
		history []eventlog.Event
		want    error
	}{
		{"starts with the creating event", []eventlog.Event{&opened{}, &noted{"a"}, &noted{"b"}}, nil},
		{"only the creating event", []eventlog.Event{&opened{}}, nil},
		{"empty", nil, errNotOurs},
		{"starts with another event", []eventlog.Event{&noted{"a"}, &opened{}}, errNotOurs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var applied []eventlog.Event
			err := eventlog.Replay[*opened](tt.history, func(e eventlog.Event) { applied = append(applied, e) }, errNotOurs)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Replay = %v, want %v", err, tt.want)
			}
			want := tt.history
			if tt.want != nil {
				want = nil // a stream that is not the aggregate's changes nothing
			}
			if !reflect.DeepEqual(applied, want) {
				t.Fatalf("applied %v, want %v", applied, want)
			}
		})
	}
}
