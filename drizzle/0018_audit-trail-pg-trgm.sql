-- Trigram indexes (the audit trail's free-text filter, ILIKE on rm_audit_log.summary). pg_trgm is a
-- trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
