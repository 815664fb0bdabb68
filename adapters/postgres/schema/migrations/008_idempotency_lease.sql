-- An Idempotency-Key claim belongs to a running request: it is a lease, not a lock.
--
-- A claim (status 0) now carries the token of the request that holds it and the time its lease
-- ends; the request renews the lease while it runs. When that request dies (its process killed,
-- its connection lost, its deadline passed) the lease runs out, and a retry with the same key
-- and the same request takes the claim over and runs the command again, which recognises its
-- own events by their deterministic IDs and answers as the first attempt would have. Without
-- a lease a claim left by a dead request refused every retry ("still running") until the purge.
ALTER TABLE idempotency_keys
    ADD COLUMN claim_token uuid,
    ADD COLUMN lease_until timestamptz NOT NULL DEFAULT now();
