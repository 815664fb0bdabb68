-- Counters of failed logins, per e-mail address and per client address, shared by every
-- server so that login throttling holds however many `serve` processes answer (see
-- app.LoginPolicy for what the numbers mean).
--
-- An address is keyed by the SHA-256 of its text (the normalized e-mail address; the client
-- address or its IPv6 /64), never by the text itself: people type passwords into the e-mail
-- field, and unknown addresses are counted too.
CREATE TABLE login_attempts (
    scope           text        NOT NULL CHECK (scope IN ('account', 'ip')),
    key_hash        bytea       NOT NULL CHECK (length(key_hash) = 32),
    -- failed logins since the counter was reset, and attempts still being checked
    failures        integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure_at timestamptz,
    -- set when the e-mail address is locked until an administrator unlocks it
    locked_at       timestamptz,
    PRIMARY KEY (scope, key_hash)
);

-- For purging the counters that were forgotten long ago.
CREATE INDEX login_attempts_last_failure_at_idx ON login_attempts (last_failure_at) WHERE locked_at IS NULL;
