-- Event stream forwarder checkpoints (design §5, the forwarder to Watermill; adapters/stream).
--
-- One row per forwarder name. position is the global log position of the last event the
-- forwarder published, in the text form of eventlog.Position ("<hi>-<lo>"); it is opaque to
-- SQL, which must not compare it (text order is not log order), only test it for equality.
--
-- The forwarder publishes a batch, then moves its row with a compare-and-set on position (so
-- a crash between the two publishes the batch again: at-least-once). With the watermill-sql
-- publisher on this same database the batch's messages are inserted in the transaction that
-- moves the row, after locking it with SELECT … FOR UPDATE: a crash rolls back both, and two
-- forwarders are serialised on the row, so nothing is published twice. events_published counts
-- the events forwarded since the row was created.
CREATE TABLE stream_checkpoints (
    name             text        PRIMARY KEY CHECK (name <> ''),
    position         text        NOT NULL,
    events_published bigint      NOT NULL DEFAULT 0 CHECK (events_published >= 0),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
