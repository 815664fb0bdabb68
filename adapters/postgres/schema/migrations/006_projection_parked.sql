-- Parked events (design §6: a projector never stops for good on one event).
--
-- An event a projection cannot apply for a reason of its own (a decode error of its payload, a
-- value PostgreSQL refuses: class 22 or 23, an index row too large) is parked: the projection
-- records it here, in the transaction that moves its checkpoint past it, and goes on with the
-- rest of the log. Once one event of a stream is parked, the projection's rows for that stream
-- miss it, so it parks the stream's later events too, with the error "an earlier event of this
-- stream is parked", and `helpstream projections retry` applies them again in order after a
-- fix. A retry, like the projector, works under the lock of the projection's checkpoint row.
--
-- position is the event's global log position in the text form of eventlog.Position
-- ("<hi>-<lo>"), for people; position_hi and position_lo are its two parts, for ordering (as
-- bigint, which orders them while each stays below 2^63, as every store's positions do).
-- A runner that creates a projection's tables from the start, and a rebuild when it swaps its
-- tables in, replace the projection's rows here with what they parked themselves.
CREATE TABLE projection_parked (
    projection     text        NOT NULL CHECK (projection <> ''),
    event_id       uuid        NOT NULL,
    position       text        NOT NULL,
    position_hi    bigint      NOT NULL,
    position_lo    bigint      NOT NULL,
    stream_id      text        NOT NULL,
    stream_version bigint      NOT NULL,
    event_type     text        NOT NULL,
    error          text        NOT NULL,
    parked_at      timestamptz NOT NULL DEFAULT now(),
    retries        integer     NOT NULL DEFAULT 0 CHECK (retries >= 0),
    retried_at     timestamptz,
    PRIMARY KEY (projection, event_id)
);

CREATE INDEX projection_parked_stream_idx ON projection_parked (projection, stream_id);
CREATE INDEX projection_parked_position_idx ON projection_parked (projection, position_hi, position_lo);
