-- Group commit (lib/eventstore/postgres/store.ts, docs/eventstore.md): the appends a process has
-- waiting are written together, in one transaction and one statement (es_append_batch), each keeping
-- its own outcome.
--
-- Stream locks: every append first takes a transaction-scoped advisory lock per stream (class 1000,
-- hashtext of the stream id; a collision only makes two streams share a lock), in ascending key order,
-- so two transactions locking several streams cannot deadlock. Taking an advisory lock assigns no
-- transaction id: the xid is assigned at the transaction's first write, after all its locks are held.
-- An append that chains to an earlier append of the same stream can only write once that one
-- committed and released the lock, so its xid is higher, and readers' (xid, position) order stays
-- revision order within every stream, also when one transaction writes several streams.
CREATE FUNCTION "es_lock_streams"(p_streams text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_key integer;
BEGIN
	FOR v_key IN SELECT DISTINCT hashtext(s) FROM unnest(p_streams) AS s ORDER BY 1 LOOP
		PERFORM pg_advisory_xact_lock(1000, v_key);
	END LOOP;
END
$$;
--> statement-breakpoint
-- Locks the streams (waiting for the transactions holding them) and returns their heads (no row for a
-- stream that does not exist). The read is a statement after the wait, so it sees what committed meanwhile.
-- For appends that must not fail from contention (an 'any' append whose head moved): lock, read, chain, write.
CREATE FUNCTION "es_lock_heads"(p_streams text[])
RETURNS TABLE ("stream_id" text, "revision" bigint, "last_hash" text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM es_lock_streams(p_streams);
	RETURN QUERY SELECT s.stream_id, s.revision, s.last_hash FROM es_streams s WHERE s.stream_id = ANY(p_streams);
END
$$;
--> statement-breakpoint
-- Several appends in one statement. p_streams: one entry per stream, {s: stream, h: the head revision
-- its first append chained to (-1: new stream), r: the revision after the last append, l: the last
-- hash}; p_events: every event, {s, rev, id, type, schemaVersion, data, metadata}, in the order to
-- write, and on the last event of each append m: that append's number.
-- A stream is written whole or not at all (its appends chain to one another):
-- - 'duplicate': one of its event ids is already stored; nothing of it is written (the store settles
--   each of its appends alone: an idempotent repeat, or DuplicateEventId);
-- - 'moved': its head is not h; the current head is returned so the store can decide again;
-- - 'ok': one row per append, with the position of its last event.
-- Another stream's outcome does not change this one's: no error aborts the transaction for them.
CREATE FUNCTION "es_append_batch"(p_streams jsonb, p_events jsonb)
RETURNS TABLE ("kind" text, "stream_id" text, "member" integer, "last_position" bigint, "last_xid" xid8, "revision" bigint, "last_hash" text)
LANGUAGE plpgsql AS $$
DECLARE
	v_dup text[];
	v_ok text[];
BEGIN
	PERFORM es_lock_streams(ARRAY(SELECT x->>'s' FROM jsonb_array_elements(p_streams) AS x));
	v_dup := ARRAY(
		SELECT DISTINCT ev->>'s' FROM jsonb_array_elements(p_events) AS ev
		JOIN es_events e ON e.event_id = (ev->>'id')::uuid);
	WITH created AS (
		INSERT INTO es_streams AS t (stream_id, revision, last_hash)
		SELECT x->>'s', (x->>'r')::bigint, x->>'l' FROM jsonb_array_elements(p_streams) AS x
		WHERE (x->>'h')::bigint < 0 AND NOT (x->>'s' = ANY(v_dup))
		ON CONFLICT ON CONSTRAINT es_streams_pkey DO NOTHING
		RETURNING t.stream_id
	), advanced AS (
		UPDATE es_streams AS t SET revision = (x->>'r')::bigint, last_hash = x->>'l', updated_at = now()
		FROM jsonb_array_elements(p_streams) AS x
		WHERE (x->>'h')::bigint >= 0 AND NOT (x->>'s' = ANY(v_dup))
			AND t.stream_id = x->>'s' AND t.revision = (x->>'h')::bigint
		RETURNING t.stream_id
	)
	SELECT coalesce(array_agg(w.stream_id), '{}') INTO v_ok
	FROM (SELECT c.stream_id FROM created c UNION ALL SELECT a.stream_id FROM advanced a) AS w;

	RETURN QUERY
	WITH inserted AS (
		INSERT INTO es_events (stream_id, revision, event_id, type, schema_version, data, metadata)
		SELECT ev.value->>'s', (ev.value->>'rev')::bigint, (ev.value->>'id')::uuid, ev.value->>'type',
			(ev.value->>'schemaVersion')::integer, ev.value->'data', ev.value->'metadata'
		FROM jsonb_array_elements(p_events) WITH ORDINALITY AS ev(value, ord)
		WHERE ev.value->>'s' = ANY(v_ok)
		ORDER BY ev.ord
		RETURNING es_events.position, es_events.xid, es_events.stream_id, es_events.revision
	)
	SELECT 'ok'::text, i.stream_id, (ev.value->>'m')::integer, i.position, i.xid, i.revision, NULL::text
	FROM inserted i
	JOIN jsonb_array_elements(p_events) AS ev(value)
		ON ev.value ? 'm' AND ev.value->>'s' = i.stream_id AND (ev.value->>'rev')::bigint = i.revision
	UNION ALL
	SELECT 'duplicate'::text, d, NULL::integer, NULL::bigint, NULL::xid8, NULL::bigint, NULL::text FROM unnest(v_dup) AS d
	UNION ALL
	SELECT 'moved'::text, x->>'s', NULL::integer, NULL::bigint, NULL::xid8, s.revision, s.last_hash
	FROM jsonb_array_elements(p_streams) AS x
	LEFT JOIN es_streams s ON s.stream_id = x->>'s'
	WHERE NOT (x->>'s' = ANY(v_dup)) AND NOT (x->>'s' = ANY(v_ok));
END
$$;
--> statement-breakpoint
-- The single-append statement of 0001 takes the same stream lock first (kept for tools and tests that
-- call it; the store uses es_append_batch).
CREATE OR REPLACE FUNCTION "es_append"(p_stream text, p_expected_head bigint, p_last_hash text, p_events jsonb)
RETURNS TABLE ("last_position" bigint, "last_xid" xid8, "last_revision" bigint, "recorded_at" timestamp with time zone)
LANGUAGE plpgsql AS $$
DECLARE
	v_count bigint := jsonb_array_length(p_events);
BEGIN
	PERFORM es_lock_streams(ARRAY[p_stream]);
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
