-- The log's clock, and a horizon that only the event log's own writers hold back.
--
-- transaction_id orders the global log (001_eventstore.sql). It was the cluster's transaction ID,
-- which breaks in two ordinary operations:
--   * Restore. pg_dump/pg_restore (or any logical copy) into another cluster keeps the old
--     values, and the new cluster's counter is usually lower: new events would sort before the
--     restored ones, behind every subscriber's checkpoint. So transaction_id is now the cluster's
--     transaction ID plus event_log_clock.xid_offset, and event_log_rebase() (run by every
--     `helpstream migrate` and at every start) raises the offset when the log is ahead of the
--     cluster, so that the next events sort after every restored one.
--   * The cluster-wide horizon. pg_snapshot_xmin is the oldest transaction running anywhere in
--     the cluster: a CREATE INDEX in another database, or a read-model rebuild's DDL in this one,
--     held back every subscriber. event_log_horizon(snapshot, true) skips the running
--     transactions that provably cannot write events: those of backends in other databases, and
--     those whose backend holds no write lock on events. An append takes its lock on events
--     when its statement starts, before its transaction gets an ID, and keeps it to the end; a
--     transaction that already has an ID and holds no such lock can therefore never add events
--     below it. Every writer of events must keep to this: append first in its transaction
--     (pgstore does; its bulk path locks the table first).
CREATE TABLE event_log_clock (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    xid_offset bigint      NOT NULL DEFAULT 0 CHECK (xid_offset >= 0),
    rebased_at timestamptz
);
INSERT INTO event_log_clock DEFAULT VALUES;

-- The log transaction ID of the current transaction (assigning it a transaction ID).
CREATE FUNCTION event_log_transaction_id() RETURNS xid8 LANGUAGE sql VOLATILE AS $$
    SELECT (pg_current_xact_id()::text::numeric + xid_offset)::text::xid8 FROM event_log_clock
$$;

-- Every event with a log transaction ID below the returned one has been committed (or rolled
-- back) as seen by snap, which must be the calling statement's snapshot (pg_current_snapshot()).
-- precise: skip the running transactions that cannot write events (above). The lock holders
-- are read before the backends' transactions, so a backend seen running its transaction after
-- holding no write lock on events held none since that transaction began.
CREATE FUNCTION event_log_horizon(snap pg_snapshot, precise boolean) RETURNS xid8 LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    horizon xid8 := pg_snapshot_xmin(snap);
    writers int[];
BEGIN
    IF precise AND horizon < pg_snapshot_xmax(snap) THEN
        SELECT coalesce(array_agg(l.pid), '{}') INTO writers
        FROM pg_locks l
        WHERE l.locktype = 'relation'
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.relation = 'events'::regclass
          AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock');
        PERFORM pg_stat_clear_snapshot();
        SELECT coalesce(min(x), pg_snapshot_xmax(snap)) INTO horizon
        FROM pg_snapshot_xip(snap) AS x
        WHERE NOT EXISTS (
            SELECT 1 FROM pg_stat_activity a
            WHERE a.backend_xid = x::xid
              AND (a.datname IS DISTINCT FROM current_database() OR a.pid <> ALL (writers)));
    END IF;
    RETURN (horizon::text::numeric + (SELECT xid_offset FROM event_log_clock))::text::xid8;
END
$$;

-- Raises the clock's offset when the log holds transaction IDs that the next appends could
-- reach or pass (the log was restored or copied from a cluster further ahead), and returns by
-- how much (0: nothing to do). It looks first without a lock: in a log that was not moved every
-- transaction ID is below the cluster's next one, and every start runs this, so it must never
-- queue behind an append left open (and every append behind itself). Only a log that was moved
-- is looked at again under a lock that keeps writers out (for 5 s at most), so none is half-way.
CREATE FUNCTION event_log_rebase() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    newest  xid8;
    current bigint;
    mine    numeric;
    raised  bigint;
BEGIN
    SELECT xid_offset INTO current FROM event_log_clock;
    SELECT transaction_id INTO newest FROM events ORDER BY transaction_id DESC LIMIT 1;
    IF newest IS NULL OR newest::text::numeric < pg_snapshot_xmax(pg_current_snapshot())::text::numeric + current THEN
        RETURN 0;
    END IF;
    SET LOCAL lock_timeout = '5s';
    LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;
    SELECT xid_offset INTO current FROM event_log_clock FOR UPDATE;
    SELECT transaction_id INTO newest FROM events ORDER BY transaction_id DESC LIMIT 1;
    -- Every writer after this one gets a later transaction ID than ours.
    mine := pg_current_xact_id()::text::numeric;
    IF newest::text::numeric < mine + current THEN
        RETURN 0;
    END IF;
    raised := newest::text::numeric - mine - current + 1;
    UPDATE event_log_clock SET xid_offset = current + raised, rebased_at = now();
    EXECUTE format('ALTER TABLE events ALTER COLUMN transaction_id SET DEFAULT (pg_current_xact_id()::text::numeric + %s)::text::xid8', current + raised);
    RETURN raised;
END
$$;
