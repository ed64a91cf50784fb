/**
 * Event store benchmark (not a test): `npm run bench:eventstore`.
 *
 * On a fresh, migrated database of its own (DATABASE_URL's server, else 127.0.0.1:5432, else an embedded
 * PostgreSQL under .data/), in one run:
 * - append throughput with 1, 8 and 16 concurrent writers, single-event and 100-event appends, beside
 *   raw INSERTs of the same rows (same JSON, same sizes) into a plain table on the same database;
 *   with 16 single-event writers also the single-append es_append statement alone, one per call (same
 *   rows, no store logic, no batching), to show what one transaction per append costs the database;
 * - append latency p50/p99; readAll throughput; catch-up subscription throughput;
 * - live delivery latency from the append call to a subscriber on another store instance (which
 *   learns of new events through LISTEN/NOTIFY, as a worker process would), under 4 concurrent writers,
 *   split into the append and the time after its commit, with the event loop's delay, the pages the
 *   subscription found held back at the read horizon, and how often another database's transaction
 *   held the (server-wide) horizon;
 * - with group commit, the appends per transaction of each scenario;
 * - for single-event appends, the CPU time per event of each side (this database's PostgreSQL backends
 *   from /proc, and this process), a figure the machine's other load changes less than rates.
 * Prints a table and writes bench/results/eventstore.json. Env: BENCH_SECONDS (per side and scenario, default 4).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import postgres from 'postgres';
import { createEventStore, newEventId, type EventStore, type NewEvent } from '@/lib/eventstore';
import { createScratchDatabase } from '@/lib/db/scratch';
import { PostgresEventStore } from '@/lib/eventstore/postgres/store';
import { benchMachine, isMain, percentile, printTable, round, runFor, writeResult, type Figure } from './lib';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ONLY_W16 = process.env.BENCH_ES_ONLY === 'w16';

function sampleEvent(i: number): NewEvent {
  // An event of typical size (≈ 600 B stored with its metadata and hash).
  return {
    eventId: newEventId(),
    type: 'ReservationRequested',
    schemaVersion: 1,
    data: {
      reservationId: randomUUID(),
      clinicId: 'clinic-gangnam-01',
      treatmentId: 'treatment-botox-forehead',
      patientId: randomUUID(),
      slot: '2025-03-14T10:30:00+09:00',
      priceKrw: 290000,
      depositKrw: 50000,
      bookingMode: 'pay-and-book',
      note: `bench ${i}`,
    },
    metadata: {
      actor: { id: randomUUID(), role: 'patient' },
      occurredAt: new Date().toISOString(),
      commandId: randomUUID(),
      correlationId: randomUUID(),
      causationId: null,
      clinicId: 'clinic-gangnam-01',
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (bench)',
    },
  };
}

export async function runEventStoreBench(): Promise<Figure[]> {
  const scratch = await createScratchDatabase('yeyak_bench_es', (m) => console.log(`[bench] ${m}`));
  const { url } = scratch;
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string) => {
    figures.push({ name, value, unit });
    console.log(`  ${name} = ${value} ${unit}`);
  };
  const stores: EventStore[] = [];
  const loadAverageAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
  const raw = postgres(url, { max: 16, onnotice: () => {} });
  try {
    await raw`create table bench_raw (
      id bigserial primary key, stream_id text not null, revision bigint not null, event_id uuid not null,
      type text not null, schema_version integer not null, data jsonb not null, metadata jsonb not null,
      recorded_at timestamptz not null default now())`;
    const hmacKey = process.env.EVENT_HMAC_KEY || randomBytes(32).toString('base64');
    let store = await createEventStore({ databaseUrl: url, hmacKey, maxConnections: 16, applicationName: 'bench' });
    stores.push(store);

    // The raw rows are exactly what the store writes (including the hash in metadata).
    const asRow = (e: NewEvent, streamId: string, revision: number) => ({
      stream_id: streamId,
      revision,
      event_id: newEventId(),
      type: e.type,
      schema_version: e.schemaVersion,
      data: e.data,
      metadata: { ...e.metadata, integrity: { alg: 'HMAC-SHA-256/v1', previousHash: randomBytes(32).toString('base64url'), hash: randomBytes(32).toString('base64url') } },
    });
    const rawInsert = async (rows: ReturnType<typeof asRow>[]) => {
      await raw`insert into bench_raw ${raw(rows as never, 'stream_id', 'revision', 'event_id', 'type', 'schema_version', 'data', 'metadata')}`;
    };

    /** CPU time (ms) of each PostgreSQL backend connected to the bench database, from /proc (Linux). */
    const ticksPerMs = 100 / 1000; // USER_HZ
    const backendCpu = async (): Promise<Map<number, number>> => {
      const pids = await raw<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database()`;
      const out = new Map<number, number>();
      for (const { pid } of pids) {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          out.set(pid, (Number(fields[11]) + Number(fields[12])) / ticksPerMs);
        } catch {
          // Gone, or another machine's server: not counted.
        }
      }
      return out;
    };

    /** The machine's CPU time (ms, all cores) busy and in total so far, from /proc/stat (Linux). */
    const machineCpu = (): { busyMs: number; totalMs: number } => {
      try {
        const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
        const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
        const idle = line[3]! + line[4]!;
        return { busyMs: (total - idle) / ticksPerMs, totalMs: total / ticksPerMs };
      } catch {
        return { busyMs: 0, totalMs: 0 };
      }
    };
    /** CPU time (ms) of the server's processes that are not backends of this database (WAL writer, checkpointer, other databases' backends). */
    const serverOtherCpu = (exclude: Map<number, number>): Map<number, number> => {
      const out = new Map<number, number>();
      let entries: string[] = [];
      try {
        entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
      } catch {
        return out;
      }
      for (const d of entries) {
        const pid = Number(d);
        if (exclude.has(pid)) continue;
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          if (!stat.includes('(postgres)')) continue;
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          out.set(pid, (Number(fields[11]) + Number(fields[12])) / ticksPerMs);
        } catch {
          // Gone meanwhile.
        }
      }
      return out;
    };

    let run = 0;
    const appendLatencies = new Map<number, number[]>();
    const scenario = async (batch: number, writers: number) => {
      run++;
      // Each writer appends to its own streams with the exact expected revision (the usual command
      // path: load, decide, append at the loaded revision); new stream every 50 appends.
      const latencies: number[] = [];
      const revisions = new Array<number>(writers).fill(-1);
      const streamNo = new Array<number>(writers).fill(0);
      const appendOnce = (ms: number) =>
        runFor(ms, writers, async (w) => {
          const i = appends[w]!++;
          if (i % 50 === 0) {
            streamNo[w] = i;
            revisions[w] = -1;
          }
          const streamId = `bench${run}-w${w}-s${streamNo[w]}`;
          const events = Array.from({ length: batch }, (_, k) => sampleEvent(k));
          const t0 = performance.now();
          const r = await store.append(streamId, events, { expectedRevision: revisions[w]! < 0 ? 'no_stream' : revisions[w]! });
          latencies.push(performance.now() - t0);
          revisions[w] = r.nextExpectedRevision;
        });
      const rawOnce = (ms: number) =>
        runFor(ms, writers, async (w) => {
          const i = inserts[w]!++;
          const rows = Array.from({ length: batch }, (_, k) => asRow(sampleEvent(k), `raw${run}-w${w}`, i * batch + k));
          await rawInsert(rows);
        });
      // Diagnostic (16 single-event writers only): the es_append statement alone, called directly
      // with the same rows (hash included) and no store logic (no validation, chaining, head cache,
      // NOTIFY), to separate the database's share of the gap from the Node process's.
      const statementHeads = new Array<number>(writers).fill(-1);
      const statements = new Array<number>(writers).fill(0);
      const statementOnce = (ms: number) =>
        runFor(ms, writers, async (w) => {
          const i = statements[w]!++;
          if (i % 50 === 0) statementHeads[w] = -1;
          const row = asRow(sampleEvent(0), `stmt${run}-w${w}-s${i - (i % 50)}`, 0);
          const json = JSON.stringify([{ id: row.event_id, type: row.type, schemaVersion: row.schema_version, data: row.data, metadata: row.metadata }]);
          const [r] = await raw<{ last_revision: string }[]>`
            select last_revision::text from es_append(${row.stream_id}, ${statementHeads[w]!}, ${row.metadata.integrity.hash}, ${json}::text::jsonb)`;
          statementHeads[w] = Number(r!.last_revision);
        });
      // Other work on the machine comes and goes: alternate 1 s slices of each side, in rotating
      // order, so that all sides see the same conditions, and add them up.
      const current = (store as unknown as { batchStats?: { batches: number; appends: number; sizes: number[] } }).batchStats;
      const statsBefore = { batches: current?.batches ?? 0, appends: current?.appends ?? 0, sizes: [...(current?.sizes ?? [])] };
      const appends = new Array<number>(writers).fill(0);
      const inserts = new Array<number>(writers).fill(0);
      const append = { ops: 0, elapsedMs: 0 };
      const rawRun = { ops: 0, elapsedMs: 0 };
      const statementRun = { ops: 0, elapsedMs: 0 };
      const sides: Array<[(ms: number) => Promise<{ ops: number; elapsedMs: number }>, { ops: number; elapsedMs: number }]> = [
        [appendOnce, append],
        [rawOnce, rawRun],
      ];
      if (batch === 1 && writers === 16 && !process.env.BENCH_ES_NO_STATEMENT) sides.push([statementOnce, statementRun]);
      // CPU spent per side (this database's PostgreSQL backends + this process), which the load of
      // other work on the machine does not change the way it changes rates.
      // Also the whole machine's (is it CPU-bound?) and the server's other processes' (WAL writer etc.).
      const cpu = new Map<object, { pgMs: number; nodeMs: number; serverOtherMs: number; machineBusyMs: number; machineTotalMs: number }>(
        sides.map(([, into]) => [into, { pgMs: 0, nodeMs: 0, serverOtherMs: 0, machineBusyMs: 0, machineTotalMs: 0 }]),
      );
      for (let slice = 0; slice < SECONDS; slice++) {
        const order = slice % 2 === 0 ? sides : [...sides].reverse();
        for (const [f, into] of order) {
          const pg0 = await backendCpu();
          const other0 = serverOtherCpu(pg0);
          const machine0 = machineCpu();
          const node0 = process.cpuUsage();
          const r = await f(1000);
          const node1 = process.cpuUsage(node0);
          const machine1 = machineCpu();
          const pg1 = await backendCpu();
          const other1 = serverOtherCpu(pg1);
          let pgMs = 0;
          for (const [pid, ms] of pg1) pgMs += ms - (pg0.get(pid) ?? 0);
          let serverOtherMs = 0;
          for (const [pid, ms] of other1) if (other0.has(pid)) serverOtherMs += ms - other0.get(pid)!;
          const c = cpu.get(into)!;
          c.pgMs += pgMs;
          c.nodeMs += (node1.user + node1.system) / 1000;
          c.serverOtherMs += serverOtherMs;
          c.machineBusyMs += machine1.busyMs - machine0.busyMs;
          c.machineTotalMs += machine1.totalMs - machine0.totalMs;
          into.ops += r.ops;
          into.elapsedMs += r.elapsedMs;
        }
      }
      const appendRate = (append.ops * batch) / (append.elapsedMs / 1000);
      const rawRate = (rawRun.ops * batch) / (rawRun.elapsedMs / 1000);
      const kind = batch === 1 ? 'single' : `batch${batch}`;
      add(`append_${kind}_w${writers}_events_per_s`, Math.round(appendRate), 'events/s');
      add(`raw_insert_${kind}_w${writers}_rows_per_s`, Math.round(rawRate), 'rows/s');
      add(`append_${kind}_w${writers}_ratio_to_raw`, round(appendRate / rawRate, 2), 'ratio');
      if (batch === 1) {
        const perEvent = (into: { ops: number }, which: 'pgMs' | 'nodeMs' | 'both') => {
          const c = cpu.get(into)!;
          return ((which === 'both' ? c.pgMs + c.nodeMs : c[which]) * 1000) / Math.max(1, into.ops);
        };
        add(`append_${kind}_w${writers}_cpu_us_per_event`, Math.round(perEvent(append, 'both')), 'µs');
        add(`append_${kind}_w${writers}_cpu_us_per_event_postgres`, Math.round(perEvent(append, 'pgMs')), 'µs');
        add(`raw_insert_${kind}_w${writers}_cpu_us_per_row`, Math.round(perEvent(rawRun, 'both')), 'µs');
        add(`raw_insert_${kind}_w${writers}_cpu_us_per_row_postgres`, Math.round(perEvent(rawRun, 'pgMs')), 'µs');
        add(`append_${kind}_w${writers}_cpu_ratio_to_raw`, round(perEvent(rawRun, 'both') / Math.max(1e-9, perEvent(append, 'both')), 2), 'ratio');
        // Where the machine's two cores went during each side: this process, this database's
        // backends, the server's other processes, and everything else (other work on the machine).
        for (const [label, into] of [['append', append], ['raw_insert', rawRun], ['es_append_statement_only', statementRun]] as const) {
          const c = cpu.get(into);
          if (!c || into.ops === 0) continue;
          const cores = (ms: number) => round(ms / into.elapsedMs, 2);
          add(`${label}_${kind}_w${writers}_machine_busy_pct`, round((100 * c.machineBusyMs) / Math.max(1, c.machineTotalMs), 1), '%');
          add(`${label}_${kind}_w${writers}_cores_bench_process`, cores(c.nodeMs), 'cores');
          add(`${label}_${kind}_w${writers}_cores_postgres_backends`, cores(c.pgMs), 'cores');
          add(`${label}_${kind}_w${writers}_cores_postgres_other`, cores(c.serverOtherMs), 'cores');
          add(`${label}_${kind}_w${writers}_cores_rest_of_machine`, cores(Math.max(0, c.machineBusyMs - c.nodeMs - c.pgMs - c.serverOtherMs)), 'cores');
        }
      }
      if (statementRun.ops > 0) {
        const statementRate = statementRun.ops / (statementRun.elapsedMs / 1000);
        add(`es_append_statement_only_${kind}_w${writers}_per_s`, Math.round(statementRate), 'events/s');
        add(`es_append_statement_only_${kind}_w${writers}_ratio_to_raw`, round(statementRate / rawRate, 2), 'ratio');
      }
      if (batch === 1) appendLatencies.set(writers, latencies);
      // Group commit: how many appends shared a transaction on average (this scenario's appends only).
      const stats = (store as unknown as { batchStats?: { batches: number; appends: number; sizes: number[] } }).batchStats;
      if (stats) {
        add(`append_${kind}_w${writers}_appends_per_transaction`, round((stats.appends - statsBefore.appends) / Math.max(1, stats.batches - statsBefore.batches), 1), 'appends');
        // The distribution: transactions by the appends they held (p50 and max, weighted by appends).
        const sizes = stats.sizes.map((n, k) => (n ?? 0) - (statsBefore.sizes[k] ?? 0));
        const byAppend: number[] = [];
        sizes.forEach((n, k) => {
          for (let j = 0; j < n * k; j++) byAppend.push(k);
        });
        if (byAppend.length > 0) {
          add(`append_${kind}_w${writers}_transaction_size_p50_per_append`, percentile(byAppend, 50), 'appends');
          add(`append_${kind}_w${writers}_transaction_size_max`, Math.max(...byAppend), 'appends');
        }
      }
    };

    console.log(`[bench] append vs raw INSERT, ${SECONDS} s per scenario`);
    if (ONLY_W16) {
      // A probe (BENCH_ES_ONLY=w16): the 16-writer single-event scenario alone, no result file.
      // BENCH_ES_VARIANTS=unbalanced,balanced,…: the scenario once per store variant, in one run.
      const variants = (process.env.BENCH_ES_VARIANTS ?? 'balanced').split(',');
      for (const variant of variants) {
        if (variants.length > 1) {
          const options = { databaseUrl: url, hmacKey, maxConnections: 16, applicationName: `bench-${variant}` };
          store = new PostgresEventStore({ ...options, balancedBatches: variant !== 'unbalanced', maxBatchesInFlight: Number(/inflight(\d+)/.exec(variant)?.[1] ?? 2) });
          stores.push(store);
        }
        console.log(`[bench] variant ${variant}`);
        await scenario(1, 16);
      }
      printTable('Event store (PostgreSQL backend), 16 single-event writers only', figures);
      return figures;
    }
    for (const writers of [1, 8, 16]) await scenario(1, writers);
    for (const writers of [1, 8, 16]) await scenario(100, writers);
    for (const writers of [1, 16]) {
      const l = appendLatencies.get(writers)!;
      add(`append_single_w${writers}_p50_ms`, round(percentile(l, 50), 2), 'ms');
      add(`append_single_w${writers}_p99_ms`, round(percentile(l, 99), 2), 'ms');
    }
    // The headline latency: one writer, no queueing behind other writers.
    add('append_single_p50_ms', round(percentile(appendLatencies.get(1)!, 50), 2), 'ms');
    add('append_single_p99_ms', round(percentile(appendLatencies.get(1)!, 99), 2), 'ms');

    // readAll: the whole log forwards in pages of 1000.
    const [countRow] = await raw<{ count: string }[]>`select count(*)::text as count from es_events`;
    const total = Number(countRow!.count);
    let read = 0;
    const r0 = performance.now();
    let page = await store.readAll({ maxCount: 1000 });
    while (page.length > 0) {
      read += page.length;
      const last = page[page.length - 1]!.position;
      page = (await store.readAll({ fromPosition: last, maxCount: 1001 })).slice(1);
    }
    add('readall_events_per_s', Math.round(read / ((performance.now() - r0) / 1000)), 'events/s');
    add('log_size_events', total, 'events');

    // Catch-up subscription from the start until it has delivered the whole log.
    let delivered = 0;
    const c0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const sub = store.subscribeToAll(() => {
        delivered++;
      }, { onCaughtUp: () => void sub.stop().then(resolve, reject) });
    });
    add('catchup_events_per_s', Math.round(delivered / ((performance.now() - c0) / 1000)), 'events/s');

    // Live delivery: subscriber on another store instance (woken by NOTIFY), 4 writers appending.
    const subscriberStore = await createEventStore({ databaseUrl: url, hmacKey, maxConnections: 2, applicationName: 'bench-subscriber' });
    stores.push(subscriberStore);
    const sent = new Map<string, number>();
    const committed = new Map<string, number>();
    const liveLatencies: number[] = [];
    const afterCommit: number[] = [];
    const appendPart: number[] = [];
    let caughtUp!: () => void;
    const isCaughtUp = new Promise<void>((r) => (caughtUp = r));
    const sub = subscriberStore.subscribeToAll(
      (e) => {
        const t = sent.get(e.eventId);
        const now = performance.now();
        if (t !== undefined) liveLatencies.push(now - t);
        const c = committed.get(e.eventId);
        if (c !== undefined) afterCommit.push(now - c);
      },
      { fromPosition: 'end', filter: { streamPrefixes: ['live-'] }, onCaughtUp: () => caughtUp() },
    );
    await isCaughtUp;
    // Where the tail comes from: the event loop's own delay (CPU starvation of this process), and
    // which transaction holds the read horizon (sampled every 20 ms: the oldest one running on the
    // server, in this database or another; the horizon is the whole server's).
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    let sampling = true;
    const horizonSamples = { total: 0, otherDatabase: 0, otherOlderThan20ms: 0 };
    const sampler = (async () => {
      while (sampling) {
        const [oldest] = await raw<{ ours: boolean; ms: number }[]>`
          select datname = current_database() as ours, extract(epoch from clock_timestamp() - xact_start) * 1000 as ms
          from pg_stat_activity where backend_xid is not null order by age(backend_xid) desc limit 1`;
        if (oldest) {
          horizonSamples.total++;
          if (!oldest.ours) horizonSamples.otherDatabase++;
          if (!oldest.ours && oldest.ms > 20) horizonSamples.otherOlderThan20ms++;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const perWriter = 150;
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          const e = sampleEvent(i);
          const t0 = performance.now();
          sent.set(e.eventId!, t0);
          await store.append(`live-w${w}-${Math.floor(i / 50)}`, [e]);
          const t1 = performance.now();
          committed.set(e.eventId!, t1);
          appendPart.push(t1 - t0);
          await new Promise((r) => setTimeout(r, 5));
        }
      }),
    );
    const deadline = Date.now() + 10_000;
    while (liveLatencies.length < 4 * perWriter && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sampling = false;
    await sampler;
    loopDelay.disable();
    const subStats = (sub as unknown as { stats?: { pages: number; heldBack: number } }).stats;
    await sub.stop();
    add('live_delivery_events', liveLatencies.length, 'events');
    add('live_delivery_p50_ms', round(percentile(liveLatencies, 50), 2), 'ms');
    add('live_delivery_p99_ms', round(percentile(liveLatencies, 99), 2), 'ms');
    add('live_delivery_max_ms', round(Math.max(...liveLatencies), 2), 'ms');
    // The two parts of the delay: the append (until committed) and from the commit to the handler.
    add('live_append_p99_ms', round(percentile(appendPart, 99), 2), 'ms');
    add('live_after_commit_p99_ms', round(percentile(afterCommit, 99), 2), 'ms');
    add('live_event_loop_delay_p99_ms', round(loopDelay.percentile(99) / 1e6, 2), 'ms');
    add('live_event_loop_delay_max_ms', round(loopDelay.max / 1e6, 2), 'ms');
    if (subStats) {
      add('live_subscription_pages', subStats.pages, 'pages');
      add('live_subscription_pages_held_back', subStats.heldBack, 'pages');
    }
    add('live_horizon_held_by_other_database_pct', round((100 * horizonSamples.otherDatabase) / Math.max(1, horizonSamples.total), 1), '%');
    add('live_horizon_held_by_other_database_over_20ms_pct', round((100 * horizonSamples.otherOlderThan20ms) / Math.max(1, horizonSamples.total), 1), '%');

    const machine = await benchMachine(scratch, {
      secondsPerScenario: SECONDS,
      loadAverage1mAtStart: loadAverageAtStart,
    });
    printTable('Event store (PostgreSQL backend)', figures);
    const file = writeResult('eventstore', { machine, figures });
    console.log(`\n[bench] wrote ${file}`);
    return figures;
  } finally {
    await Promise.allSettled(stores.map((s) => s.close()));
    await raw.end({ timeout: 5 });
    await scratch.drop();
  }
}

if (isMain(import.meta.url)) {
  runEventStoreBench().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
