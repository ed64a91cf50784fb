CREATE TABLE "pm_deposit_payments" (
	"payment_id" text PRIMARY KEY NOT NULL,
	"reservation_id" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pm_payment_deadlines" (
	"reservation_id" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"deadline_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "pm_pending_payments" ADD COLUMN "last_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "pm_pending_payments" ADD COLUMN "gateway" jsonb;--> statement-breakpoint
ALTER TABLE "pm_pending_payments" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "pm_pending_payments" ADD COLUMN "stuck_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "pm_deposit_payments_reservation_idx" ON "pm_deposit_payments" USING btree ("reservation_id");--> statement-breakpoint
CREATE INDEX "pm_payment_deadlines_deadline_idx" ON "pm_payment_deadlines" USING btree ("deadline_at");