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

// folded is an aggregate that keeps what it was folded.
type folded struct{ events []eventlog.Event }

func (f *folded) Fold(events []eventlog.Event) { f.events = append(f.events, events...) }

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
			f := &folded{}
			got, err := eventlog.Replay[*opened](f, tt.history, errNotOurs)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Replay = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if got != nil || f.events != nil {
					t.Fatalf("Replay of another stream = %v and folded %v, want nil and nothing", got, f.events)
				}
				return
			}
			if got != f || !reflect.DeepEqual(f.events, tt.history) {
				t.Fatalf("Replay folded %v into %p and returned %p, want %v into the aggregate given", f.events, f, got, tt.history)
			}
		})
	}
}
