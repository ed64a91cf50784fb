-- Group commit, cheaper per batch: the stream locks in one statement instead of a loop, the duplicate
-- check and the heads of moved streams by index lookups only (a join could scan es_streams), and one
-- result row per stream (the positions of its events in revision order) instead of a join back over
-- the events. Semantics as in 0017.
CREATE OR REPLACE FUNCTION "es_lock_streams"(p_streams text[]) RETURNS void
LANGUAGE sql AS $$
	-- In ascending key order (the sorted subquery's order is the order the locks are taken in).
	SELECT count(pg_advisory_xact_lock(1000, k)) FROM (SELECT DISTINCT hashtext(s) AS k FROM unnest(p_streams) AS s ORDER BY 1) AS keys;
$$;
--> statement-breakpoint
DROP FUNCTION "es_append_batch"(jsonb, jsonb);
--> statement-breakpoint
-- p_streams: [{s, h, r, l}] as in 0017; p_events: [{s, rev, id, type, schemaVersion, data, metadata}].
-- Returns per stream: 'ok' with the transaction's xid, the first revision written and the positions of
-- the stream's events in revision order; 'duplicate'; or 'moved' with the current head.
CREATE FUNCTION "es_append_batch"(p_streams jsonb, p_events jsonb)
RETURNS TABLE ("kind" text, "stream_id" text, "last_xid" xid8, "revision" bigint, "last_hash" text, "positions" text[])
LANGUAGE plpgsql AS $$
DECLARE
	v_ids uuid[];
	v_dup text[] := '{}';
	v_ok text[];
BEGIN
	-- The stream locks (as es_lock_streams, inline: one call less to plan per batch).
	PERFORM count(pg_advisory_xact_lock(1000, k))
	FROM (SELECT DISTINCT hashtext(x->>'s') AS k FROM jsonb_array_elements(p_streams) AS x ORDER BY 1) AS keys;
	v_ids := ARRAY(SELECT e.event_id FROM es_events e
		WHERE e.event_id = ANY(ARRAY(SELECT (ev->>'id')::uuid FROM jsonb_array_elements(p_events) AS ev)));
	IF cardinality(v_ids) > 0 THEN
		v_dup := ARRAY(SELECT DISTINCT ev->>'s' FROM jsonb_array_elements(p_events) AS ev WHERE (ev->>'id')::uuid = ANY(v_ids));
	END IF;
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
	SELECT 'ok'::text, i.stream_id, min(i.xid::text)::xid8, min(i.revision), NULL::text, array_agg(i.position::text ORDER BY i.revision)
	FROM inserted i GROUP BY i.stream_id
	UNION ALL
	SELECT 'duplicate'::text, d, NULL::xid8, NULL::bigint, NULL::text, NULL::text[] FROM unnest(v_dup) AS d
	UNION ALL
	SELECT 'moved'::text, m.s, NULL::xid8,
		(SELECT s.revision FROM es_streams s WHERE s.stream_id = m.s),
		(SELECT s.last_hash FROM es_streams s WHERE s.stream_id = m.s), NULL::text[]
	FROM (SELECT x->>'s' AS s FROM jsonb_array_elements(p_streams) AS x) AS m
	WHERE NOT (m.s = ANY(v_dup)) AND NOT (m.s = ANY(v_ok));
END
$$;
--> statement-breakpoint
-- The read horizon of this database: the oldest transaction still running that could write its events.
-- pg_snapshot_xmin(pg_current_snapshot()) is the server's: a transaction in another database (a long
-- seeding in a scratch database, a test holding one open) held every reader here back for as long as
-- it ran. A backend belongs to one database for its life, so a running xid that pg_stat_get_activity
-- shows in a backend of another database (or none: background workers) can never write these events
-- and is left out. An xid it does not show (ended meanwhile, a prepared transaction, hidden by
-- permissions) still counts: the horizon is only ever moved by xids known to be foreign.
CREATE FUNCTION "es_horizon"() RETURNS xid8
LANGUAGE plpgsql STABLE AS $$
DECLARE
	-- STABLE: the snapshot of the statement that calls it, the one its rows are read with.
	v_snap pg_snapshot := pg_current_snapshot();
	v_horizon xid8;
BEGIN
	IF pg_snapshot_xmin(v_snap) = pg_snapshot_xmax(v_snap) THEN
		RETURN pg_snapshot_xmax(v_snap);
	END IF;
	SELECT min(x) INTO v_horizon FROM pg_snapshot_xip(v_snap) AS x
	WHERE x::xid NOT IN (
		SELECT a.backend_xid FROM pg_stat_get_activity(NULL) AS a
		WHERE a.backend_xid IS NOT NULL
			AND a.datid IS DISTINCT FROM (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()));
	RETURN coalesce(v_horizon, pg_snapshot_xmax(v_snap));
END
$$;
