/**
 * Scale benchmark (not a test): the figures at SCALE_EVENTS (default 1,000,000) events. Part of
 * `npm run bench` (step `scale`), alone with `flock /tmp/yeyak-heavy.lock npx tsx bench/scale.ts`.
 * Seeding a million events takes minutes: the run prints how long, and records it.
 *
 * On a fresh, migrated database of its own, seeded with the read side's realistic history generator
 * (lib/projections/testing.ts generateHistory, personal data encrypted as the command layer does),
 * appended through the event store in SCALE_LANES (default 256) parallel lanes, each stream always in
 * the same lane (so a stream stays in order) — the store's group commit puts the lanes' concurrent
 * appends into shared transactions, so more lanes seed faster than the other benchmarks' 8:
 * - seed_seconds / seed_events_per_s, database_size_mb (pg_database_size) and es_events_size_mb
 *   (the event table with its indexes and TOAST) at that size;
 * - the worker process (lib/worker/main.ts, as `npm run worker` starts it) on that database, its resident
 *   memory (VmRSS in /proc/<pid>/status) sampled every 250 ms (`_rss_mb` the largest sample,
 *   `_rss_peak_mb` the kernel's high-water mark VmHWM, `_idle_rss_mb` 5 s after it caught up), twice:
 *   worker_catchup_*: catching up the whole log through its group, the live path (the read models were
 *   built, empty, and the group created at the start of the log before the history was appended: a
 *   worker that was away while it was written); worker_build_*: building every projection from the
 *   log (a rebuild request for each, the same code as the automatic build of a new projection), until
 *   each is live again and the group at the head. The process managers' group starts at the end of
 *   the log: the history is the past (as bench/http.ts does), no payment of March is reconciled again;
 * - rebuild_events_per_s_1m: rebuildProjections of every projection over the whole log (shadow
 *   tables and switch, as bench/projections.ts measures at 100,000), in this process;
 * - append_single_p50_ms_1m / p99: one writer's single-event appends (the exact expected revision, a
 *   new stream every 50 appends, as bench/eventstore.ts does) on the store holding the whole log, then
 *   again after a CHECKPOINT (`_after_checkpoint`; the write-back the seed or rebuild left behind made
 *   the tail of the first round), each with the server's checkpoint, backend write-back and full-page
 *   image counters;
 * - the HTTP benchmark (bench/http.ts, pages, and whatever else it measures) as a child process with
 *   HTTP_EVENTS=SCALE_EVENTS and BENCH_RESULT_PREFIX=scale- (it seeds a database of its own): its
 *   figures come here with the suffix `_1m` (`SCALE_HTTP=0` leaves it out).
 * `--only=<parts>`: seed is always done; parts catchup, build, rebuild, append, http. SCALE_WORKER_NODE_OPTIONS
 * (say `--max-old-space-size=200`) is given to the worker alone.
 * Writes bench/results/scale.json (the child's own result stays in bench/results/scale-http.json); a
 * partial or experimental run can keep it with BENCH_RESULT_PREFIX (`cap-` writes cap-scale.json).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@/lib/db/client';
import { createScratchDatabase } from '@/lib/db/scratch';
import { comparePositions, createEventStore, newEventId, type Position } from '@/lib/eventstore';
import { PROCESS_MANAGER_GROUP } from '@/lib/process-managers';
import { PROCESS_MANAGER_EVENT_TYPES } from '@/lib/process-managers/reactions';
import { createPersonalDataVault } from '@/lib/privacy/vault';
import { rebuildProjections } from '@/lib/projections/rebuild';
import { allProjections } from '@/lib/projections/registry';
import { PROJECTIONS_GROUP } from '@/lib/projections/worker';
import { appendOne, generateHistory, type Append } from '@/lib/projections/testing';
import { generateSecrets } from '@/lib/runtime/secrets';
import { benchMachine, isMain, machineInfo, percentile, printTable, resultFile, resultsDir, round, writeResult, type BenchResult, type Figure } from './lib';

const EVENTS = Number(process.env.SCALE_EVENTS ?? 1_000_000);
const LANES = Number(process.env.SCALE_LANES ?? 256);
const APPENDS = Number(process.env.SCALE_APPENDS ?? 2000);
const CATCHUP_TIMEOUT_S = Number(process.env.SCALE_CATCHUP_TIMEOUT_S ?? 3600);
/** The figures' suffix: `_1m` at a million, else the size (`_200k`). */
const SUFFIX = EVENTS % 1_000_000 === 0 ? `_${EVENTS / 1_000_000}m` : `_${Math.round(EVENTS / 1000)}k`;
const root = path.resolve(import.meta.dirname, '..');
const log = (m: string) => console.log(`[bench:scale] ${new Date().toISOString().slice(11, 19)} ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => round(bytes / 1024 ** 2, 1);

const PARTS = ['catchup', 'build', 'rebuild', 'append', 'http'] as const;
type Part = (typeof PARTS)[number];

function partsFrom(argv: readonly string[]): Set<Part> {
  const arg = argv.find((a) => a.startsWith('--only='));
  if (!arg) return new Set(PARTS.filter((p) => p !== 'http' || process.env.SCALE_HTTP !== '0'));
  const names = arg.slice('--only='.length).split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(PARTS as readonly string[]).includes(n));
  if (unknown.length || names.length === 0) throw new Error(`--only: unknown part(s) ${unknown.join(', ') || '(none)'}; known: ${PARTS.join(', ')}`);
  return new Set(names as Part[]);
}

/** VmRSS and VmHWM of a process, in MiB (undefined once it is gone). */
export function residentMemory(pid: number): { rssMb: number; peakMb: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: round(kb('VmRSS') / 1024, 1), peakMb: round(kb('VmHWM') / 1024, 1) };
  } catch {
    return undefined;
  }
}

/** Appends in parallel lanes, each stream always in the same lane; logs progress every 50,000 events. */
async function seed(append: (a: Append) => Promise<unknown>, appends: Append[], total: number): Promise<void> {
  const lanes: Append[][] = Array.from({ length: LANES }, () => []);
  for (const a of appends) {
    let h = 0;
    for (let i = 0; i < a.stream.length; i++) h = (h * 31 + a.stream.charCodeAt(i)) >>> 0;
    lanes[h % LANES]!.push(a);
  }
  const t0 = performance.now();
  let done = 0;
  let nextReport = 50_000;
  await Promise.all(
    lanes.map(async (lane) => {
      for (const a of lane) {
        await append(a);
        done += a.events.length;
        if (done >= nextReport) {
          nextReport += 50_000;
          const s = (performance.now() - t0) / 1000;
          log(`seeded ${done} of ${total} events in ${Math.round(s)} s (${Math.round(done / s)} events/s, load ${os.loadavg()[0]!.toFixed(1)})`);
        }
      }
    }),
  );
}

async function headOfLog(sql: ReturnType<typeof connect>['sql']): Promise<Position | undefined> {
  const [row] = (await sql`select xid::text as xid, position::text as position from es_events order by xid desc, position desc limit 1`) as unknown as Array<{ xid: string; position: string }>;
  return row ? { commit: BigInt(row.xid), prepare: BigInt(row.position) } : undefined;
}

export async function runScaleBench(parts: Set<Part> = partsFrom([]), partial = false): Promise<Figure[]> {
  const loadBefore = os.loadavg()[0]!;
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string) => {
    figures.push({ name, value, unit });
    log(`${name} = ${value} ${unit}`);
  };
  const notes: Record<string, unknown> = {};
  let machine: Record<string, unknown> = machineInfo();
  // The HTTP part seeds a database of its own: alone, it needs no log here.
  if (PARTS.some((p) => p !== 'http' && parts.has(p))) {
    const secrets = generateSecrets();
    const scratch = await createScratchDatabase('yeyak_bench_scale', log);
    const { url } = scratch;
    const database = connect(url, { max: 8 });
    const store = await createEventStore({ databaseUrl: url, hmacKey: secrets.EVENT_HMAC_KEY, maxConnections: 10 });
    const vault = createPersonalDataVault(database.sql, secrets.PERSONAL_DATA_MASTER_KEY);
    try {
      // 0. For the group catch-up: the read models built (empty) and live, and the projections' group
      //    at the start of the log, before the history arrives — a worker that was away while it was written.
      if (parts.has('catchup')) {
        await rebuildProjections({ store, database, projections: allProjections, decryptor: vault });
        await store.groups.create(PROJECTIONS_GROUP, { startFrom: 'start' });
      }

      // 1. Seed.
      let events = 0;
      {
        const t0 = performance.now();
        const history = generateHistory({ events: EVENTS, seed: 1 });
        events = history.reduce((n, a) => n + a.events.length, 0);
        log(`generated ${events} events (${history.length} appends) in ${round((performance.now() - t0) / 1000, 1)} s; appending in ${LANES} lanes…`);
        const t1 = performance.now();
        await seed((a) => appendOne(store, a, vault.encryptEvent), history, events);
        const seconds = (performance.now() - t1) / 1000;
        add('seed_seconds', round(seconds, 1), 's');
        add('seed_events_per_s', Math.round(events / seconds), 'events/s');
        add('seed_appends_per_s', Math.round(history.length / seconds), 'appends/s');
      }
      add('log_events', events, 'events');
      const [size] = (await database.sql`
        select pg_database_size(current_database())::float8 as db, pg_total_relation_size('es_events')::float8 as events`) as unknown as Array<{ db: number; events: number }>;
      add(`database_size_mb${SUFFIX}`, mb(size!.db), 'MiB');
      add(`es_events_size_mb${SUFFIX}`, mb(size!.events), 'MiB');
      add(`es_events_bytes_per_event${SUFFIX}`, Math.round(size!.events / events), 'B');
      const head = await headOfLog(database.sql);

      // The history is the past: no process manager reacts to it (a real deployment's process managers
      // would have reacted when it happened).
      await store.groups.create(PROCESS_MANAGER_GROUP, { filter: { eventTypes: [...PROCESS_MANAGER_EVENT_TYPES] }, startFrom: 'end' });
      const worker = (done: () => Promise<boolean | { failed: string }>) => runWorkerUntil(url, secrets, done, log);
      const groupAtHead = async () => {
        const checkpoint = await store.groups.info(PROJECTIONS_GROUP).then((g) => g.checkpoint, () => undefined);
        return !head || (checkpoint !== undefined && comparePositions(checkpoint, head) >= 0);
      };
      const addWorker = (prefix: string, run: WorkerRun) => {
        add(`${prefix}_seconds`, run.seconds, 's');
        add(`${prefix}_events_per_s`, Math.round(events / run.seconds), 'events/s');
        add(`${prefix}_rss_mb`, run.maxRssMb, 'MiB');
        add(`${prefix}_rss_peak_mb`, run.peakMb, 'MiB (VmHWM)');
        add(`${prefix}_idle_rss_mb`, run.idleRssMb, 'MiB');
        add(`${prefix}_rss_samples`, run.samples, 'samples');
        notes[prefix] = run.note;
      };

      // 2. The worker process catching up the whole log through its group (the live path: batches of
      //    up to 500 events), its read models live from the start.
      if (parts.has('catchup')) addWorker('worker_catchup', await worker(groupAtHead));

      // 2b. The worker process building every projection from the log (its automatic build of a new or
      //    changed projection, or an admin's rebuild request: the same code), then its group at the head.
      if (parts.has('build')) {
        const since = new Date(Date.now() - 1000);
        await database.sql`update projection_registry set rebuild_requested_at = now()`;
        const built = async (): Promise<boolean | { failed: string }> => {
          const [failed] = (await database.sql`
            select name, rebuild_error from projection_registry
            where rebuild_error is not null and rebuild_finished_at >= ${since.toISOString()}::timestamptz limit 1`) as unknown as Array<{ name: string; rebuild_error: string }>;
          if (failed) return { failed: `${failed.name}: ${failed.rebuild_error}` };
          const [{ pending }] = (await database.sql`
            select count(*)::int as pending from projection_registry
            where status <> 'live' or rebuild_error is not null or rebuild_finished_at is null or rebuild_finished_at < ${since.toISOString()}::timestamptz`) as unknown as [{ pending: number }];
          const [{ rows }] = (await database.sql`select count(*)::int as rows from projection_registry`) as unknown as [{ rows: number }];
          const atHead = await groupAtHead();
          if (process.env.SCALE_DEBUG) log(`build: ${rows} rows, ${pending} pending, group at head ${atHead}`);
          return rows === allProjections.length && pending === 0 && atHead;
        };
        const build = await worker(built);
        addWorker('worker_build', build);
        if (build.failed) {
          notes.worker_build_failed = `the build failed after ${build.seconds} s: ${build.failed}`;
          add('worker_build_failed', 1, 'build');
        }
      }

      // 3. Rebuild of every projection over the whole log.
      if (parts.has('rebuild')) {
        log('rebuilding every projection over the whole log…');
        const t0 = performance.now();
        try {
          const rebuild = await rebuildProjections({ store, database, projections: allProjections, decryptor: vault });
          add(`rebuild_events_per_s${SUFFIX}`, Math.round(rebuild.eventsPerSecond), 'events/s');
          add(`rebuild_seconds${SUFFIX}`, round(rebuild.seconds, 1), 's');
        } catch (error) {
          // Recorded, not fatal: the figures after it (and the HTTP run) are still worth having.
          notes.rebuild_failed = `after ${round((performance.now() - t0) / 1000, 1)} s: ${String(error)}`;
          add(`rebuild_failed${SUFFIX}`, 1, 'rebuild');
          log(`rebuild failed: ${String(error)}`);
        }
        add(`bench_process_rss_mb_after_rebuild${SUFFIX}`, residentMemory(process.pid)!.rssMb, 'MiB');
      }

      // 4. One writer's appends on the store holding the whole log.
      if (parts.has('append')) {
        // Where a tail comes from: the server's checkpoint and WAL counters around the run (a checkpoint
        // owed by the seeding or the rebuild before writes the dirty pages back meanwhile, and each page
        // first touched after it goes into the WAL whole).
        type Counters = { checkpoints: number; buffers_checkpoint: number; buffers_backend: number; wal_fpi: number; wal_records: number; wal_sync: number };
        const counters = async (): Promise<Counters> => {
          const [row] = (await database.sql`
            select (b.checkpoints_timed + b.checkpoints_req)::float8 as checkpoints, b.buffers_checkpoint::float8, b.buffers_backend::float8,
                   w.wal_fpi::float8, w.wal_records::float8, w.wal_sync::float8
            from pg_stat_bgwriter b, pg_stat_wal w`) as unknown as Counters[];
          return row!;
        };
        const appendRun = async (suffix: string) => {
          const c0 = await counters();
          const latencies: number[] = [];
          const writer = randomUUID();
          let revision: number | 'no_stream' = 'no_stream';
          for (let i = 0; i < APPENDS; i++) {
            if (i % 50 === 0) revision = 'no_stream';
            const stream = `bench-scale-${writer}-${Math.floor(i / 50)}`;
            const t0 = performance.now();
            const r = await store.append(stream, [{ eventId: newEventId(), type: 'BenchAppended', schemaVersion: 1, data: { i, note: `scale ${i}` }, metadata: { actor: { id: writer, role: 'system' }, occurredAt: new Date().toISOString(), commandId: randomUUID(), correlationId: randomUUID(), causationId: null, clinicId: null, ip: null, userAgent: 'bench' } }], { expectedRevision: revision });
            latencies.push(performance.now() - t0);
            revision = r.nextExpectedRevision;
          }
          const c1 = await counters();
          add(`append_single_p50_ms${SUFFIX}${suffix}`, round(percentile(latencies, 50), 2), 'ms');
          add(`append_single_p99_ms${SUFFIX}${suffix}`, round(percentile(latencies, 99), 2), 'ms');
          add(`append_single_samples${SUFFIX}${suffix}`, latencies.length, 'appends');
          add(`append_single_checkpoint_buffers_written${SUFFIX}${suffix}`, c1.buffers_checkpoint - c0.buffers_checkpoint, 'buffers (server-wide, during the appends)');
          add(`append_single_backend_buffers_written${SUFFIX}${suffix}`, c1.buffers_backend - c0.buffers_backend, 'buffers (server-wide)');
          add(`append_single_checkpoints${SUFFIX}${suffix}`, c1.checkpoints - c0.checkpoints, 'checkpoints (server-wide)');
          add(`append_single_wal_fpi_per_append${SUFFIX}${suffix}`, round((c1.wal_fpi - c0.wal_fpi) / APPENDS, 2), 'full-page images (server-wide)');
        };
        await appendRun('');
        // Once more after a CHECKPOINT (SCALE_APPEND_AFTER_CHECKPOINT=0: not), which separates what the
        // store costs at this size from the write-back the steps before left the server to do.
        if (process.env.SCALE_APPEND_AFTER_CHECKPOINT !== '0') {
          await database.sql`checkpoint`;
          await appendRun('_after_checkpoint');
        }
      }
      machine = await benchMachine(scratch, { events, lanes: LANES, workerNodeOptions: process.env.SCALE_WORKER_NODE_OPTIONS ?? null });
    } finally {
      await store.close();
      await database.close();
      await scratch.drop();
      log('scratch database dropped');
    }
  }

  // 5. The HTTP benchmark at this size, as a child process (a database of its own; it drops it).
  if (parts.has('http')) {
    const http = await runChild('bench/http.ts', { HTTP_EVENTS: String(EVENTS), BENCH_RESULT_PREFIX: 'scale-' });
    notes.http = http.code === 0 ? `bench/http.ts with HTTP_EVENTS=${EVENTS}: ${http.seconds} s` : `bench/http.ts failed (exit ${http.code}) after ${http.seconds} s`;
    add('http_bench_seconds', http.seconds, 's');
    const file = path.join(resultsDir, 'scale-http.json');
    if (http.code === 0 && fs.existsSync(file)) {
      const result = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResult;
      for (const f of result.figures) add(`${f.name}${SUFFIX}`, f.value, f.unit);
      notes.http_machine = result.machine;
    }
  }

  const run = { ...machine, loadAverage1mBefore: round(loadBefore, 2), loadAverage1mAfter: round(os.loadavg()[0]!, 2), notes };
  printTable(`Scale (${EVENTS} events)`, figures);
  // A partial run (--only) replaces its own figures in the existing result and keeps the others,
  // with its machine under machine.partialRuns (as bench/http.ts does).
  const previous = partial && fs.existsSync(resultFile('scale')) ? (JSON.parse(fs.readFileSync(resultFile('scale'), 'utf8')) as BenchResult) : undefined;
  const names = new Set(figures.map((f) => f.name));
  const result: BenchResult = previous
    ? { machine: { ...previous.machine, partialRuns: [...(((previous.machine as { partialRuns?: unknown[] }).partialRuns ?? []) as unknown[]), { ...run, parts: [...parts], figures: [...names] }].slice(-5) }, figures: [...previous.figures.filter((f) => !names.has(f.name)), ...figures] }
    : { machine: run, figures };
  const file = writeResult('scale', result);
  log(`wrote ${file}`);
  return figures;
}

interface WorkerRun {
  seconds: number;
  maxRssMb: number;
  peakMb: number;
  idleRssMb: number;
  samples: number;
  note: string;
  /** Set when `done()` reported a failure (the worker stayed up but did not get there). */
  failed?: string;
}

/**
 * Starts lib/worker/main.ts on the seeded database (node with tsx's loader, so the pid sampled is the
 * worker itself, not a launcher), samples its memory every 250 ms until `done()` says it has caught
 * up (asked once a second), then 5 s idle, and stops it.
 */
async function runWorkerUntil(url: string, secrets: ReturnType<typeof generateSecrets>, done: () => Promise<boolean | { failed: string }>, say: (m: string) => void): Promise<WorkerRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/worker/main.ts'], {
    cwd: root,
    // SCALE_WORKER_NODE_OPTIONS (say --max-old-space-size=200) for the worker alone.
    env: { ...process.env, ...secrets, DATABASE_URL: url, SEAL_INTERVAL_MINUTES: '0', LOG_LEVEL: 'info', WORKER_ID: 'bench-scale', NODE_OPTIONS: [process.env.NODE_OPTIONS, process.env.SCALE_WORKER_NODE_OPTIONS].filter(Boolean).join(' ') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) tail.push(line.slice(0, 400));
    tail.splice(0, Math.max(0, tail.length - 40));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const t0 = performance.now();
  let maxRssMb = 0;
  let peakMb = 0;
  let samples = 0;
  const sampler = setInterval(() => {
    const m = residentMemory(child.pid!);
    if (!m) return;
    samples++;
    maxRssMb = Math.max(maxRssMb, m.rssMb);
    peakMb = Math.max(peakMb, m.peakMb);
  }, 250);
  try {
    say(`worker ${child.pid} started; waiting until it has caught up…`);
    let failed: string | undefined;
    for (let i = 0; ; i++) {
      if (exited !== undefined) throw new Error(`the worker exited (${exited}) while catching up:\n${tail.join('\n')}`);
      if ((performance.now() - t0) / 1000 > CATCHUP_TIMEOUT_S) throw new Error(`the worker had not caught up after ${CATCHUP_TIMEOUT_S} s:\n${tail.join('\n')}`);
      const state = await done().catch((error: unknown) => (process.env.SCALE_DEBUG ? say(`done? ${String(error)}`) : undefined, false));
      if (typeof state === 'object') {
        failed = state.failed;
        say(`worker: failed: ${failed}`);
        break;
      }
      if (state) break;
      if (i % 30 === 0) say(`worker: RSS ${residentMemory(child.pid!)?.rssMb ?? '?'} MiB after ${Math.round((performance.now() - t0) / 1000)} s`);
      await sleep(1000);
    }
    const seconds = round((performance.now() - t0) / 1000, 1);
    say(`worker ${failed ? 'stopped trying' : 'caught up'} in ${seconds} s (largest RSS sample ${maxRssMb} MiB); 5 s idle…`);
    await sleep(5000);
    const idle = residentMemory(child.pid!);
    return { seconds, maxRssMb, peakMb: Math.max(peakMb, idle?.peakMb ?? 0), idleRssMb: idle?.rssMb ?? NaN, samples, failed, note: tail.filter((l) => /rebuil|caught|error|warn/i.test(l)).slice(-6).join('\n') };
  } finally {
    clearInterval(sampler);
    if (exited === undefined) {
      child.kill('SIGTERM');
      for (let i = 0; i < 100 && exited === undefined; i++) await sleep(250);
      if (exited === undefined) child.kill('SIGKILL');
    }
  }
}

/** Runs another benchmark as `node --import tsx <script>` with extra environment, its output passed through. */
async function runChild(script: string, env: Record<string, string>): Promise<{ code: number | null; seconds: number }> {
  const t0 = performance.now();
  log(`running ${script} with ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}…`);
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, seconds: round((performance.now() - t0) / 1000, 1) };
}

if (isMain(import.meta.url)) {
  runScaleBench(partsFrom(process.argv.slice(2)), process.argv.some((a) => a.startsWith('--only='))).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
