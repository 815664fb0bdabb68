-- Service levels (issue 16): the state of the service-level process manager
-- (internal/servicelevel), written in the transaction of each batch it applies, at the
-- manager's own position in the log (never read from the read models' tables). Its timers
-- and commands are in process_timers and process_outbox (owner "servicelevel").
--
-- servicelevel_companies: each company's levels as the log last set them (its time zone from
-- company.time_zone_set, its targets and business hours from servicelevel.targets_set).
CREATE TABLE servicelevel_companies (
    company_id          uuid   PRIMARY KEY,
    time_zone           text   NOT NULL DEFAULT '',
    assign_seconds      bigint NOT NULL DEFAULT 0 CHECK (assign_seconds >= 0),
    first_reply_seconds bigint NOT NULL DEFAULT 0 CHECK (first_reply_seconds >= 0),
    resolution_seconds  bigint NOT NULL DEFAULT 0 CHECK (resolution_seconds >= 0),
    business_hours      jsonb  NOT NULL DEFAULT '[]'
);

-- servicelevel_clocks: the clocks of each open request, one per target its company had when
-- it was submitted. running: its timer (key "<request>/<target>") is set for due_at; met:
-- stopped in time; breached: the timer fired. A closed request's clocks are deleted.
CREATE TABLE servicelevel_clocks (
    request_id   uuid        NOT NULL,
    target       text        NOT NULL CHECK (target IN ('assign', 'first_reply', 'resolution')),
    company_id   uuid        NOT NULL,
    started_at   timestamptz NOT NULL,
    goal_seconds bigint      NOT NULL CHECK (goal_seconds > 0),
    due_at       timestamptz NOT NULL,
    state        text        NOT NULL CHECK (state IN ('running', 'met', 'breached')),
    PRIMARY KEY (request_id, target)
);

-- The analytics job's facts (migration 013) gain the breaches of each request
-- (request.sla_breached): a breach is never undone, so each column is the OR of the events
-- folded in, in any order. The Reports page counts them per target, day, company and
-- technician.
ALTER TABLE analytics_requests
    ADD COLUMN breached_assign      boolean NOT NULL DEFAULT false,
    ADD COLUMN breached_first_reply boolean NOT NULL DEFAULT false,
    ADD COLUMN breached_resolution  boolean NOT NULL DEFAULT false;
