import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../testing/db';
import { connect, type Database } from '../db/client';
import { createEventStore, type EventStore, type Position, type RecordedEvent } from '../eventstore';
import { createPersonalDataVault, type PersonalDataVault } from '../privacy/vault';
import { applyLiveBatch, ensureRegistry } from './engine';
import { rebuildProjections } from './rebuild';
import { allProjections, projectionByName } from './registry';
import { decodeEvents } from './runner';
import { appendAll, appendOne, erasure, generateHistory, snapshotReadModels } from './testing';
import { waitForProjections } from './wait';
import { ProjectionWorker } from './worker';

const log = pino({ level: 'silent' });
let t: TestDatabase;
let store: EventStore;
let vault: PersonalDataVault;
const workers: ProjectionWorker[] = [];

/** Position of the last append (readAll's end lags behind running transactions on PostgreSQL). */
let lastPosition: Position | undefined;
async function head(): Promise<Position> {
  return lastPosition!;
}

function startWorker(options: Partial<ConstructorParameters<typeof ProjectionWorker>[0]> = {}) {
  const worker = new ProjectionWorker({ store, database: t, projections: allProjections, log, decryptor: vault, statusIntervalMs: 200, ...options });
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  t = await createTestDatabase();
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'projections-test-hmac-key' });
  vault = createPersonalDataVault(t.sql, randomBytes(32).toString('base64'));
});

afterAll(async () => {
  for (const w of workers) await w.stop().catch(() => {});
  await store?.close();
});

