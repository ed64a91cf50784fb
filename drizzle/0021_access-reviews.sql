CREATE TABLE "access_reviews" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"month" text NOT NULL,
	"reviewer_id" uuid NOT NULL,
	"reviewed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"notes" text NOT NULL,
	"entries" integer NOT NULL,
	"flags" integer NOT NULL,
	"export_ids" bigint[] NOT NULL,
	"confirmed_export_ids" bigint[] NOT NULL,
	CONSTRAINT "access_reviews_month_check" CHECK ("access_reviews"."month" ~ '^[0-9]{4}-(0[1-9]|1[0-2])$')
);
--> statement-breakpoint
CREATE INDEX "access_reviews_month_idx" ON "access_reviews" USING btree ("month","reviewed_at");--> statement-breakpoint
-- A review is a record of what the reviewer confirmed: rows are only ever inserted, like access_log.
CREATE FUNCTION "access_reviews_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'access_reviews is append-only: % is not allowed', TG_OP USING ERRCODE = 'raise_exception';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "access_reviews_no_update_delete" BEFORE UPDATE OR DELETE ON "access_reviews"
	FOR EACH ROW EXECUTE FUNCTION "access_reviews_immutable"();
--> statement-breakpoint
CREATE TRIGGER "access_reviews_no_truncate" BEFORE TRUNCATE ON "access_reviews"
	FOR EACH STATEMENT EXECUTE FUNCTION "access_reviews_immutable"();
