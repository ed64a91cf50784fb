CREATE TABLE "payment_sandbox_cancels" (
	"transaction_key" text PRIMARY KEY NOT NULL,
	"payment_key" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"cancel_amount" integer NOT NULL,
	"cancel_reason" text NOT NULL,
	"refundable_amount" integer NOT NULL,
	"canceled_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_sandbox_cancels_amount_check" CHECK ("payment_sandbox_cancels"."cancel_amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "payment_sandbox_orders" (
	"order_id" text PRIMARY KEY NOT NULL,
	"order_name" text NOT NULL,
	"amount" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_sandbox_orders_amount_check" CHECK ("payment_sandbox_orders"."amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "payment_sandbox_payments" (
	"payment_key" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"status" text NOT NULL,
	"total_amount" integer NOT NULL,
	"balance_amount" integer NOT NULL,
	"card_number" text NOT NULL,
	"scenario" text NOT NULL,
	"failure_code" text,
	"failure_message" text,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"approved_at" timestamp with time zone,
	CONSTRAINT "payment_sandbox_payments_balance_check" CHECK ("payment_sandbox_payments"."balance_amount" >= 0 and "payment_sandbox_payments"."balance_amount" <= "payment_sandbox_payments"."total_amount")
);
--> statement-breakpoint
CREATE TABLE "personal_data_keys" (
	"patient_id" text PRIMARY KEY NOT NULL,
	"key_id" text NOT NULL,
	"wrapped_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "payment_sandbox_cancels" ADD CONSTRAINT "payment_sandbox_cancels_payment_key_payment_sandbox_payments_payment_key_fk" FOREIGN KEY ("payment_key") REFERENCES "public"."payment_sandbox_payments"("payment_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_sandbox_payments" ADD CONSTRAINT "payment_sandbox_payments_order_id_payment_sandbox_orders_order_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."payment_sandbox_orders"("order_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "payment_sandbox_cancels_idempotency_idx" ON "payment_sandbox_cancels" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "payment_sandbox_cancels_payment_idx" ON "payment_sandbox_cancels" USING btree ("payment_key","canceled_at");--> statement-breakpoint
CREATE INDEX "payment_sandbox_payments_order_idx" ON "payment_sandbox_payments" USING btree ("order_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_sandbox_payments_paid_order_idx" ON "payment_sandbox_payments" USING btree ("order_id") WHERE "payment_sandbox_payments"."status" in ('DONE', 'PARTIAL_CANCELED', 'CANCELED');--> statement-breakpoint
CREATE UNIQUE INDEX "personal_data_keys_key_id_idx" ON "personal_data_keys" USING btree ("key_id");