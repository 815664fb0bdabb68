-- Secrets and HTTP bookkeeping that must stay out of the event log (design §6).
--
-- No column holds a secret in the clear: passwords are bcrypt hashes, and every token (session,
-- customer) is stored as the SHA-256 of its 32 random bytes. A session's CSRF token is not stored
-- at all: it is derived from the session token (see package credentials).

-- A technician's login: the e-mail is reserved first (unique, case-insensitively), the password
-- hash is set later; NULL means the technician cannot log in yet.
CREATE TABLE technician_credentials (
    technician_id uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (email <> ''),
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX technician_credentials_email_key ON technician_credentials (lower(email));

-- Console sessions and API bearer tokens.
CREATE TABLE sessions (
    token_hash    bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    technician_id uuid        NOT NULL REFERENCES technician_credentials (technician_id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);

CREATE INDEX sessions_technician_id_idx ON sessions (technician_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- A customer's per-request access tokens.
CREATE TABLE customer_tokens (
    token_hash bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    request_id uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX customer_tokens_request_id_idx ON customer_tokens (request_id);

-- Idempotency-Key records: claimed (status 0) when a request starts, completed with the response
-- to replay, released (deleted) when the request failed, purged after a day.
CREATE TABLE idempotency_keys (
    scope        text        NOT NULL,
    key          text        NOT NULL CHECK (key <> ''),
    fingerprint  text        NOT NULL,
    status       integer     NOT NULL DEFAULT 0 CHECK (status >= 0),
    content_type text        NOT NULL DEFAULT '',
    body         bytea       NOT NULL DEFAULT '\x',
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
