-- Retention (issue 17, item 3): the state of the retention process manager
-- (internal/retention), written in the transaction of each batch it applies, at the manager's
-- own position in the log. Its timers and commands are in process_timers and process_outbox
-- (owner "retention"): one timer per customer's data key, "key/<key ID>", due when the last of
-- their requests has been closed for as long as its company keeps personal data.
--
-- retention_companies: each company's retention as retention.policy_set last set it (0 keeps).
CREATE TABLE retention_companies (
    company_id       uuid    PRIMARY KEY,
    erase_after_days integer NOT NULL CHECK (erase_after_days >= 0)
);

-- retention_requests: every sealed request (one bound to a data key in request_keys), its
-- company and when it was closed (NULL while open). A customer's key is erased once none of
-- its requests is open and each was closed longer ago than its company's retention; a request
-- of a company that keeps data keeps its customer.
CREATE TABLE retention_requests (
    request_id uuid        PRIMARY KEY,
    company_id uuid        NOT NULL,
    key_id     uuid        NOT NULL,
    closed_at  timestamptz
);
CREATE INDEX retention_requests_key ON retention_requests (key_id);
CREATE INDEX retention_requests_company ON retention_requests (company_id);
