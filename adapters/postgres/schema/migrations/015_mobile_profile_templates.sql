-- Mobile profile templates (issue 15, R12): an administrator keeps, per company, named
-- templates of iOS configuration profiles (.mobileconfig) and Android managed configurations
-- (JSON), `helpstream admin mobile-profile set|list|remove`. Every upload of a name is a new
-- version, kept for good: a request's event names the template version it sent, and its file
-- is built again from that version whenever it is downloaded. Removing a template hides it
-- from the technicians' choice; the versions already sent stay downloadable.
CREATE TABLE mobile_profile_templates (
    company_id uuid        NOT NULL,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    version    integer     NOT NULL CHECK (version >= 1),
    platform   text        NOT NULL CHECK (platform IN ('ios', 'android')),
    content    bytea       NOT NULL CHECK (length(content) BETWEEN 1 AND 65536),
    created_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz,
    PRIMARY KEY (company_id, name, version)
);
