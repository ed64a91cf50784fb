/**
 * Audit-trail benchmark (issue 10 figures; not a test): part of `npm run bench`, alone with
 * `npx tsx bench/audit.ts`. Run it under `flock /tmp/yeyak-heavy.lock` (it builds if stale and serves).
 *
 * On a fresh database of its own: migrated, the demo world seeded through the commands, then
 * AUDIT_TEMPLATE_EVENTS (default 20,000) events of the read side's realistic history generator
 * appended through the event store (valid events, correlations, actors), then copied in SQL
 * (INSERT … SELECT: new stream names, event ids and correlation ids, each copy a span of time
 * earlier) until the log holds AUDIT_EVENTS (default 1,000,000) events; the audit-log read model is
 * rebuilt from the whole log by its own projection. Then:
 * - audit_query_patient_p99_ms: a trail page (50 rows, and the next page by keyset) for a random patient;
 * - audit_query_daterange_p99_ms: a trail page (and the next) for a random Seoul day;
 * - audit_entity_page_p99_ms: the entity page's query (a random reservation's whole stream from the
 *   store, folded, with its diffs and the other streams of its conversations);
 *   each over AUDIT_SAMPLES (default 400) calls of the app's own query functions after a warm-up, with
 *   EXPLAIN ANALYZE of one patient page and one day page kept in the result;
 * - audit_export_1m_rss_mb: the production server (worker and scripts/web-server.ts, as `npm start`
 *   runs them) on AUDIT_PORT (default 3174); an auditor's CSV export of the whole trail (every row,
 *   1M+) through POST /audit/export, read to the end by a client; the web process tree's resident
 *   memory sampled every 50 ms: peak minus idle (median of 2 s before the export, after a warm-up export).
 *   AUDIT_EXISTING_BUILD=true serves the build in .next as it is (no build; its id and time are kept).
 * Writes bench/results/audit.json with the machine. AUDIT_QUERIES_ONLY=true stops before the server (no result file).
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { eq } from 'drizzle-orm';
import { encode } from 'next-auth/jwt';
import { connect } from '@/lib/db/client';
import { createScratchDatabase } from '@/lib/db/scratch';
import { users } from '@/lib/db/schema';
import { createEventStore } from '@/lib/eventstore';
import { PROCESS_MANAGER_GROUP } from '@/lib/process-managers';
import { PROCESS_MANAGER_EVENT_TYPES } from '@/lib/process-managers/reactions';
import { auditLogProjection } from '@/lib/projections/read-models/audit-log';
import { auditFiltersSchema, trailPageOf } from '@/lib/projections/read-models/audit-log/trail';
import { rebuildProjections } from '@/lib/projections/rebuild';
import { appendOne, generateHistory, type Append } from '@/lib/projections/testing';
import { PROJECTIONS_GROUP } from '@/lib/projections/worker';
import { createPersonalDataVault } from '@/lib/privacy/vault';
import { entityHistoryOf } from '@/lib/queries/audit-entity';
import { buildIfStale } from '../scripts/lib/build';
import { prepareDatabase } from '../scripts/lib/prepare';
import { serveApp } from '../scripts/lib/serve';
import { benchMachine, isMain, percentile, printTable, round, writeResult, type Figure } from './lib';

const EVENTS = Number(process.env.AUDIT_EVENTS ?? 1_000_000);
const TEMPLATE = Number(process.env.AUDIT_TEMPLATE_EVENTS ?? 20_000);
const SAMPLES = Number(process.env.AUDIT_SAMPLES ?? 400);
const PORT = Number(process.env.AUDIT_PORT ?? 3174);
const AUDITOR = 'auditor@yeyak.example';
const log = (m: string) => console.log(`[bench:audit] ${m}`);

/** Appends in parallel lanes, each stream always in the same lane (so each stream stays in order). */
async function appendLanes(append: (a: Append) => Promise<unknown>, appends: Append[], lanes = 8): Promise<void> {
  const buckets: Append[][] = Array.from({ length: lanes }, () => []);
  for (const a of appends) {
    let h = 0;
    for (let i = 0; i < a.stream.length; i++) h = (h * 31 + a.stream.charCodeAt(i)) >>> 0;
    buckets[h % lanes]!.push(a);
  }
  await Promise.all(buckets.map(async (b) => { for (const a of b) await append(a); }));
}

