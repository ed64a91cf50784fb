CREATE TABLE "access_log_head" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"last_id" bigint NOT NULL,
	"last_hash" text
);
--> statement-breakpoint
CREATE TABLE "integrity_seals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"event_count" bigint NOT NULL,
	"access_log_count" bigint NOT NULL,
	"key_id" text NOT NULL,
	"body" text NOT NULL,
	"signature" text NOT NULL,
	"issued_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "access_log" ADD COLUMN "prev_hash" text;--> statement-breakpoint
ALTER TABLE "access_log" ADD COLUMN "hash" text;--> statement-breakpoint
CREATE INDEX "integrity_seals_time_idx" ON "integrity_seals" USING btree ("issued_at");--> statement-breakpoint
-- The chain's head (lib/integrity/access-chain.ts): rows already in the log stay unchained (no hash);
-- the next row starts the chain after them.
INSERT INTO "access_log_head" ("singleton", "last_id", "last_hash") SELECT true, coalesce(max("id"), 0), NULL FROM "access_log";
--> statement-breakpoint
-- Seals are evidence too: rows are only ever inserted (their signatures protect them anyway).
CREATE FUNCTION "integrity_seals_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'integrity_seals is append-only: % is not allowed', TG_OP USING ERRCODE = 'raise_exception';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "integrity_seals_no_update_delete" BEFORE UPDATE OR DELETE ON "integrity_seals"
	FOR EACH ROW EXECUTE FUNCTION "integrity_seals_immutable"();
--> statement-breakpoint
CREATE TRIGGER "integrity_seals_no_truncate" BEFORE TRUNCATE ON "integrity_seals"
	FOR EACH STATEMENT EXECUTE FUNCTION "integrity_seals_immutable"();
