-- The analytics job's tables (issue 14, design §3 "service-level timers"): `helpstream
-- analytics run` folds the event stream it consumes from the Watermill broker into them, and
-- `helpstream analytics rebuild` recomputes them from the log beside the live ones
-- (analytics_*_v<N>) and swaps them in by renaming, in one transaction. The console's Reports
-- page (adapters/postgres/reports) and `helpstream analytics export` read them.
--
-- Every column is a commutative fact of the events folded in, so the tables are the same
-- whatever order a broker delivers the events in: a time is the least occurred_at of the events
-- that set it (min), a count is a sum of +1s guarded by analytics_applied (each message once), a
-- value that can change back and forth (the assignee, a name, a time zone) is that of the event
-- with the highest version in its stream (the *_version column beside it).

-- One row per request.
CREATE TABLE analytics_requests (
    request_id              uuid        PRIMARY KEY,
    -- from request.submitted; NULL until that event is folded (a broker may deliver a later
    -- event of the request first)
    company_id              uuid,
    submitted_at            timestamptz,
    -- the least occurred_at of request.assigned: the FIRST assignment, even when the request
    -- was unassigned or transferred afterwards
    first_assigned_at       timestamptz,
    -- the least occurred_at of request.message_sent from a technician
    first_reply_at          timestamptz,
    -- the greatest occurred_at of request.chat_ended: the assignee may join again after
    -- ending the chat, and the chat is over when it last ended
    chat_ended_at           timestamptz,
    closed_at               timestamptz,
    -- the assignee now (NULL: waiting for one), set by the assigned, unassigned, transferred
    -- and closed event of the highest stream version
    assignee_id             uuid,
    assignee_version        bigint      NOT NULL DEFAULT 0,
    -- the last technician who had the request: as assignee_id, but an unassignment keeps it
    last_technician_id      uuid,
    last_technician_version bigint      NOT NULL DEFAULT 0,
    customer_messages       integer     NOT NULL DEFAULT 0,
    technician_messages     integer     NOT NULL DEFAULT 0,
    -- files shared in the chat, from either side
    files                   integer     NOT NULL DEFAULT 0,
    transfers               integer     NOT NULL DEFAULT 0,
    -- a chat escalated to a screen-sharing session: request.screen_sharing_requested
    escalations             integer     NOT NULL DEFAULT 0,
    notes                   integer     NOT NULL DEFAULT 0,
    -- events of the request folded in, and the time of the latest of them
    events                  integer     NOT NULL DEFAULT 0,
    last_event_at           timestamptz
);
CREATE INDEX analytics_requests_company_submitted ON analytics_requests (company_id, submitted_at);

-- Companies' names and time zones: a request's day is the date of its submission in its
-- company's time zone (company.time_zone_set; UTC until one is set).
CREATE TABLE analytics_companies (
    company_id        uuid   PRIMARY KEY,
    name              text,
    time_zone         text   NOT NULL DEFAULT 'UTC',
    time_zone_version bigint NOT NULL DEFAULT 0
);

-- Technicians' names, for the per-technician figures.
CREATE TABLE analytics_technicians (
    technician_id uuid PRIMARY KEY,
    name          text
);

-- The messages folded in, by UUID (the event ID): a message the broker delivers again changes
-- nothing. Written in the same transaction as the change the message made.
CREATE TABLE analytics_applied (
    message_id uuid PRIMARY KEY
);

-- One row: where the live tables stand. last_position and last_occurred_at are the event most
-- recently folded (in the order it was folded), max_occurred_at the latest time of any event
-- folded (what the Reports page says its figures are "as of"). generation counts rebuilds.
CREATE TABLE analytics_state (
    id               boolean     PRIMARY KEY DEFAULT true CHECK (id),
    last_position    text        NOT NULL DEFAULT '',
    last_occurred_at timestamptz,
    max_occurred_at  timestamptz,
    applied          bigint      NOT NULL DEFAULT 0 CHECK (applied >= 0),
    generation       integer     NOT NULL DEFAULT 1,
    rebuilt_at       timestamptz
);
INSERT INTO analytics_state DEFAULT VALUES;
