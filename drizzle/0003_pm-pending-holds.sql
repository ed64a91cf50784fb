CREATE TABLE "pm_pending_holds" (
	"stream_id" text NOT NULL,
	"hold_id" text NOT NULL,
	"clinic_id" text NOT NULL,
	"day" text NOT NULL,
	"reservation_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "pm_pending_holds_pk" ON "pm_pending_holds" USING btree ("stream_id","hold_id");--> statement-breakpoint
CREATE INDEX "pm_pending_holds_expires_idx" ON "pm_pending_holds" USING btree ("expires_at");