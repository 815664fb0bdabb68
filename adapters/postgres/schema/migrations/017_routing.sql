-- Routing (issue 16; internal/routing): the state the routing process manager decides on,
-- updated by its Apply in the transaction of each batch of the log, read by its Tick in a
-- transaction that holds its checkpoint row. Never read by anything else: the projections'
-- tables are another consumer's, at another position of the log.

-- routing_policies: each company's policy (routing.policy_set.v1), and the technician the
-- round-robin chose last for it.
CREATE TABLE routing_policies (
    company_id         uuid    PRIMARY KEY,
    mode               text    NOT NULL CHECK (mode IN ('off', 'round-robin', 'least-busy')),
    default_capacity   integer NOT NULL CHECK (default_capacity > 0),
    capacities         jsonb   NOT NULL DEFAULT '{}', -- technician ID → capacity
    away_limit_seconds bigint  NOT NULL DEFAULT 0 CHECK (away_limit_seconds >= 0),
    last_chosen        uuid
);

-- routing_technicians: each technician's name (for reasons) and chat status.
CREATE TABLE routing_technicians (
    technician_id uuid PRIMARY KEY,
    name          text NOT NULL,
    availability  text NOT NULL DEFAULT 'offline'
);

-- routing_access: who may serve which company, and when they were last given one of its
-- requests (least-busy's tie-break).
CREATE TABLE routing_access (
    company_id       uuid NOT NULL,
    technician_id    uuid NOT NULL,
    last_assigned_at timestamptz,
    PRIMARY KEY (company_id, technician_id)
);
CREATE INDEX routing_access_technician ON routing_access (technician_id);

-- routing_requests: open requests. Waiting (New) when neither assignee nor pending_to is set;
-- pending_to is a decided assignment not yet back from the log, which counts as its
-- technician's load; giving_back marks a decided give-back. decisions numbers the manager's
-- decisions about the request (their outbox IDs); assignments counts its Assigned events, which
-- an automatic assignment names so that it is refused once someone else assigned the request.
CREATE TABLE routing_requests (
    request_id          uuid        PRIMARY KEY,
    company_id          uuid        NOT NULL,
    submitted_at        timestamptz NOT NULL,
    assignee            uuid,
    pending_to          uuid,
    pending_command     uuid,
    giving_back         boolean     NOT NULL DEFAULT false,
    decisions           integer     NOT NULL DEFAULT 0,
    assignments         integer     NOT NULL DEFAULT 0,
    customer_wrote_at   timestamptz,
    technician_wrote_at timestamptz
);
CREATE INDEX routing_requests_waiting ON routing_requests (company_id, submitted_at, request_id)
    WHERE assignee IS NULL AND pending_to IS NULL;
CREATE INDEX routing_requests_assignee ON routing_requests (company_id, assignee);
CREATE INDEX routing_requests_pending ON routing_requests (company_id, pending_to);
CREATE INDEX routing_requests_command ON routing_requests (pending_command);
