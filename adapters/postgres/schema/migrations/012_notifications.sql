-- Notifications of submitted requests (R5) by e-mail and webhook (internal/notifier). The
-- notifier's Watermill handler writes one row a (technician, channel) for each
-- request.submitted event, keyed by the notification's idempotency key, before it
-- acknowledges the message: a message delivered again inserts nothing, so nothing is sent
-- twice. Workers send the pending rows in log order per technician and channel, retry them
-- with backoff, and mark them sent, or dead after the configured number of attempts (the
-- dead letters that `helpstream admin webhook-dead-letters` lists and `webhook-replay`
-- re-queues).
--
-- A row holds no address: the e-mail address (directory_technicians) and the webhook URL and
-- signing secret (technician_webhooks, a secret) are read when it is sent.
CREATE TABLE notification_deliveries (
    id              uuid        PRIMARY KEY, -- the idempotency key: MD5 of "event/technician/channel" as a UUID
    event_id        uuid        NOT NULL,
    position_hi     bigint      NOT NULL,    -- the event's log position (eventlog.Position)
    position_lo     bigint      NOT NULL,
    request_id      uuid        NOT NULL,
    technician_id   uuid        NOT NULL,
    channel         text        NOT NULL CHECK (channel IN ('email', 'webhook')),
    body            jsonb       NOT NULL,    -- the webhook's JSON body; the e-mail is written from it
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      text        NOT NULL DEFAULT '',
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- a worker that sends the row holds it until then, so that two processes never send it
    -- at once
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
-- The workers' lanes: the pending rows of one technician and channel, in log order.
CREATE INDEX notification_deliveries_pending_idx ON notification_deliveries
    (technician_id, channel, position_hi, position_lo) WHERE status = 'pending';
-- The dead letters, by position (replay --from).
CREATE INDEX notification_deliveries_dead_idx ON notification_deliveries
    (position_hi, position_lo) WHERE status = 'dead';

-- Where the notifier started: the log's head when it first ran. It never notifies about an
-- event at or before this position, so that a new consumer group on a broker that keeps the
-- whole history (watermill-sql, JetStream) does not notify about every old request.
CREATE TABLE notifier_start (
    consumer_group text        PRIMARY KEY,
    position_hi    bigint      NOT NULL,
    position_lo    bigint      NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
