-- Process managers (issue 16; internal/process): consumers of the one subscriber runtime that
-- decide on what the log says (auto-assignment, reassignment, service levels, retention) and
-- act through commands, every automatic decision an event of its own.
--
-- process_checkpoints: one row per manager, as stream_checkpoints is for the forwarders.
CREATE TABLE process_checkpoints (
    name           text        PRIMARY KEY CHECK (name <> ''),
    position       text        NOT NULL,
    events_applied bigint      NOT NULL DEFAULT 0 CHECK (events_applied >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- process_timers: a manager's durable timers, keyed per owner, written in the transaction of
-- the batch or tick that set them, so they survive restarts and roll back with a failed batch.
CREATE TABLE process_timers (
    owner   text        NOT NULL CHECK (owner <> ''),
    key     text        NOT NULL CHECK (key <> ''),
    due_at  timestamptz NOT NULL,
    payload jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (owner, key)
);
CREATE INDEX process_timers_due ON process_timers (owner, due_at, key);

-- process_outbox: decisions taken and not yet acted on. A manager adds a command in the
-- transaction that decided it (its ID deterministic, so a batch applied again adds nothing);
-- after the commit it executes the command with the ID as its idempotency key and deletes the
-- row. A crash between the two leaves the row for the next leader. seq keeps decision order.
CREATE TABLE process_outbox (
    owner      text        NOT NULL CHECK (owner <> ''),
    id         uuid        NOT NULL,
    seq        bigint      GENERATED ALWAYS AS IDENTITY,
    kind       text        NOT NULL CHECK (kind <> ''),
    payload    jsonb       NOT NULL DEFAULT '{}',
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, id)
);
CREATE INDEX process_outbox_order ON process_outbox (owner, seq);
