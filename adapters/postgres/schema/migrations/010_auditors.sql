-- Auditors (design §1, §6): they log in with an e-mail address and a password exactly like
-- technicians, through the same table, sessions and throttling; a role tells the two apart.
-- One e-mail address opens one account, whatever its role: the unique index on lower(email)
-- covers both.
ALTER TABLE technician_credentials
    ADD COLUMN role text NOT NULL DEFAULT 'technician' CHECK (role IN ('technician', 'auditor'));

-- A session keeps its account's role (which never changes), so that looking a session up, on
-- every request, needs no join.
ALTER TABLE sessions
    ADD COLUMN role text NOT NULL DEFAULT 'technician' CHECK (role IN ('technician', 'auditor'));

-- Every read an auditor makes of a request, and every list they query: who, what, when and
-- from where. It holds IDs and query parameters, never a request's content (no customer name,
-- message or description). Rows are only ever added: the triggers below refuse UPDATE, DELETE
-- and TRUNCATE, whoever asks.
CREATE TABLE auditor_access_log (
    seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    auditor_id uuid        NOT NULL,
    -- what was read: details, history, file, list (more may come: a new kind needs no migration)
    kind       text        NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,31}$'),
    -- the request read and its company (which decides which auditors may list the entry);
    -- both NULL for a list query
    request_id uuid,
    company_id uuid,
    file_id    uuid,
    -- the parameters of the query (view, sort, filters, as of), flat strings
    params     jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
    client_ip  text        NOT NULL DEFAULT '' CHECK (length(client_ip) <= 64),
    CHECK ((request_id IS NULL) = (company_id IS NULL)),
    CHECK (file_id IS NULL OR request_id IS NOT NULL)
);

CREATE INDEX auditor_access_log_auditor_idx ON auditor_access_log (auditor_id, seq);
CREATE INDEX auditor_access_log_request_idx ON auditor_access_log (request_id, seq) WHERE request_id IS NOT NULL;
CREATE INDEX auditor_access_log_company_idx ON auditor_access_log (company_id, seq);
CREATE INDEX auditor_access_log_at_idx ON auditor_access_log (at);

CREATE FUNCTION auditor_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'auditor_access_log is append-only: % is refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

-- Statement triggers: a statement that would change no row is refused all the same.
CREATE TRIGGER auditor_access_log_no_change
    BEFORE UPDATE OR DELETE ON auditor_access_log
    FOR EACH STATEMENT EXECUTE FUNCTION auditor_access_log_append_only();

CREATE TRIGGER auditor_access_log_no_truncate
    BEFORE TRUNCATE ON auditor_access_log
    FOR EACH STATEMENT EXECUTE FUNCTION auditor_access_log_append_only();
