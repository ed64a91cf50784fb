/**
 * Integrity figures (issue 10): `verify_events_per_s` (goal ≥ 50 000) — the whole-log hash-chain
 * check (`store.verify()`: every event's HMAC recomputed, stream heads compared), on a log of
 * BENCH_VERIFY_EVENTS events (default 1 000 000) — and the seal figures: issuing a seal from nothing
 * (`seal_issue_events_per_s`), extending it after appends (`seal_extend_ms`), and comparing the log
 * with a seal (`seal_compare_events_per_s`).
 *
 * The log is written directly into es_events (rows chained exactly as the store chains them, 5 events
 * per stream, realistic metadata), which takes far less time than a million appends; the figures
 * measure the readers only. `npx tsx bench/integrity.ts`, or within `npm run bench`; only under
 * `flock /tmp/yeyak-heavy.lock`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import postgres from 'postgres';
import { createEventStore, newEventId, type EventStore } from '@/lib/eventstore';
import { integrityFor, toStoredJson } from '@/lib/eventstore/hash-chain';
import { createScratchDatabase } from '@/lib/db/scratch';
import { sealPrivateKey } from '@/lib/integrity/seal';
import { compareEventsWithSeal, issueSeal, sealComparers } from '@/lib/integrity/sealing';
import { benchMachine, isMain, printTable, round, writeResult, type Figure } from './lib';

const EVENTS = Number(process.env.BENCH_VERIFY_EVENTS ?? 1_000_000);
const PER_STREAM = 5;
const BATCH = 5000;

export async function runIntegrityBench(): Promise<Figure[]> {
  const scratch = await createScratchDatabase('yeyak_bench_integrity', (m) => console.log(`[bench] ${m}`));
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string) => {
    figures.push({ name, value, unit });
    console.log(`  ${name} = ${value} ${unit}`);
  };
  const loadAverageAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
  const sql = postgres(scratch.url, { max: 4, onnotice: () => {} });
  let store: EventStore | null = null;
  try {
    const hmacKey = randomBytes(32).toString('base64');
    const start = Date.parse('2026-01-05T00:00:00Z');
    const types = ['ReservationRequested', 'ReservationConfirmed', 'DepositPaid', 'PatientCheckedIn', 'VisitCompleted'];
    console.log(`[bench] writing ${EVENTS} chained events…`);
    const t0 = performance.now();
    let rows: Record<string, unknown>[] = [];
    let heads: Array<{ stream_id: string; revision: number; last_hash: string }> = [];
    const flush = async () => {
      if (rows.length) await sql`insert into es_events ${sql(rows as never, 'stream_id', 'revision', 'event_id', 'type', 'schema_version', 'data', 'metadata')}`;
      if (heads.length) await sql`insert into es_streams ${sql(heads as never, 'stream_id', 'revision', 'last_hash')}`;
      rows = [];
      heads = [];
    };
    for (let s = 0; s * PER_STREAM < EVENTS; s++) {
      const streamId = `reservation-${randomUUID()}`;
      const correlationId = randomUUID();
      let previousHash: string | null = null;
      for (let r = 0; r < PER_STREAM && s * PER_STREAM + r < EVENTS; r++) {
        const eventId = newEventId();
        const data = toStoredJson({
          reservationId: streamId.slice(12),
          clinicId: `clinic-${s % 40}`,
          patientId: randomUUID(),
          treatmentId: 'tx-consult',
          slotStart: new Date(start + s * 600_000).toISOString(),
          depositKrw: 50_000,
          note: { ciphertext: randomBytes(48).toString('base64'), keyId: 'k1' },
        });
        const metadata = toStoredJson({
          actor: { id: randomUUID(), role: r === 0 ? 'patient' : 'staff' },
          occurredAt: new Date(start + s * 600_000 + r * 60_000).toISOString(),
          commandId: randomUUID(),
          correlationId,
          causationId: randomUUID(),
          clinicId: `clinic-${s % 40}`,
        });
        const integrity = integrityFor(hmacKey, { streamId, revision: r, eventId, type: types[r]!, schemaVersion: 1, data, metadata }, previousHash);
        previousHash = integrity.hash;
        rows.push({ stream_id: streamId, revision: r, event_id: eventId, type: types[r]!, schema_version: 1, data, metadata: { ...metadata, integrity } });
        if (r === PER_STREAM - 1 || s * PER_STREAM + r === EVENTS - 1) heads.push({ stream_id: streamId, revision: r, last_hash: integrity.hash });
      }
      if (rows.length >= BATCH) await flush();
    }
    await flush();
    await sql`analyze es_events`;
    console.log(`[bench] written in ${round((performance.now() - t0) / 1000, 1)} s`);

    store = await createEventStore({ databaseUrl: scratch.url, hmacKey, maxConnections: 4, applicationName: 'bench-integrity' });
    // readAll (and so a seal) reads up to the oldest transaction running anywhere on the server: wait
    // until the last event written is readable (another process's long transaction holds it back).
    const readable = async (count: number) => {
      for (;;) {
        const [row] = await sql<{ n: string }[]>`select count(*)::text as n from es_events where xid < pg_snapshot_xmin(pg_current_snapshot())`;
        if (Number(row!.n) >= count) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await readable(EVENTS);

    // The whole-log chain check (what "everything" on /audit/integrity runs first).
    const v0 = performance.now();
    const result = await store.verify();
    const verifyMs = performance.now() - v0;
    if (!result.ok || result.eventsChecked !== EVENTS) throw new Error(`verify: ${JSON.stringify(result)}`);
    add('verify_events', EVENTS, 'events');
    add('verify_events_per_s', Math.round(EVENTS / (verifyMs / 1000)), 'events/s');

    const signing = sealPrivateKey(randomBytes(32).toString('base64'));
    const keys = { signing, trusted: [signing] };
    const s0 = performance.now();
    const sealed = await issueSeal({ store, sql, keys }, 'bench');
    const sealMs = performance.now() - s0;
    if (sealed.file.seal.events.count !== EVENTS) throw new Error(`seal covered ${sealed.file.seal.events.count} events`);
    add('seal_issue_events_per_s', Math.round(EVENTS / (sealMs / 1000)), 'events/s');
    add('seal_file_kb', round(Buffer.byteLength(JSON.stringify(sealed.file)) / 1024, 1), 'KB');

    // A scheduled seal after 1000 more events: it extends the previous seal, reading only those.
    for (let i = 0; i < 200; i++) {
      await store.append(`reservation-${randomUUID()}`, Array.from({ length: 5 }, (_, r) => ({ type: types[r]!, schemaVersion: 1, data: { n: r }, metadata: { actor: { id: 'bench', role: 'system' }, occurredAt: new Date().toISOString() } })));
    }
    await readable(EVENTS + 1000);
    const e0 = performance.now();
    const extended = await issueSeal({ store, sql, keys }, 'bench');
    add('seal_extend_1k_ms', round(performance.now() - e0, 1), 'ms');
    if (extended.file.seal.events.count !== EVENTS + 1000) throw new Error(`extended seal covered ${extended.file.seal.events.count} events`);

    const comparers = sealComparers(sealed.file, keys);
    const c0 = performance.now();
    const comparison = await compareEventsWithSeal(store, comparers.events!);
    const compareMs = performance.now() - c0;
    if (!comparison.ok || comparison.addedSince !== 1000) throw new Error(`compare: ${JSON.stringify(comparison).slice(0, 500)}`);
    add('seal_compare_events_per_s', Math.round((EVENTS + 1000) / (compareMs / 1000)), 'events/s');

    const machine = await benchMachine(scratch, { events: EVENTS, eventsPerStream: PER_STREAM, loadAverage1mAtStart: loadAverageAtStart });
    printTable('Integrity (PostgreSQL backend)', figures);
    const file = writeResult('integrity', { machine, figures });
    console.log(`\n[bench] wrote ${file}`);
    return figures;
  } finally {
    await store?.close();
    await sql.end({ timeout: 5 });
    await scratch.drop();
  }
}

if (isMain(import.meta.url)) {
  runIntegrityBench().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
