CREATE TABLE "access_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"account_id" uuid NOT NULL,
	"role" text NOT NULL,
	"clinic_id" text,
	"ip" text,
	"user_agent" text,
	"action" text NOT NULL,
	"resource" text NOT NULL,
	"patient_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"reason" text,
	"detail" jsonb,
	CONSTRAINT "access_log_action_check" CHECK ("access_log"."action" in ('view', 'export', 'print', 'change')),
	CONSTRAINT "access_log_export_reason_check" CHECK ("access_log"."action" <> 'export' or coalesce(length(trim("access_log"."reason")), 0) > 0)
);
--> statement-breakpoint
CREATE INDEX "access_log_time_idx" ON "access_log" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "access_log_account_idx" ON "access_log" USING btree ("account_id","occurred_at");--> statement-breakpoint
CREATE INDEX "access_log_patients_idx" ON "access_log" USING gin ("patient_ids");--> statement-breakpoint
-- The access log is evidence (PIPA, Standards for Personal Information Security Measures Art. 8:
-- access records are protected against alteration): rows are only ever inserted, as es_events.
CREATE FUNCTION "access_log_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'access_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'raise_exception';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "access_log_no_update_delete" BEFORE UPDATE OR DELETE ON "access_log"
	FOR EACH ROW EXECUTE FUNCTION "access_log_immutable"();
--> statement-breakpoint
CREATE TRIGGER "access_log_no_truncate" BEFORE TRUNCATE ON "access_log"
	FOR EACH STATEMENT EXECUTE FUNCTION "access_log_immutable"();
