-- Technicians' webhook endpoints (R5, design §6): a webhook URL carries its receiver's token,
-- and the secret that signs what Helpstream posts to it must stay Helpstream's, so neither may
-- enter the event log. An event `technician.notification_settings_changed` says only which
-- channels are on; the endpoint lives here, one row a technician.
--
-- The signing secret is kept in the clear because signing needs it (HMAC-SHA256, see the
-- README's "Notifications"); the database is the secrets' store, as it is for the credentials.
CREATE TABLE technician_webhooks (
    technician_id  uuid        PRIMARY KEY,
    url            text        NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
    signing_secret text        NOT NULL CHECK (length(signing_secret) >= 32),
    -- the version, in the technician's stream, of the settings event this endpoint goes with:
    -- `helpstream admin secrets-migrate` moves an endpoint out of an old event only when it is
    -- newer than the row's, so running it twice, or after a technician changed their endpoint,
    -- changes nothing
    source_version bigint      NOT NULL CHECK (source_version >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
