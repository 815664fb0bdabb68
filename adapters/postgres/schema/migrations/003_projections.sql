-- Projection checkpoints (design §5, projections contract).
--
-- One row per projection (read model). The projector writes its row in the same transaction as
-- the rows the batch produced, after locking it with SELECT … FOR UPDATE, so a crash anywhere
-- rolls back the rows and the checkpoint together, and two projectors (a stale leader and a new
-- one, or a live leader and a rebuild's swap) are serialised on it.
--
-- position is the global log position of the last applied event, in the text form of
-- eventlog.Position ("<hi>-<lo>"); it is opaque to SQL, which must not compare it (text order is
-- not log order). schema_hash is the hex SHA-256 of the projection's Schema() that built the
-- tables: a projector whose code has another hash rebuilds them first. events_applied counts
-- the events folded into the current tables.
CREATE TABLE projection_checkpoints (
    name           text        PRIMARY KEY CHECK (name <> ''),
    position       text        NOT NULL,
    schema_hash    text        NOT NULL,
    events_applied bigint      NOT NULL DEFAULT 0 CHECK (events_applied >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
