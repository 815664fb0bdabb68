package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/notifier"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/directory"
)

// Notifications' own stream, when no broker is given: a forwarder of this name publishes the
// log to this watermill-sql topic in the service's database, for the notifier alone.
const (
	NotificationsForwarder = "notifications"
	NotificationsTopic     = "helpstream.notifications"
)

// DefaultNotifyPoll is how often the notifier's watermill-sql subscriber looks for new
// messages when it found none: the notification's delay is at most about this much more than
// the forwarder's.
const DefaultNotifyPoll = 25 * time.Millisecond

// notifierParts returns what runs the notifications (Config.Notifications): the notifier, on
// the broker Config.NotifyBroker names or on a forwarder of its own to watermill-sql in the
// database, and that forwarder.
func (s *Service) notifierParts(ctx context.Context) (parts []func(context.Context), closeAll func(), err error) {
	cfg := s.cfg
	var closers []func()
	closeAll = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	heads, ok := s.Store.(eventlog.HeadReader)
	if !ok {
		return nil, nil, errors.New("notifications: the event store cannot tell its head, which the notifier starts from")
	}
	poll := cmp.Or(cfg.NotifyPollInterval, DefaultNotifyPoll)
	topic := cmp.Or(cfg.NotifyTopic, stream.DefaultTopic)
	var sub message.Subscriber
	switch broker := cfg.NotifyBroker; {
	case broker == "":
		topic = NotificationsTopic
		if err := stream.InitializeSQLTopic(ctx, s.Pool, topic); err != nil {
			return nil, nil, err
		}
		head, err := heads.Head(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("notifications: read the log's head: %w", err)
		}
		fwd, err := stream.NewForwarder(stream.Config{Name: NotificationsForwarder, Topic: topic, Pool: s.Pool, Store: s.Store,
			PublishInTx: stream.SQLPublisherInTx, StartFrom: head, Logger: s.log, Observer: s.runtime.observer("stream")})
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, func(ctx context.Context) { _ = fwd.Run(ctx) })
		if sub, err = stream.NewSQLSubscriber(s.Pool, stream.SQLSubscriberConfig{ConsumerGroup: notifier.ConsumerGroup, PollInterval: poll}, s.log); err != nil {
			return nil, nil, err
		}
	case strings.HasPrefix(broker, "postgres://") || strings.HasPrefix(broker, "postgresql://"):
		pool := s.Pool
		if !sameDatabase(broker, cfg.DatabaseURL) {
			if pool, err = pgxpool.New(ctx, broker); err != nil {
				return nil, nil, fmt.Errorf("notifications: stream broker %s: %w", stream.Redact(broker), err)
			}
			closers = append(closers, pool.Close)
		}
		if sub, err = stream.NewSQLSubscriber(pool, stream.SQLSubscriberConfig{ConsumerGroup: notifier.ConsumerGroup, PollInterval: poll}, s.log); err != nil {
			return nil, nil, err
		}
	case strings.HasPrefix(broker, "amqp://") || strings.HasPrefix(broker, "amqps://"):
		if sub, err = stream.NewAMQPSubscriber(broker, notifier.ConsumerGroup, s.log); err != nil {
			return nil, nil, err
		}
	case strings.HasPrefix(broker, "nats://") || strings.HasPrefix(broker, "tls://"):
		if err := stream.EnsureNATSTopic(ctx, broker, topic); err != nil {
			return nil, nil, err
		}
		if sub, err = stream.NewNATSSubscriber(broker, notifier.ConsumerGroup, s.log); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("notifications: stream broker %q: want postgres://, amqp:// or nats://", stream.Redact(broker))
	}
	poison, err := stream.NewSQLPublisher(s.Pool, s.log)
	if err != nil {
		_ = sub.Close()
		return nil, nil, err
	}
	closers = append(closers, func() { _ = poison.Close() })
	n, err := notifier.New(notifier.Config{
		Pool: s.Pool, Subscriber: sub, Topic: topic, PoisonPublisher: poison, Head: newestOf(heads),
		WaitForDirectory: func(ctx context.Context, pos eventlog.Position, timeout time.Duration) (bool, error) {
			return projections.WaitFor(ctx, s.Pool, []string{directory.Name}, pos, timeout)
		},
		PublicURL: cfg.PublicURL, SMTPURL: cfg.SMTPURL, SMTPTLS: cfg.SMTPTLS,
		MaxAttempts: cfg.WebhookAttempts, SendTimeout: cfg.WebhookTimeout, RetryBase: cfg.NotifyRetryBase,
		PollInterval: cfg.NotifyPollInterval, Logger: s.log,
	})
	if err != nil {
		_ = sub.Close()
		return nil, nil, err
	}
	if !n.EmailOn() {
		s.log.Info("notifications: e-mail is off (no SMTP URL); webhooks and the console's notifications are on")
	}
	parts = append(parts, func(ctx context.Context) {
		if err := n.Run(ctx); err != nil {
			s.log.Error("notifications stopped", "err", err)
		}
	})
	return parts, closeAll, nil
}

// sameDatabase reports whether two PostgreSQL URLs name the same database.
func sameDatabase(a, b string) bool {
	ca, errA := pgxpool.ParseConfig(a)
	cb, errB := pgxpool.ParseConfig(b)
	if errA != nil || errB != nil {
		return false
	}
	return ca.ConnConfig.Host == cb.ConnConfig.Host && ca.ConnConfig.Port == cb.ConnConfig.Port &&
		ca.ConnConfig.Database == cb.ConnConfig.Database && ca.ConnConfig.User == cb.ConnConfig.User
}

// newestOf is where the notifier starts the first time: the newest event committed, so that
// nothing submitted before its first start is notified. The PostgreSQL store answers it past
// its readable horizon (which any transaction open in the cluster holds back); another store's
// head is exact.
func newestOf(heads eventlog.HeadReader) func(context.Context) (eventlog.Position, error) {
	if store, ok := heads.(interface {
		Newest(context.Context) (eventlog.Position, error)
	}); ok {
		return store.Newest
	}
	return heads.Head
}
