-- The event store: every event of every stream, in one table.
--
-- global_position is a bigserial, so it is assigned when a row is inserted, not when its
-- transaction commits; transactions can commit out of order. transaction_id (xid8) orders the
-- global log for readers: a reader orders by (transaction_id, global_position) and reads only rows
-- whose transaction_id is below pg_snapshot_xmin(pg_current_snapshot()), so a later position can
-- never become visible before an earlier one.
--
-- data and metadata are json, not jsonb: json keeps the bytes exactly as written (key order,
-- whitespace, duplicate keys), which the per-stream hash chain depends on.
CREATE TABLE events (
    global_position bigserial   PRIMARY KEY,
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id       text        NOT NULL CHECK (stream_id <> ''),
    stream_version  bigint      NOT NULL CHECK (stream_version >= 0),
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    data            json        NOT NULL,
    metadata        json        NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_transaction_position_idx ON events (transaction_id, global_position);
