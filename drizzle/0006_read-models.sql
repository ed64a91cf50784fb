CREATE TABLE "projection_registry" (
	"name" text PRIMARY KEY NOT NULL,
	"version" integer,
	"status" text DEFAULT 'building' NOT NULL,
	"checkpoint_commit" bigint DEFAULT 0 NOT NULL,
	"checkpoint_prepare" bigint DEFAULT 0 NOT NULL,
	"checkpoint_at" timestamp with time zone,
	"events_applied" bigint DEFAULT 0 NOT NULL,
	"lag_events" integer,
	"lag_ms" integer,
	"events_per_second" double precision,
	"parked_count" integer,
	"worker_id" text,
	"status_at" timestamp with time zone,
	"rebuild_requested_at" timestamp with time zone,
	"rebuild_started_at" timestamp with time zone,
	"rebuild_finished_at" timestamp with time zone,
	"rebuild_events" bigint,
	"rebuild_total" bigint,
	"rebuild_events_per_second" double precision,
	"rebuild_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projection_skips" (
	"event_id" text PRIMARY KEY NOT NULL,
	"stream_id" text NOT NULL,
	"revision" bigint NOT NULL,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"applied_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "rm_audit_log" (
	"event_id" text PRIMARY KEY NOT NULL,
	"position_commit" bigint NOT NULL,
	"position_prepare" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"actor_id" text NOT NULL,
	"actor_role" text NOT NULL,
	"clinic_id" text,
	"patient_id" text,
	"stream_id" text NOT NULL,
	"revision" integer NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"event_type" text NOT NULL,
	"schema_version" integer NOT NULL,
	"summary" text NOT NULL,
	"correlation_id" text,
	"causation_id" text,
	"command_id" text,
	"ip" text
);
--> statement-breakpoint
CREATE TABLE "rm_audit_subjects" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"clinic_id" text,
	"patient_id" text
);
--> statement-breakpoint
CREATE TABLE "rm_clinic_daily_stats" (
	"id" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"day" text NOT NULL,
	"bookings" integer NOT NULL,
	"cancellations" integer NOT NULL,
	"no_shows" integer NOT NULL,
	"captured_krw" integer NOT NULL,
	"refunded_krw" integer NOT NULL,
	"revenue_krw" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_clinic_policies" (
	"clinic_id" text PRIMARY KEY NOT NULL,
	"policy" jsonb NOT NULL,
	"opening_intervals" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_patient_history" (
	"event_id" text PRIMARY KEY NOT NULL,
	"patient_id" text NOT NULL,
	"clinic_id" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"stream_id" text NOT NULL,
	"event_type" text NOT NULL,
	"summary" text NOT NULL,
	"amount_krw" integer,
	"position" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_patient_subjects" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"patient_id" text NOT NULL,
	"clinic_id" text
);
--> statement-breakpoint
CREATE TABLE "rm_patients" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text,
	"phone" text,
	"email" text,
	"birth_date" text,
	"locale" text NOT NULL,
	"consents" jsonb NOT NULL,
	"erased" boolean NOT NULL,
	"erased_at" timestamp with time zone,
	"registered_at" timestamp with time zone NOT NULL,
	"version" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_payment_days" (
	"id" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"day" text NOT NULL,
	"captured_krw" integer NOT NULL,
	"refunded_krw" integer NOT NULL,
	"captures" integer NOT NULL,
	"refunds" integer NOT NULL,
	"captured_by_staff" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_payments" (
	"id" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"patient_id" text NOT NULL,
	"purpose" text NOT NULL,
	"reservation_id" text,
	"visit_id" text,
	"status" text NOT NULL,
	"amount_krw" integer NOT NULL,
	"vat_krw" integer NOT NULL,
	"captured_krw" integer NOT NULL,
	"refunded_krw" integer NOT NULL,
	"provider" text,
	"provider_ref" text,
	"captured_by" text,
	"captured_at" timestamp with time zone,
	"failure_reason" text,
	"refunds" jsonb NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"day" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"version" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_reservations" (
	"id" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"patient_id" text NOT NULL,
	"treatment_id" text NOT NULL,
	"treatment_name" text NOT NULL,
	"kind" text NOT NULL,
	"booking_mode" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"day" text NOT NULL,
	"hold_id" text NOT NULL,
	"status" text NOT NULL,
	"price_krw" integer NOT NULL,
	"deposit_due_krw" integer NOT NULL,
	"deposit_paid_krw" integer NOT NULL,
	"deposit_status" text NOT NULL,
	"policy" jsonb NOT NULL,
	"fees_krw" integer NOT NULL,
	"refund_due_krw" integer NOT NULL,
	"closed_reason" text,
	"visit_id" text,
	"note" text,
	"requested_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"version" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_schedule_clinics" (
	"clinic_id" text PRIMARY KEY NOT NULL,
	"slot_minutes" integer NOT NULL,
	"slot_capacity" integer NOT NULL,
	"opening_hours" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_schedule_holds" (
	"hold_id" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"day" text NOT NULL,
	"reservation_id" text NOT NULL,
	"slots" jsonb NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"confirmed" boolean NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_schedule_slots" (
	"id" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"day" text NOT NULL,
	"slot" text NOT NULL,
	"capacity" integer NOT NULL,
	"confirmed" integer NOT NULL,
	"pending" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_stats_subjects" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rm_visits" (
	"id" text PRIMARY KEY NOT NULL,
	"clinic_id" text NOT NULL,
	"patient_id" text NOT NULL,
	"reservation_id" text,
	"day" text NOT NULL,
	"stage" text NOT NULL,
	"stage_entered_at" timestamp with time zone NOT NULL,
	"moved_by" text,
	"stage_times" jsonb NOT NULL,
	"history" jsonb NOT NULL,
	"treatments" jsonb NOT NULL,
	"total_krw" integer NOT NULL,
	"arrived_at" timestamp with time zone NOT NULL,
	"discharged_at" timestamp with time zone,
	"version" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rmrev_audit_log" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rmrev_catalogue" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rmrev_daily_stats" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rmrev_patients" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rmrev_payments" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rmrev_reservations" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rmrev_schedule" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rmrev_visits" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "rm_audit_log_time_idx" ON "rm_audit_log" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "rm_audit_log_actor_idx" ON "rm_audit_log" USING btree ("actor_id","occurred_at");--> statement-breakpoint
CREATE INDEX "rm_audit_log_role_idx" ON "rm_audit_log" USING btree ("actor_role","occurred_at");--> statement-breakpoint
CREATE INDEX "rm_audit_log_clinic_idx" ON "rm_audit_log" USING btree ("clinic_id","occurred_at");--> statement-breakpoint
CREATE INDEX "rm_audit_log_patient_idx" ON "rm_audit_log" USING btree ("patient_id","occurred_at");--> statement-breakpoint
CREATE INDEX "rm_audit_log_entity_idx" ON "rm_audit_log" USING btree ("entity_type","entity_id","occurred_at");--> statement-breakpoint
CREATE INDEX "rm_audit_log_type_idx" ON "rm_audit_log" USING btree ("event_type","occurred_at");--> statement-breakpoint
CREATE INDEX "rm_audit_log_correlation_idx" ON "rm_audit_log" USING btree ("correlation_id");--> statement-breakpoint
CREATE INDEX "rm_audit_log_position_idx" ON "rm_audit_log" USING btree ("position_commit","position_prepare");--> statement-breakpoint
CREATE INDEX "rm_clinic_daily_stats_idx" ON "rm_clinic_daily_stats" USING btree ("clinic_id","day");--> statement-breakpoint
CREATE INDEX "rm_patient_history_patient_idx" ON "rm_patient_history" USING btree ("patient_id","occurred_at");--> statement-breakpoint
CREATE INDEX "rm_payment_days_clinic_idx" ON "rm_payment_days" USING btree ("clinic_id","day");--> statement-breakpoint
CREATE INDEX "rm_payments_clinic_day_idx" ON "rm_payments" USING btree ("clinic_id","day");--> statement-breakpoint
CREATE INDEX "rm_payments_patient_idx" ON "rm_payments" USING btree ("patient_id");--> statement-breakpoint
CREATE INDEX "rm_reservations_clinic_day_idx" ON "rm_reservations" USING btree ("clinic_id","day","starts_at");--> statement-breakpoint
CREATE INDEX "rm_reservations_patient_idx" ON "rm_reservations" USING btree ("patient_id","starts_at");--> statement-breakpoint
CREATE INDEX "rm_schedule_holds_day_idx" ON "rm_schedule_holds" USING btree ("clinic_id","day");--> statement-breakpoint
CREATE INDEX "rm_schedule_slots_day_idx" ON "rm_schedule_slots" USING btree ("clinic_id","day","slot");--> statement-breakpoint
CREATE INDEX "rm_visits_clinic_day_idx" ON "rm_visits" USING btree ("clinic_id","day","stage");