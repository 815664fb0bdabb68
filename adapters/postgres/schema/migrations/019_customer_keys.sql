-- Personal data (issue 17): the customers' data keys, outside the event log (internal/privacy).
--
-- customer_keys: one AES-256 data key per customer. email_mac is HMAC-SHA256 of the customer's
-- normalized e-mail under the master key (the address itself is never stored); wrapped is the
-- data key sealed by the master key (AES-256-GCM, nonce first). Erasing the customer sets
-- both to NULL: the key is gone, every ciphertext under key_id reads as erased, and the same
-- address gets a new key if it comes back.
CREATE TABLE customer_keys (
    key_id     uuid        PRIMARY KEY,
    email_mac  bytea       UNIQUE,
    wrapped    bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at  timestamptz,
    erasure_id uuid,
    CHECK ((erased_at IS NULL) = (wrapped IS NOT NULL))
);

-- request_keys: which customer's key seals the personal fields of each request's events
-- (bound when the request is submitted).
CREATE TABLE request_keys (
    request_id uuid PRIMARY KEY,
    key_id     uuid NOT NULL REFERENCES customer_keys (key_id)
);
CREATE INDEX request_keys_key ON request_keys (key_id);
