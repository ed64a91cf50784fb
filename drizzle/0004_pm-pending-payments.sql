CREATE TABLE "pm_pending_payments" (
	"payment_id" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"next_check_at" timestamp with time zone NOT NULL,
	"checks" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX "pm_pending_payments_next_check_idx" ON "pm_pending_payments" USING btree ("next_check_at");