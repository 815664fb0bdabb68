-- When each technician last opened each request's details (the console's unread marks:
-- a request of mine is unread when the customer wrote after this). A technician's own
-- reading state, not a fact of the request: no event records it, and no projection
-- rebuild touches it. One row a (technician, request), moved forward only.
CREATE TABLE technician_request_reads (
    technician_id uuid        NOT NULL,
    request_id    uuid        NOT NULL,
    read_at       timestamptz NOT NULL,
    PRIMARY KEY (technician_id, request_id)
);
