CREATE TABLE "rm_clinic_closures" (
	"id" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"day" text NOT NULL,
	"reason" text NOT NULL,
	"closed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "rm_clinic_closures_clinic_day_idx" ON "rm_clinic_closures" USING btree ("clinic_id","day");--> statement-breakpoint
CREATE INDEX "rm_payments_visit_idx" ON "rm_payments" USING btree ("visit_id");--> statement-breakpoint
CREATE INDEX "rm_payments_applied_visit_idx" ON "rm_payments" USING btree ("applied_visit_id");