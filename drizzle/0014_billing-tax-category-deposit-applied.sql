ALTER TABLE "treatments" ADD COLUMN "tax_category" text DEFAULT 'taxable' NOT NULL;--> statement-breakpoint
ALTER TABLE "rm_payments" ADD COLUMN "applied_krw" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rm_payments" ADD COLUMN "applied_visit_id" text;