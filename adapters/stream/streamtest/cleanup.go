package streamtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	nc "github.com/nats-io/nats.go"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/helpstream/helpstream/adapters/stream"
)

// The brokers outlive the tests: these remove what a test declared there. A failure is logged,
// not fatal: a leftover topic costs the broker some space, never another test its result.

// DeleteAMQPTopic deletes a topic's queues, then its exchange, on the RabbitMQ at amqpURL.
func DeleteAMQPTopic(tb testing.TB, amqpURL, exchange string, queues ...string) {
	tb.Helper()
	conn, err := amqp091.Dial(amqpURL)
	if err != nil {
		tb.Logf("clean up RabbitMQ: %v", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		tb.Logf("clean up RabbitMQ: %v", err)
		return
	}
	defer ch.Close()
	for _, q := range queues {
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			tb.Logf("delete queue %s: %v", q, err)
			return // the channel is closed after an error
		}
	}
	if err := ch.ExchangeDelete(exchange, false, false); err != nil {
		tb.Logf("delete exchange %s: %v", exchange, err)
	}
}

// DeleteNATSTopic deletes the JetStream stream of a topic on the NATS at natsURL.
func DeleteNATSTopic(tb testing.TB, natsURL, topic string) {
	tb.Helper()
	conn, err := nc.Connect(natsURL)
	if err != nil {
		tb.Logf("clean up NATS: %v", err)
		return
	}
	defer conn.Close()
	js, err := conn.JetStream()
	if err != nil {
		tb.Logf("clean up NATS: %v", err)
		return
	}
	if err := js.DeleteStream(stream.NATSStreamName(topic)); err != nil && !errors.Is(err, nc.ErrStreamNotFound) {
		tb.Logf("delete JetStream stream of %s: %v", topic, err)
	}
}

// DropSQLTopic drops a watermill-sql topic's tables in the database at databaseURL.
func DropSQLTopic(tb testing.TB, databaseURL, topic string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		tb.Logf("clean up watermill-sql: %v", err)
		return
	}
	defer conn.Close(ctx)
	for _, table := range []string{"watermill_" + topic, "watermill_offsets_" + topic} {
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()); err != nil {
			tb.Logf("drop %s: %v", table, err)
		}
	}
}
