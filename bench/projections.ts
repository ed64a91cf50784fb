/**
 * Read-side benchmark (not a test): part of `npm run bench`, alone with `npx tsx bench/projections.ts`.
 *
 * On a fresh, migrated database of its own (DATABASE_URL's server, else 127.0.0.1:5432, else an embedded
 * PostgreSQL under .data/):
 * - rebuild_events_per_s: `rebuildProjections` of every projection over a log of REBUILD_EVENTS
 *   (default 100,000) realistic events (lib/projections/testing.ts generateHistory: clinics, patients with
 *   encrypted personal data, bookings, payments, cancellations, visits), shadow tables and switch included;
 * - projection_lag_p50_ms / p99: the live worker (in this process, on the persistent group) while
 *   appends arrive at a steady LAG_RATE (default 200) commands/s for LAG_SECONDS (default 15): from the
 *   moment an append returns to the moment the projections' checkpoint passes its position (the
 *   worker's NOTIFY, received on a LISTEN connection).
 * Prints a table and writes bench/results/projections.json.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import postgres from 'postgres';
import { connect } from '@/lib/db/client';
import { createScratchDatabase } from '@/lib/db/scratch';
import { comparePositions, createEventStore, type Position } from '@/lib/eventstore';
import { createPersonalDataVault } from '@/lib/privacy/vault';
import { CHECKPOINT_CHANNEL } from '@/lib/projections/engine';
import { rebuildProjections } from '@/lib/projections/rebuild';
import { allProjections } from '@/lib/projections/registry';
import { appendOne, generateHistory, type Append } from '@/lib/projections/testing';
import { ProjectionWorker } from '@/lib/projections/worker';
import { benchMachine, isMain, percentile, printTable, round, writeResult, type Figure } from './lib';

const REBUILD_EVENTS = Number(process.env.REBUILD_EVENTS ?? 100_000);
const LAG_RATE = Number(process.env.LAG_RATE ?? 200);
const LAG_SECONDS = Number(process.env.LAG_SECONDS ?? 15);
const APPEND_CONCURRENCY = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Appends in parallel lanes, each stream always in the same lane (so each stream stays in order). */
async function loadLog(append: (a: Append) => Promise<unknown>, appends: Append[]): Promise<void> {
  const lanes: Append[][] = Array.from({ length: APPEND_CONCURRENCY }, () => []);
  for (const a of appends) {
    let h = 0;
    for (let i = 0; i < a.stream.length; i++) h = (h * 31 + a.stream.charCodeAt(i)) >>> 0;
    lanes[h % APPEND_CONCURRENCY]!.push(a);
  }
  let done = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      for (const a of lane) {
        await append(a);
        if (++done % 10_000 === 0) console.log(`[bench] appended ${done} of ${appends.length} appends`);
      }
    }),
  );
}

export async function runProjectionsBench(): Promise<Figure[]> {
  const scratch = await createScratchDatabase('yeyak_bench_proj', (m) => console.log(`[bench] ${m}`));
  const { url } = scratch;
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string) => figures.push({ name, value, unit });
  const database = connect(url, { max: 8 });
  const store = await createEventStore({ databaseUrl: url, hmacKey: randomBytes(32).toString('base64'), maxConnections: 10 });
  const vault = createPersonalDataVault(database.sql, randomBytes(32).toString('base64'));
  const listener = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // 1. Rebuild throughput.
    const history = generateHistory({ events: REBUILD_EVENTS, seed: 1 });
    const events = history.reduce((n, a) => n + a.events.length, 0);
    console.log(`[bench] appending ${events} events (${history.length} appends)…`);
    await loadLog((a) => appendOne(store, a, vault.encryptEvent), history);
    console.log('[bench] rebuilding every projection…');
    const rebuild = await rebuildProjections({ store, database, projections: allProjections, decryptor: vault });
    add('rebuild_events_per_s', Math.round(rebuild.eventsPerSecond), 'events/s');
    add('rebuild_events', rebuild.events, 'events');
    add('rebuild_seconds', round(rebuild.seconds, 2), 's');

    // 2. Lag under a steady command rate, with the worker running.
    // The group starts at the end of the log: the rebuild above already applied it.
    await store.groups.create('projections', { startFrom: 'end', maxInFlight: 500, maxRetryCount: 5, messageTimeoutMs: 60_000, checkpointAfterMs: 200 });
    const worker = new ProjectionWorker({ store, database, projections: allProjections, log: pino({ level: 'warn' }), decryptor: vault, rebuilds: false });
    await worker.start();
    const pending: Array<{ position: Position; at: number }> = [];
    const lags: number[] = [];
    await listener.listen(CHECKPOINT_CHANNEL, (payload) => {
      const [commit, prepare] = payload.split(':');
      const cp = { commit: BigInt(commit!), prepare: BigInt(prepare!) };
      const now = performance.now();
      for (let i = pending.length - 1; i >= 0; i--) {
        if (comparePositions(pending[i]!.position, cp) <= 0) {
          lags.push(now - pending[i]!.at);
          pending.splice(i, 1);
        }
      }
    });
    // Ids of their own (the generator's counters would collide with the first log's); the clinics are registered again (an update).
    const live = generateHistory({ events: LAG_RATE * LAG_SECONDS * 2, seed: 2, idPrefix: 'live' });
    const total = Math.min(live.length, LAG_RATE * LAG_SECONDS);
    console.log(`[bench] ${LAG_RATE} commands/s for ${LAG_SECONDS} s with the worker live…`);
    const start = performance.now();
    const inflight: Promise<void>[] = [];
    // Appends of one stream wait for the previous one (as a stream's commands do), others overlap.
    const streamTail = new Map<string, Promise<void>>();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / LAG_RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const a = live[i]!;
      const next = (streamTail.get(a.stream) ?? Promise.resolve()).then(() =>
        appendOne(store, a, vault.encryptEvent).then((r) => {
          pending.push({ position: r.position, at: performance.now() });
        }),
      );
      streamTail.set(a.stream, next);
      inflight.push(next);
      if (inflight.length > 64) await inflight.shift();
    }
    await Promise.all(inflight);
    const achieved = total / ((performance.now() - start) / 1000);
    for (let i = 0; i < 100 && pending.length > 0; i++) await sleep(100);
    await worker.stop();
    console.log(`[bench] worker: ${JSON.stringify(worker.stats)}`);
    add('projection_lag_p50_ms', round(percentile(lags, 50), 1), 'ms');
    add('projection_lag_p99_ms', round(percentile(lags, 99), 1), 'ms');
    add('projection_lag_max_ms', round(Math.max(...lags), 1), 'ms');
    add('projection_lag_commands_per_s', round(achieved, 1), 'commands/s');
    add('projection_lag_unseen', pending.length, 'appends');

    const machine = await benchMachine(scratch, {
      rebuildEvents: REBUILD_EVENTS,
      lagRate: LAG_RATE,
      lagSeconds: LAG_SECONDS,
    });
    printTable('Projections (read side)', figures);
    const file = writeResult('projections', { machine, figures });
    console.log(`\n[bench] wrote ${file}`);
    return figures;
  } finally {
    await listener.end({ timeout: 1 });
    await store.close();
    await database.close();
    await scratch.drop();
  }
}

if (isMain(import.meta.url)) {
  runProjectionsBench().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
