package stream_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	nc "github.com/nats-io/nats.go"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/helpstream/helpstream/adapters/stream"
)

// The brokers outlive the tests: these remove what a test declared there.

func deleteAMQPTopic(t *testing.T, exchange string, queues ...string) {
	conn, err := amqp091.Dial(amqpURL)
	if err != nil {
		t.Logf("clean up RabbitMQ: %v", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Logf("clean up RabbitMQ: %v", err)
		return
	}
	defer ch.Close()
	for _, q := range queues {
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			t.Logf("delete queue %s: %v", q, err)
			return // the channel is closed after an error
		}
	}
	if err := ch.ExchangeDelete(exchange, false, false); err != nil {
		t.Logf("delete exchange %s: %v", exchange, err)
	}
}

func deleteNATSTopic(t *testing.T, topic string) {
	conn, err := nc.Connect(natsURL)
	if err != nil {
		t.Logf("clean up NATS: %v", err)
		return
	}
	defer conn.Close()
	js, err := conn.JetStream()
	if err != nil {
		t.Logf("clean up NATS: %v", err)
		return
	}
	if err := js.DeleteStream(stream.NATSStreamName(topic)); err != nil && err != nc.ErrStreamNotFound {
		t.Logf("delete JetStream stream of %s: %v", topic, err)
	}
}

func dropSQLTopic(t *testing.T, databaseURL, topic string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Logf("clean up watermill-sql: %v", err)
		return
	}
	defer conn.Close(ctx)
	for _, table := range []string{"watermill_" + topic, "watermill_offsets_" + topic} {
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()); err != nil {
			t.Logf("drop %s: %v", table, err)
		}
	}
}
