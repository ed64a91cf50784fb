-- Group commit: every read of es_append_batch and es_lock_heads is a lookup of one key, so that its plan
-- cannot depend on how large the tables were when a connection first planned it. PL/pgSQL caches a
-- statement's plan per connection; set-based lookups (`event_id = ANY(<the batch's ids>)`, the stream
-- rows joined to the batch's streams, `stream_id = ANY(...)`) were planned on the empty tables of a new
-- database as sequential scans and kept so until an ANALYZE: on a log grown to 150,000 events the
-- duplicate check alone took 20–60 ms per batch (auto_explain: Seq Scan on es_events, Rows Removed by
-- Filter: 150030), which is what made 100-event appends fall to 0.16–0.45 of raw INSERTs. A lookup by
-- equality on a unique key is planned as an index probe whatever the table's size estimate (the
-- single-append es_append only ever had those). Semantics as in 0017/0023.
CREATE OR REPLACE FUNCTION "es_lock_heads"(p_streams text[])
RETURNS TABLE ("stream_id" text, "revision" bigint, "last_hash" text)
LANGUAGE plpgsql AS $$
DECLARE
	v_stream text;
BEGIN
	PERFORM es_lock_streams(p_streams);
	FOREACH v_stream IN ARRAY p_streams LOOP
		RETURN QUERY SELECT s.stream_id, s.revision, s.last_hash FROM es_streams s WHERE s.stream_id = v_stream;
	END LOOP;
END
$$;
--> statement-breakpoint
-- p_streams: [{s, h, r, l}] and p_events: [{s, rev, id, type, schemaVersion, data, metadata}] as in 0023;
-- the same rows returned.
CREATE OR REPLACE FUNCTION "es_append_batch"(p_streams jsonb, p_events jsonb)
RETURNS TABLE ("kind" text, "stream_id" text, "last_xid" xid8, "revision" bigint, "last_hash" text, "positions" text[])
LANGUAGE plpgsql AS $$
DECLARE
	x record;
	v_dup text[];
	v_ok text[] := '{}';
BEGIN
	-- The stream locks, in ascending key order, before the first write.
	PERFORM count(pg_advisory_xact_lock(1000, k))
	FROM (SELECT DISTINCT hashtext(j->>'s') AS k FROM jsonb_array_elements(p_streams) AS j ORDER BY 1) AS keys;
	-- The streams with an event id stored already: one probe of the unique index per event (a
	-- correlated subquery is never turned into a join, so it cannot become a scan of es_events).
	v_dup := ARRAY(SELECT DISTINCT ev->>'s' FROM jsonb_array_elements(p_events) AS ev
		WHERE (SELECT true FROM es_events e WHERE e.event_id = (ev->>'id')::uuid));
	-- Each other stream created, or advanced from the head it was chained to, by its key.
	FOR x IN SELECT j->>'s' AS s, (j->>'h')::bigint AS h, (j->>'r')::bigint AS r, j->>'l' AS l FROM jsonb_array_elements(p_streams) AS j LOOP
		CONTINUE WHEN x.s = ANY(v_dup);
		IF x.h < 0 THEN
			INSERT INTO es_streams (stream_id, revision, last_hash) VALUES (x.s, x.r, x.l)
			ON CONFLICT ON CONSTRAINT es_streams_pkey DO NOTHING;
		ELSE
			UPDATE es_streams SET revision = x.r, last_hash = x.l, updated_at = now()
			WHERE es_streams.stream_id = x.s AND es_streams.revision = x.h;
		END IF;
		IF FOUND THEN
			v_ok := v_ok || x.s;
		END IF;
	END LOOP;

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
	SELECT 'moved'::text, ms.m, NULL::xid8,
		(SELECT s.revision FROM es_streams s WHERE s.stream_id = ms.m),
		(SELECT s.last_hash FROM es_streams s WHERE s.stream_id = ms.m), NULL::text[]
	FROM (SELECT j->>'s' AS m FROM jsonb_array_elements(p_streams) AS j) AS ms
	WHERE NOT (ms.m = ANY(v_dup)) AND NOT (ms.m = ANY(v_ok));
END
$$;
