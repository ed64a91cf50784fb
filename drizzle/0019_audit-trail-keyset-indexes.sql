DROP INDEX "rm_audit_log_time_idx";--> statement-breakpoint
DROP INDEX "rm_audit_log_position_idx";--> statement-breakpoint
DROP INDEX "security_events_time_idx";--> statement-breakpoint
DROP INDEX "rm_audit_log_actor_idx";--> statement-breakpoint
DROP INDEX "rm_audit_log_role_idx";--> statement-breakpoint
DROP INDEX "rm_audit_log_clinic_idx";--> statement-breakpoint
DROP INDEX "rm_audit_log_patient_idx";--> statement-breakpoint
DROP INDEX "rm_audit_log_entity_idx";--> statement-breakpoint
DROP INDEX "rm_audit_log_type_idx";--> statement-breakpoint
DROP INDEX "rm_audit_log_correlation_idx";--> statement-breakpoint
CREATE INDEX "security_events_user_idx" ON "security_events" USING btree ("user_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "security_events_type_idx" ON "security_events" USING btree ("type","occurred_at","id");--> statement-breakpoint
CREATE INDEX "rm_audit_log_order_idx" ON "rm_audit_log" USING btree ("occurred_at","position_commit","position_prepare");--> statement-breakpoint
CREATE INDEX "rm_audit_log_summary_trgm_idx" ON "rm_audit_log" USING gin ("summary" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "security_events_time_idx" ON "security_events" USING btree ("occurred_at","id");--> statement-breakpoint
CREATE INDEX "rm_audit_log_actor_idx" ON "rm_audit_log" USING btree ("actor_id","occurred_at","position_commit","position_prepare");--> statement-breakpoint
CREATE INDEX "rm_audit_log_role_idx" ON "rm_audit_log" USING btree ("actor_role","occurred_at","position_commit","position_prepare");--> statement-breakpoint
CREATE INDEX "rm_audit_log_clinic_idx" ON "rm_audit_log" USING btree ("clinic_id","occurred_at","position_commit","position_prepare");--> statement-breakpoint
CREATE INDEX "rm_audit_log_patient_idx" ON "rm_audit_log" USING btree ("patient_id","occurred_at","position_commit","position_prepare");--> statement-breakpoint
CREATE INDEX "rm_audit_log_entity_idx" ON "rm_audit_log" USING btree ("entity_type","occurred_at","position_commit","position_prepare");--> statement-breakpoint
CREATE INDEX "rm_audit_log_type_idx" ON "rm_audit_log" USING btree ("event_type","occurred_at","position_commit","position_prepare");--> statement-breakpoint
CREATE INDEX "rm_audit_log_correlation_idx" ON "rm_audit_log" USING btree ("correlation_id","occurred_at","position_commit","position_prepare");