/**
 * Event store benchmark (not a test): `npm run bench:eventstore`.
 *
 * On a fresh, migrated database of its own (DATABASE_URL's server, else 127.0.0.1:5432, else an embedded
 * PostgreSQL under .data/), in one run:
 * - append throughput with 1, 8 and 16 concurrent writers, single-event and 100-event appends, beside
 *   raw INSERTs of the same rows (same JSON, same sizes) into a plain table on the same database;
 *   with 16 single-event writers also the es_append statement alone (same rows, no store logic), to
 *   show how much of the gap is the database's;
 * - append latency p50/p99; readAll throughput; catch-up subscription throughput;
 * - live delivery latency from the append call to a subscriber on another store instance (which
 *   learns of new events through LISTEN/NOTIFY, as a worker process would), under 4 concurrent writers.
 * Prints a table and writes bench/results/eventstore.json. Env: BENCH_SECONDS (per side and scenario, default 4).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import postgres from 'postgres';
import { createEventStore, newEventId, type EventStore, type NewEvent } from '@/lib/eventstore';
import { createScratchDatabase } from '@/lib/db/scratch';
import { benchMachine, isMain, percentile, printTable, round, runFor, writeResult, type Figure } from './lib';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

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
    const store = await createEventStore({ databaseUrl: url, hmacKey, maxConnections: 16, applicationName: 'bench' });
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
      const appends = new Array<number>(writers).fill(0);
      const inserts = new Array<number>(writers).fill(0);
      const append = { ops: 0, elapsedMs: 0 };
      const rawRun = { ops: 0, elapsedMs: 0 };
      const statementRun = { ops: 0, elapsedMs: 0 };
      const sides: Array<[(ms: number) => Promise<{ ops: number; elapsedMs: number }>, { ops: number; elapsedMs: number }]> = [
        [appendOnce, append],
        [rawOnce, rawRun],
      ];
      if (batch === 1 && writers === 16) sides.push([statementOnce, statementRun]);
      for (let slice = 0; slice < SECONDS; slice++) {
        const order = slice % 2 === 0 ? sides : [...sides].reverse();
        for (const [f, into] of order) {
          const r = await f(1000);
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
      if (statementRun.ops > 0) {
        const statementRate = statementRun.ops / (statementRun.elapsedMs / 1000);
        add(`es_append_statement_only_${kind}_w${writers}_per_s`, Math.round(statementRate), 'events/s');
        add(`es_append_statement_only_${kind}_w${writers}_ratio_to_raw`, round(statementRate / rawRate, 2), 'ratio');
      }
      if (batch === 1) appendLatencies.set(writers, latencies);
    };

    console.log(`[bench] append vs raw INSERT, ${SECONDS} s per scenario`);
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
    const liveLatencies: number[] = [];
    let caughtUp!: () => void;
    const isCaughtUp = new Promise<void>((r) => (caughtUp = r));
    const sub = subscriberStore.subscribeToAll(
      (e) => {
        const t = sent.get(e.eventId);
        if (t !== undefined) liveLatencies.push(performance.now() - t);
      },
      { fromPosition: 'end', filter: { streamPrefixes: ['live-'] }, onCaughtUp: () => caughtUp() },
    );
    await isCaughtUp;
    const perWriter = 150;
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          const e = sampleEvent(i);
          sent.set(e.eventId!, performance.now());
          await store.append(`live-w${w}-${Math.floor(i / 50)}`, [e]);
          await new Promise((r) => setTimeout(r, 5));
        }
      }),
    );
    const deadline = Date.now() + 10_000;
    while (liveLatencies.length < 4 * perWriter && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await sub.stop();
    add('live_delivery_events', liveLatencies.length, 'events');
    add('live_delivery_p50_ms', round(percentile(liveLatencies, 50), 2), 'ms');
    add('live_delivery_p99_ms', round(percentile(liveLatencies, 99), 2), 'ms');

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
