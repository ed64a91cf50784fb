-- Event store (lib/eventstore, PostgreSQL backend). See docs/eventstore.md.
--
-- es_streams: one row per stream, the head (last revision and the hash it ends with). Every append
--   writes this row first (UPDATE ... WHERE revision = <head the appender read>, or INSERT for a new
--   stream), so it is the append's first write, where its transaction id is taken and where concurrent
--   appends to one stream serialise. An append that waited on the row and finds it moved writes nothing.
-- es_events: the log. position is the insert order number; xid the writing transaction (xid8).
--   Subscribers and readAll read in (xid, position) order below the oldest running transaction
--   (pg_snapshot_xmin), so an event whose transaction commits late is never skipped.
CREATE TABLE "es_streams" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL,
	"last_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "es_events" (
	"position" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	"xid" xid8 DEFAULT pg_current_xact_id() NOT NULL,
	"stream_id" text NOT NULL,
	"revision" bigint NOT NULL,
	"event_id" uuid NOT NULL,
	"type" text NOT NULL,
	"schema_version" integer NOT NULL,
	"data" jsonb NOT NULL,
	"metadata" jsonb NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "es_events_stream_revision_key" UNIQUE ("stream_id", "revision"),
	CONSTRAINT "es_events_event_id_key" UNIQUE ("event_id"),
	CONSTRAINT "es_events_revision_check" CHECK ("revision" >= 0)
);
--> statement-breakpoint
CREATE INDEX "es_events_xid_position_idx" ON "es_events" USING btree ("xid", "position");
--> statement-breakpoint
CREATE INDEX "es_events_type_idx" ON "es_events" USING btree ("type", "xid", "position");
--> statement-breakpoint
-- Events are immutable: the database itself refuses UPDATE, DELETE and TRUNCATE.
-- (A superuser can still bypass triggers, e.g. session_replication_role = replica; the hash chain
-- makes such tampering detectable.)
CREATE FUNCTION "es_events_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'es_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'raise_exception';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "es_events_no_update_delete" BEFORE UPDATE OR DELETE ON "es_events"
	FOR EACH ROW EXECUTE FUNCTION "es_events_immutable"();
--> statement-breakpoint
CREATE TRIGGER "es_events_no_truncate" BEFORE TRUNCATE ON "es_events"
	FOR EACH STATEMENT EXECUTE FUNCTION "es_events_immutable"();
--> statement-breakpoint
-- One append, one statement, one round trip. p_expected_head is the head revision the caller read
-- (-1: the stream does not exist) and chained its hashes to; p_events a JSON array of
-- {id, type, schemaVersion, data, metadata}. Returns no row when the head moved (the caller re-reads).
-- The stream row is written first: that is where the transaction id is assigned (NOTIFY is not sent
-- here on purpose: a NOTIFY in the appending transaction takes a database-wide lock held through the
-- commit's WAL flush, which serialises all appends; the store notifies after commit instead).
CREATE FUNCTION "es_append"(p_stream text, p_expected_head bigint, p_last_hash text, p_events jsonb)
RETURNS TABLE ("last_position" bigint, "last_xid" xid8, "last_revision" bigint, "recorded_at" timestamp with time zone)
LANGUAGE plpgsql AS $$
DECLARE
	v_count bigint := jsonb_array_length(p_events);
BEGIN
	IF p_expected_head < 0 THEN
		INSERT INTO es_streams (stream_id, revision, last_hash)
		VALUES (p_stream, v_count - 1, p_last_hash)
		ON CONFLICT (stream_id) DO NOTHING;
	ELSE
		UPDATE es_streams SET revision = p_expected_head + v_count, last_hash = p_last_hash, updated_at = now()
		WHERE es_streams.stream_id = p_stream AND es_streams.revision = p_expected_head;
	END IF;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	RETURN QUERY
	WITH inserted AS (
		INSERT INTO es_events (stream_id, revision, event_id, type, schema_version, data, metadata)
		SELECT p_stream, p_expected_head + e.ord, (e.value->>'id')::uuid, e.value->>'type',
			(e.value->>'schemaVersion')::integer, e.value->'data', e.value->'metadata'
		FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord)
		ORDER BY e.ord
		RETURNING es_events.position, es_events.xid, es_events.revision, es_events.recorded_at
	)
	SELECT i.position, i.xid, i.revision, i.recorded_at FROM inserted i ORDER BY i.position DESC LIMIT 1;
END
$$;
--> statement-breakpoint
-- Persistent subscription groups. The checkpoint is the (xid, position) pair up to which every
-- matching event was acked, skipped or parked. The lease (owner, epoch, expiry) makes one consumer
-- active; every write a consumer makes is fenced on its owner and epoch.
CREATE TABLE "es_groups" (
	"name" text PRIMARY KEY NOT NULL,
	"filter" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"checkpoint_xid" xid8 DEFAULT '0'::xid8 NOT NULL,
	"checkpoint_position" bigint DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"lease_epoch" bigint DEFAULT 0 NOT NULL,
	"lease_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "es_parked" (
	"group_name" text NOT NULL REFERENCES "es_groups" ("name") ON DELETE CASCADE,
	"event_position" bigint NOT NULL REFERENCES "es_events" ("position"),
	"reason" text NOT NULL,
	"retry_count" integer NOT NULL,
	"parked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"replay_requested_at" timestamp with time zone,
	CONSTRAINT "es_parked_pkey" PRIMARY KEY ("group_name", "event_position")
);
--> statement-breakpoint
CREATE INDEX "es_parked_replay_idx" ON "es_parked" USING btree ("group_name", "replay_requested_at");
