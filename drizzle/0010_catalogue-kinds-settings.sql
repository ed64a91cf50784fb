ALTER TABLE "clinics" ADD COLUMN "settings" jsonb;--> statement-breakpoint
ALTER TABLE "treatments" ADD COLUMN "booking_kinds" jsonb;--> statement-breakpoint
ALTER TABLE "treatments" ADD COLUMN "consult_duration_minutes" integer;