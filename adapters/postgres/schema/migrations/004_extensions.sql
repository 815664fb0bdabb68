-- Extensions the read models use. pg_trgm gives the request list's text search (customer name,
-- e-mail and description) a trigram GIN index, so that LIKE '%term%' does not scan the table.
-- pg_trgm is a trusted extension: the database owner may create it without superuser rights.
-- It lives in public, and the read models name its operator class public.gin_trgm_ops, so that
-- a rebuild that runs their DDL with search_path set to a scratch schema still finds it.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
