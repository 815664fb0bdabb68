// Package streamtest holds what the tests of the event stream share, in its package and in the
// binary's.
package streamtest

import (
	"context"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Subscribe subscribes a new subscriber to topic and returns its messages; the subscriber is
// closed when the test ends.
func Subscribe(tb testing.TB, ctx context.Context, topic string, newSubscriber func() (message.Subscriber, error)) <-chan *message.Message {
	tb.Helper()
	sub, err := newSubscriber()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		tb.Fatal(err)
	}
	return msgs
}