describe('the live worker', () => {
  const history = generateHistory({ events: 600, seed: 7 });

  it('builds every projection, then applies new events live; waitForProjections sees them', async () => {
    lastPosition = await appendAll(store, history.slice(0, 100), vault.encryptEvent);
    const worker = startWorker();
    await worker.start();
    expect(await waitForProjections(await head(), { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');
    const registry = await t.sql`select name, status, version from projection_registry order by name`;
    expect(registry.map((r) => r.status)).toEqual(allProjections.map(() => 'live'));

    lastPosition = await appendAll(store, history.slice(100), vault.encryptEvent);
    expect(await waitForProjections(await head(), { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');

    const eventCount = (await store.readAll({ maxCount: 100_000 })).length;
    const [{ n }] = (await t.sql`select count(*)::int as n from rm_audit_log`) as unknown as [{ n: number }];
    expect(n).toBe(eventCount);

    // Reservations, schedule and ledger agree with the history.
    const requested = history.flatMap((a) => a.events).filter((e) => e.type === 'ReservationRequested').length;
    const [{ r }] = (await t.sql`select count(*)::int as r from rm_reservations`) as unknown as [{ r: number }];
    expect(r).toBe(requested);
    const [{ bookings }] = (await t.sql`select sum(bookings)::int as bookings from rm_clinic_daily_stats`) as unknown as [{ bookings: number }];
    expect(bookings).toBe(requested);
    const captured = history.flatMap((a) => a.events).filter((e) => e.type === 'PaymentCaptured').reduce((s, e) => s + (e.data.amountKrw as number), 0);
    const [{ c }] = (await t.sql`select sum(captured_krw)::int as c from rm_payment_days`) as unknown as [{ c: number }];
    expect(c).toBe(captured);
    const [{ live }] = (await t.sql`
      select count(*)::int as live from rm_reservations where status not in ('cancelled', 'rejected')`) as unknown as [{ live: number }];
    const [{ holds }] = (await t.sql`select coalesce(sum(confirmed), 0)::int as holds from rm_schedule_slots`) as unknown as [{ holds: number }];
    expect(holds).toBe(live);
    // Personal data is decrypted for display.
    const [patient] = await t.sql`select name, phone from rm_patients where name is not null limit 1`;
    expect(patient!.name).toMatch(/^환자p\d+$/);
  });

  it('drops a patient\'s personal data from every read model when it is erased', async () => {
    const [patient] = await t.sql<{ id: string; name: string; phone: string }[]>`select id, name, phone from rm_patients where name is not null limit 1`;
    const result = await appendOne(store, erasure(patient!.id));
    await vault.erase(patient!.id);
    expect(await waitForProjections(result.position, { sql: t.sql, timeoutMs: 10_000 })).toBe('caught-up');
    const [row] = await t.sql`select name, phone, email, birth_date, erased from rm_patients where id = ${patient!.id}`;
    expect(row).toEqual({ name: null, phone: null, email: null, birth_date: null, erased: true });
    const snapshot = await snapshotReadModels(t.sql);
    for (const [table, rows] of Object.entries(snapshot)) {
      expect(rows.includes(patient!.name), `${table} still holds the name`).toBe(false);
      expect(rows.includes(patient!.phone), `${table} still holds the phone`).toBe(false);
    }
  });

  it('a rebuild from the log gives exactly the live tables, and the data erased stays erased', async () => {
    const before = await snapshotReadModels(t.sql);
    const progress: number[] = [];
    const result = await rebuildProjections({ store, database: t, projections: allProjections, decryptor: vault, pageSize: 97, onProgress: (p) => progress.push(p.fraction) });
    expect(result.events).toBeGreaterThan(600);
    expect(progress.at(-1)).toBe(1);
    const after = await snapshotReadModels(t.sql);
    expect(after).toEqual(before);
    // Index names survive the swap.
    const indexes = await t.sql`select indexname from pg_indexes where tablename = 'rm_audit_log' order by indexname`;
    expect(indexes.map((i) => i.indexname)).toContain('rm_audit_log_correlation_idx');
  });

  it('builds a projection added later (or whose version changed) from history on start', async () => {
    const before = await snapshotReadModels(t.sql, [projectionByName('daily-stats')!]);
    await workers[0]!.stop();
    await t.sql`update projection_registry set status = 'building', version = null where name = 'daily-stats'`;
    await t.sql`delete from rm_clinic_daily_stats`;
    await t.sql`delete from rmrev_daily_stats`;
    const worker = startWorker();
    await worker.start();
    for (let i = 0; i < 200; i++) {
      const [row] = await t.sql`select status from projection_registry where name = 'daily-stats'`;
      if (row!.status === 'live') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await snapshotReadModels(t.sql, [projectionByName('daily-stats')!])).toEqual(before);
    await worker.stop();
  });
});

describe('delivery', () => {
  let d: TestDatabase;
  let s: EventStore;
  let db2: Database;
  beforeAll(async () => {
    d = await createTestDatabase();
    s = await createEventStore({ databaseUrl: d.url, hmacKey: 'projections-test-hmac-key' });
    db2 = connect(d.url, { max: 4 });
    const projections = allProjections.filter((p) => p.name === 'reservations' || p.name === 'daily-stats');
    await ensureRegistry(d, projections);
    // Live at this code's version (a projection's version bump must not turn these tests off).
    for (const p of projections) await d.sql`update projection_registry set status = 'live', version = ${p.version} where name = ${p.name}`;
  });
  afterAll(async () => {
    await s?.close();
    await db2?.close();
  });

  const projections = () => allProjections.filter((p) => p.name === 'reservations' || p.name === 'daily-stats');

  /**
   * readAll from `from`, once it reaches `last`: on PostgreSQL the log is read up to the oldest
   * transaction still running on the server (any database), so under a busy test run it can lag.
   */
  async function readAllThrough(last: Position, from?: Position): Promise<RecordedEvent[]> {
    for (let i = 0; ; i++) {
      const read = await s.readAll({ maxCount: 10_000, ...(from ? { fromPosition: from } : {}) });
      const end = read.at(-1)?.position;
      if (end && end.commit === last.commit && end.prepare === last.prepare) return read;
      if (i >= 300) throw new Error('the appended events never became readable');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function events(): Promise<RecordedEvent[]> {
    const history = generateHistory({ events: 120, seed: 3 }).filter((a) => a.stream.startsWith('reservation-') || a.stream.startsWith('payment-'));
    return readAllThrough((await appendAll(s, history))!);
  }

  it('skips duplicates and sends back events after a gap until the missing one arrives', async () => {
    const all = await events();
    const byStream = new Map<string, RecordedEvent[]>();
    for (const e of all) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
    const long = [...byStream.values()].find((x) => x.length >= 3)!;
    // Out of order: revision 1 before revision 0 → gap.
    let result = await applyLiveBatch(d, projections(), await decodeEvents([long[1]!]));
    expect(result.outcomes[0]!.kind).toBe('gap');
    // Revision 0, 1 and a duplicate of 0 in one batch; then everything, shuffled with duplicates, until done.
    result = await applyLiveBatch(d, projections(), await decodeEvents([long[0]!, long[1]!, long[0]!]));
    expect(result.outcomes.map((o) => o.kind)).toEqual(['applied', 'applied', 'duplicate']);
    let pending = [...all, ...all.slice(0, 40)].sort((a, b) => ((a.eventId.charCodeAt(30) * 7 + b.revision) % 5) - 2);
    for (let round = 0; pending.length > 0 && round < 50; round++) {
      result = await applyLiveBatch(d, projections(), await decodeEvents(pending));
      pending = pending.filter((_, i) => result.outcomes[i]!.kind === 'gap');
    }
    expect(pending).toEqual([]);
    // Applied exactly once: bookings counted once per request.
    const requested = all.filter((e) => e.type === 'ReservationRequested').length;
    const [{ bookings }] = (await d.sql`select sum(bookings)::int as bookings from rm_clinic_daily_stats`) as unknown as [{ bookings: number }];
    expect(bookings).toBe(requested);
    const [{ n }] = (await d.sql`select count(*)::int as n from rm_reservations`) as unknown as [{ n: number }];
    expect(n).toBe(requested);
  });

  it('two writers applying the same events at once never apply one twice', async () => {
    const history = generateHistory({ events: 200, seed: 11 }).filter((a) => a.stream.startsWith('reservation-'));
    const from = await s.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1 });
    const last = await appendAll(s, history.map((a) => ({ ...a, stream: a.stream.replace('reservation-r', 'reservation-x') })).map((a) => ({
      ...a,
      events: a.events.map((e) => ({ ...e, data: { ...e.data, reservationId: String(e.data.reservationId).replace(/^r/, 'x') } })),
    })));
    const fresh = (await readAllThrough(last!, from[0]!.position)).slice(1);
    const decoded = await decodeEvents(fresh);
    const other: Database = db2;
    const [a, b] = await Promise.all([applyLiveBatch(d, projections(), decoded), applyLiveBatch(other, projections(), decoded)]);
    const applied = a.outcomes.filter((o) => o.kind === 'applied').length + b.outcomes.filter((o) => o.kind === 'applied').length;
    expect(applied).toBe(fresh.length);
    const requested = fresh.filter((e) => e.type === 'ReservationRequested').length;
    const [{ n }] = (await d.sql`select count(*)::int as n from rm_reservations where id like 'x%'`) as unknown as [{ n: number }];
    expect(n).toBe(requested);
  });
});

describe('poison events', () => {
  it('parks a poison event with its error, keeps projecting later events, and skips it on request', async () => {
    const d = await createTestDatabase();
    const s = await createEventStore({ databaseUrl: d.url, hmacKey: 'projections-test-hmac-key' });
    const worker = new ProjectionWorker({ store: s, database: d, projections: allProjections, log, maxRetryCount: 2, group: 'projections-poison', statusIntervalMs: 200 });
    try {
      const position = await appendAll(s, generateHistory({ events: 50, seed: 5 }));
      await worker.start();
      expect(await waitForProjections(position!, { sql: d.sql, timeoutMs: 30_000 })).toBe('caught-up');
      // A confirmation of a reservation that was never requested: the reservations projection fails on it.
      const poison = await s.append('reservation-ghost', [{ type: 'ReservationConfirmed', schemaVersion: 1, data: { reservationId: 'ghost', by: 'system' }, metadata: { actor: { id: 'system', role: 'system' }, occurredAt: '2026-04-01T00:00:00.000Z' } }]);
      const later = await appendOne(s, generateHistory({ events: 30, seed: 99 }).find((a) => a.stream.startsWith('clinic-'))!);
      let parked = await s.groups.listParked('projections-poison');
      for (let i = 0; i < 100 && parked.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        parked = await s.groups.listParked('projections-poison');
      }
      expect(parked).toHaveLength(1);
      expect(parked[0]!.event.streamId).toBe('reservation-ghost');
      expect(parked[0]!.reason).toMatch(/reservations: Error: ReservationConfirmed for unknown reservation ghost/);
      // Later events still project (the clinic re-registration lands in the catalogue)...
      for (let i = 0; i < 100; i++) {
        const [row] = await d.sql`select revision from rmrev_catalogue where stream_id = ${'clinic-clinic0'}`;
        if (Number(row?.revision) >= 4) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const [cat] = await d.sql`select revision from rmrev_catalogue where stream_id = ${'clinic-clinic0'}`;
      expect(Number(cat!.revision)).toBeGreaterThanOrEqual(4);
      void later;
      // ...and the audit log (which reads any event) has the poison event too.
      const [audit] = await d.sql`select event_type from rm_audit_log where stream_id = 'reservation-ghost'`;
      expect(audit!.event_type).toBe('ReservationConfirmed');
      // Skip it: the replay acks it without applying; the stream's revision moves past it.
      await d.sql`insert into projection_skips (event_id, stream_id, revision, requested_by) values (${parked[0]!.event.eventId}, 'reservation-ghost', 0, 'admin')`;
      await s.groups.replayParked('projections-poison');
      for (let i = 0; i < 100 && (await s.groups.listParked('projections-poison')).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await s.groups.listParked('projections-poison')).toHaveLength(0);
      const [rev] = await d.sql`select revision from rmrev_reservations where stream_id = 'reservation-ghost'`;
      expect(Number(rev!.revision)).toBe(0);
      const [skip] = await d.sql`select applied_at from projection_skips where event_id = ${parked[0]!.event.eventId}`;
      expect(skip!.applied_at).not.toBeNull();
      void poison;
    } finally {
      await worker.stop();
      await s.close();
    }
  });
});