/** Resident memory (kB) of a process and all its descendants, from /proc. */
function treeRssKb(pid: number): number {
  let total = 0;
  const visit = (p: number) => {
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      for (const task of fs.readdirSync(`/proc/${p}/task`)) {
        const children = fs.readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        for (const c of children ? children.split(/\s+/) : []) visit(Number(c));
      }
    } catch {
      /* exited meanwhile */
    }
  };
  visit(pid);
  return total;
}

/** Our child process running scripts/web-server.ts. */
function webServerPid(): number {
  const children = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  for (const c of children) {
    const cmd = fs.readFileSync(`/proc/${c}/cmdline`, 'utf8');
    if (cmd.includes('scripts/web-server.ts')) return c;
  }
  throw new Error('web server process not found');
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export async function runAuditBench(): Promise<Figure[]> {
  const loadBefore = os.loadavg()[0]!;
  const secrets = {
    AUTH_SECRET: randomBytes(32).toString('base64'),
    EVENT_HMAC_KEY: randomBytes(32).toString('base64'),
    PERSONAL_DATA_MASTER_KEY: randomBytes(32).toString('base64'),
    SEAL_SIGNING_KEY: randomBytes(32).toString('base64'),
  };
  Object.assign(process.env, secrets);
  const scratch = await createScratchDatabase('yeyak_bench_audit', log);
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string) => figures.push({ name, value, unit });
  const notes: Record<string, unknown> = {};
  let group: ReturnType<typeof serveApp> | undefined;
  try {
    await prepareDatabase(scratch.url, log, { seedDemo: true, secrets });
    const database = connect(scratch.url, { max: 8 });
    const store = await createEventStore({ databaseUrl: scratch.url, hmacKey: secrets.EVENT_HMAC_KEY, maxConnections: 10 });
    const vault = createPersonalDataVault(database.sql, secrets.PERSONAL_DATA_MASTER_KEY);
    const sql = database.sql;
    try {
      // 1. The template: valid events through the store.
      const [{ last: seedEnd }] = (await sql`select coalesce(max(position), 0)::bigint::text as last from es_events`) as unknown as [{ last: string }];
      const history = generateHistory({ events: TEMPLATE, seed: 11, clinics: 20, idPrefix: 'tpl-' });
      let t0 = performance.now();
      await appendLanes((a) => appendOne(store, a, vault.encryptEvent), history);
      const [{ count: templateCount }] = (await sql`select count(*)::int as count from es_events where position > ${seedEnd}`) as unknown as [{ count: number }];
      log(`template: ${templateCount} events appended in ${round((performance.now() - t0) / 1000)} s`);

      // 2. The audit-log read model of the template, by its own projection.
      t0 = performance.now();
      const rebuilt = await rebuildProjections({ store, database, projections: [auditLogProjection], decryptor: vault });
      log(`audit-log built by its projection: ${rebuilt.events} events in ${round((performance.now() - t0) / 1000)} s`);
      notes.auditLogProjectionEventsPerSecond = round(rebuilt.eventsPerSecond);

      // 3. Copies, in SQL, of the events and of their audit-log rows: each copy's streams, events,
      // patients and conversations are its own, a span of time earlier.
      const [{ span }] = (await sql`
        select ceil(extract(epoch from max((metadata->>'occurredAt')::timestamptz) - min((metadata->>'occurredAt')::timestamptz)))::int + 3600 as span
        from es_events where position > ${seedEnd}`) as unknown as [{ span: number }];
      const [{ total: already }] = (await sql`select count(*)::int as total from es_events`) as unknown as [{ total: number }];
      const copies = Math.max(0, Math.ceil((EVENTS - already) / templateCount));
      t0 = performance.now();
      await sql`set timezone = 'UTC'`;
      // Bulk copy without the read model's secondary indexes, then the same indexes built again.
      const indexes = (await sql`select indexname, indexdef from pg_indexes where tablename = 'rm_audit_log' and indexname <> 'rm_audit_log_pkey'`) as unknown as Array<{ indexname: string; indexdef: string }>;
      for (const i of indexes) await sql.unsafe(`drop index ${i.indexname}`);
      for (let k = 1; k <= copies; k++) {
        await sql`
          insert into es_events (stream_id, revision, event_id, type, schema_version, data, metadata, recorded_at)
          select
            case when stream_id ~ '^schedule-' then regexp_replace(stream_id, '^schedule-(.+)-(\\d{4}-\\d{2}-\\d{2})$', 'schedule-\\1x' || ${k}::text || '-\\2') else stream_id || 'x' || ${k}::text end,
            revision, gen_random_uuid(), type, schema_version,
            case when data ? 'patientId' then jsonb_set(data, '{patientId}', to_jsonb((data->>'patientId') || 'x' || ${k}::text)) else data end,
            jsonb_set(jsonb_set(metadata, '{correlationId}', to_jsonb(coalesce(metadata->>'correlationId', 'c') || 'x' || ${k}::text)),
              '{occurredAt}', to_jsonb(to_char((metadata->>'occurredAt')::timestamptz - make_interval(secs => ${span}::double precision * ${k}), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
            recorded_at - make_interval(secs => ${span}::double precision * ${k})
          from es_events where position > ${seedEnd} and position <= ${seedEnd}::bigint + ${templateCount}
          order by position`;
        await sql`
          insert into rm_audit_log
          select e.event_id::text, (e.xid::text)::bigint, e.position, a.occurred_at - make_interval(secs => ${span}::double precision * ${k}),
            a.recorded_at - make_interval(secs => ${span}::double precision * ${k}), a.actor_id, a.actor_role, a.clinic_id,
            a.patient_id || 'x' || ${k}::text, e.stream_id, a.revision, a.entity_type, a.entity_id || 'x' || ${k}::text, a.event_type,
            a.schema_version, a.summary, coalesce(a.correlation_id, 'c') || 'x' || ${k}::text, a.causation_id, a.command_id, a.ip
          from rm_audit_log a
          join es_events e on e.stream_id = case when a.stream_id ~ '^schedule-' then regexp_replace(a.stream_id, '^schedule-(.+)-(\\d{4}-\\d{2}-\\d{2})$', 'schedule-\\1x' || ${k}::text || '-\\2') else a.stream_id || 'x' || ${k}::text end
            and e.revision = a.revision
          where a.position_prepare > ${seedEnd} and a.position_prepare <= ${seedEnd}::bigint + ${templateCount}`;
        if (k % 10 === 0) log(`copies: ${k}/${copies}`);
      }
      await sql`
        insert into es_streams (stream_id, revision, last_hash)
        select stream_id, max(revision), 'bench-copy' from es_events e
        where position > ${seedEnd}::bigint + ${templateCount} group by stream_id
        on conflict (stream_id) do nothing`;
      for (const i of indexes) await sql.unsafe(i.indexdef);
      await sql`analyze es_events`;
      await sql`analyze rm_audit_log`;
      const [{ total }] = (await sql`select count(*)::int as total from es_events`) as unknown as [{ total: number }];
      log(`${copies} copies in ${round((performance.now() - t0) / 1000)} s: ${total} events in the log`);
      notes.events = total;
      notes.templateEvents = templateCount;
      notes.copies = copies;

      // The worker starts after this: nothing of the history is re-read while measuring.
      await store.groups.create(PROJECTIONS_GROUP, { startFrom: 'end' });
      await store.groups.create(PROCESS_MANAGER_GROUP, { filter: { eventTypes: [...PROCESS_MANAGER_EVENT_TYPES] }, startFrom: 'end' });

      // 4. Query latencies, through the app's own query functions.
      const scope = { clinicId: null };
      const patients = ((await sql`select patient_id from rm_audit_log where patient_id is not null group by patient_id order by random() limit 500`) as unknown as Array<{ patient_id: string }>).map((r) => r.patient_id);
      const days = ((await sql`select distinct to_char(occurred_at at time zone 'Asia/Seoul', 'YYYY-MM-DD') as day from rm_audit_log`) as unknown as Array<{ day: string }>).map((r) => r.day);
      const reservations = ((await sql`select stream_id from es_streams where stream_id like 'reservation-%' order by random() limit 500`) as unknown as Array<{ stream_id: string }>).map((r) => r.stream_id);
      const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
      const twoPages = async (filters: Record<string, string>) => {
        const first = await trailPageOf(sql, scope, auditFiltersSchema.parse(filters));
        if (first.older) await trailPageOf(sql, scope, auditFiltersSchema.parse({ ...filters, before: first.older }));
      };
      const samples = async (name: string, fn: () => Promise<unknown>, perCall = 1) => {
        for (let i = 0; i < 30; i++) await fn();
        const ms: number[] = [];
        for (let i = 0; i < SAMPLES; i++) ms.push((await timeIt(fn)) / perCall);
        add(`${name}_p50_ms`, round(percentile(ms, 50), 2), 'ms');
        add(`${name}_p99_ms`, round(percentile(ms, 99), 2), 'ms');
      };
      // Each sample is a page and the next one (two queries): the figure is per query.
      await samples('audit_query_patient', () => twoPages({ patient: pick(patients) }), 2);
      await samples('audit_query_daterange', () => { const d = pick(days); return twoPages({ from: d, to: d }); }, 2);
      await samples('audit_query_clinic_type', () => twoPages({ clinic: `clinic${Math.floor(Math.random() * 20)}`, type: 'ReservationRequested' }), 2);
      await samples('audit_query_free_text', () => twoPages({ q: pick(['refund', 'botox', 'tpl-clinic3', 'cancel']) }), 2);
      await samples('audit_entity_page', () => entityHistoryOf({ store, db: database.db }, pick(reservations), null));
      notes.reservationsSampled = reservations.length;
      notes.patientsSampled = patients.length;
      notes.daysInLog = days.length;

      // The plans: index range scans that stop after a page.
      const explain = async (where: string, params: unknown[]) =>
        ((await sql.unsafe(`explain (analyze, costs off, timing on, summary on) select * from rm_audit_log e where ${where} order by e.occurred_at desc, e.position_commit desc, e.position_prepare desc limit 51`, params as never[])) as unknown as Array<Record<string, string>>).map((r) => Object.values(r)[0]);
      notes.explainPatient = await explain('e.patient_id = $1', [pick(patients)]);
      notes.explainDay = await explain(`e.occurred_at >= $1::timestamptz and e.occurred_at < $2::timestamptz`, [`${pick(days)}T00:00:00+09:00`, `${pick(days)}T23:59:59+09:00`]);
    } finally {
      await store.close();
      await database.close();
    }

    // 5. Memory while streaming the whole trail as CSV from the production server.
    if (process.env.AUDIT_QUERIES_ONLY === 'true') {
      printTable('audit trail (queries only)', figures);
      return figures;
    }
    if (process.env.AUDIT_EXISTING_BUILD === 'true') {
      // Serve the production build already in .next as it is (when another process owns the builds):
      // the result records which build that was, so a figure can be matched with the sources it ran.
      const stat = fs.statSync('.next/BUILD_ID');
      notes.build = { id: fs.readFileSync('.next/BUILD_ID', 'utf8').trim(), builtAt: stat.mtime.toISOString(), rebuilt: false };
      log(`serving the existing build ${(notes.build as { id: string }).id} of ${stat.mtime.toISOString()} (AUDIT_EXISTING_BUILD=true)`);
    } else await buildIfStale(log);
    const baseUrl = `http://127.0.0.1:${PORT}`;
    Object.assign(process.env, { SERVE_HOST: '127.0.0.1', AUTH_URL: baseUrl });
    group = serveApp({ databaseUrl: scratch.url, dev: false, port: PORT, hostname: '127.0.0.1', log });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${baseUrl}/signin`)).ok) break;
      } catch {
        /* not up yet */
      }
      if (i > 240) throw new Error('the server did not come up');
      await new Promise((r) => setTimeout(r, 500));
    }
    const db2 = connect(scratch.url, { max: 1 });
    const [auditor] = await db2.db.select().from(users).where(eq(users.email, AUDITOR)).limit(1);
    await db2.close();
    const token = await encode({ token: { sub: auditor!.id, role: auditor!.role, clinicId: null, name: auditor!.name, email: auditor!.email }, secret: secrets.AUTH_SECRET, salt: 'authjs.session-token' });
    const cookie = `authjs.session-token=${token}`;
    const exportAll = async (fields: Record<string, string>) => {
      const started = performance.now();
      const response = await fetch(`${baseUrl}/audit/export`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ log: 'trail', format: 'csv', reason: 'benchmark', ...fields }), redirect: 'manual' });
      if (response.status !== 200) throw new Error(`export answered ${response.status}`);
      // As a browser gets it: fetch asks for gzip/br like one, so Next.js compresses the body.
      notes.exportContentEncoding = response.headers.get('content-encoding') ?? 'identity';
      let bytes = 0;
      let lines = 0;
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        for (let i = 0; i < value.length; i++) if (value[i] === 10) lines++;
      }
      return { bytes, rows: lines - 1, seconds: (performance.now() - started) / 1000 };
    };
    const pid = webServerPid();
    await exportAll({ clinic: 'gangnam-glow' }); // warm-up: the route is loaded, its connection pool open
    await new Promise((r) => setTimeout(r, 2000));
    const idleSamples: number[] = [];
    for (let i = 0; i < 40; i++) {
      idleSamples.push(treeRssKb(pid));
      await new Promise((r) => setTimeout(r, 50));
    }
    const idleKb = percentile(idleSamples, 50);
    let peakKb = 0;
    const sampler = setInterval(() => (peakKb = Math.max(peakKb, treeRssKb(pid))), 50);
    const result = await exportAll({});
    clearInterval(sampler);
    peakKb = Math.max(peakKb, treeRssKb(pid));
    add('audit_export_1m_rss_mb', round((peakKb - idleKb) / 1024, 1), 'MB');
    add('audit_export_idle_rss_mb', round(idleKb / 1024, 1), 'MB');
    add('audit_export_peak_rss_mb', round(peakKb / 1024, 1), 'MB');
    add('audit_export_rows', result.rows, 'rows');
    add('audit_export_rows_per_s', Math.round(result.rows / result.seconds), 'rows/s');
    add('audit_export_mb', round(result.bytes / 1024 / 1024, 1), 'MB');
    log(`exported ${result.rows} rows (${round(result.bytes / 1024 / 1024)} MB) in ${round(result.seconds)} s`);

    const machine = await benchMachine(scratch, { loadAverage1mBefore: round(loadBefore, 2), loadAverage1mAfter: round(os.loadavg()[0]!, 2), ...notes });
    printTable('audit trail', figures);
    log(`wrote ${writeResult('audit', { machine, figures })}`);
    return figures;
  } finally {
    await group?.stop(0);
    await scratch.drop();
  }
}

if (isMain(import.meta.url)) {
  await runAuditBench();
  process.exit(0);
}
