/**
 * PostgreSQL restarted (fast shutdown, then start) under load, on a cluster of this test's own:
 * four callers book and cancel through lib/commands while the real worker process projects and runs
 * the process managers. Every command either succeeds or fails with a connection error its caller
 * can tell (then retried with the same command id, as a caller would: idempotent); the test's pools
 * and the worker reconnect by themselves; each booking and cancellation is recorded once, and the
 * read models equal a clean rebuild.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { schedule, streams } from '../domain';
import { FREE_CONSULT, registerTestClinic } from '../commands/testing';
import { bookReservation, cancelReservation, commandMetadata, loadStream, type CommandDeps, type CommandMetadata } from '../commands';
import { connect, type Database } from '../db/client';
import { isConnectionLoss } from '../db/connection-loss';
import { migrateDatabase } from '../db/migrate';
import { createEventStore, EventStoreUnavailable, type EventStore, type Position } from '../eventstore';
import { createPersonalDataVault } from '../privacy/vault';
import { rebuildProjections } from '../projections/rebuild';
import { allProjections } from '../projections/registry';
import { snapshotReadModels } from '../projections/testing';
import { waitForProjections } from '../projections/wait';
import { startPrivatePostgres, type PrivatePostgres } from '../testing/private-postgres';
import { eventually } from '../testing/eventually';
import { readStreamOrEmpty } from '../testing/streams';
import { exited, spawnWorker, type WorkerProcess } from './testing';

const hmacKey = 'restart-test-hmac-key-0123456789';
const masterKey = randomBytes(32).toString('base64');
let pg: PrivatePostgres;
let database: Database;
let store: EventStore;
let worker: WorkerProcess | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  pg = await startPrivatePostgres();
  await migrateDatabase(pg.url);
  database = connect(pg.url, { max: 6 });
  store = await createEventStore({ databaseUrl: pg.url, hmacKey, maxConnections: 6 });
}, 120_000);

afterAll(async () => {
  worker?.kill('SIGKILL');
  await store?.close();
  await database?.close();
  pg?.destroy();
});

/** What a caller can act on: the database connection went away (or the store says it is unavailable). */
const clearError = (error: unknown) => isConnectionLoss(error) || error instanceof EventStoreUnavailable;

/** The Mondays to Fridays from three days ahead: 16 slots each (capacity 2, one booking per slot here). */
function slots(count: number): string[] {
  const times = ['10:00', '10:30', '11:00', '11:30', '12:00', '12:30', '14:00', '14:30', '15:00', '15:30', '16:00', '16:30', '17:00', '17:30', '18:00', '18:30'];
  const out: string[] = [];
  for (let d = new Date(Date.now() + 3 * 86_400_000); out.length < count; d.setUTCDate(d.getUTCDate() + 1)) {
    if (d.getUTCDay() === 0 || d.getUTCDay() === 6) continue;
    for (const t of times) out.push(`${d.toISOString().slice(0, 10)}T${t}:00+09:00`);
  }
  return out.slice(0, count);
}

it('a fast shutdown and start of PostgreSQL under load: every command succeeds or fails clearly, nothing lost or applied twice, read models = rebuild', { timeout: 300_000 }, async () => {
  const deps: CommandDeps = { store };
  const clinicId = `c-${randomBytes(4).toString('hex')}`;
  await registerTestClinic(deps, clinicId, { treatments: [FREE_CONSULT] });
  worker = spawnWorker({ DATABASE_URL: pg.url, EVENT_HMAC_KEY: hmacKey, PERSONAL_DATA_MASTER_KEY: masterKey, WORKER_ID: 'restart-1', PROJECTIONS_BATCH_SIZE: '50' });

  type Command = { kind: 'book' | 'cancel'; reservationId: string; startsAt: string; meta: CommandMetadata; cancelAfter: boolean };
  const starts = slots(160);
  const commands: Command[] = [];
  const failed: Command[] = [];
  const unclear: unknown[] = [];
  let succeeded = 0;
  let clearFailures = 0;
  const run = (c: Command) =>
    c.kind === 'book'
      ? bookReservation(deps, { reservationId: c.reservationId, clinicId, patientId: c.meta.actor.id, treatmentId: FREE_CONSULT.treatmentId, kind: 'consult-first', startsAt: c.startsAt }, c.meta)
      : cancelReservation(deps, { reservationId: c.reservationId, by: 'patient', reason: 'plans changed' }, c.meta);
  const cancelOf = (book: Command): Command => {
    const cancel: Command = { ...book, kind: 'cancel', meta: commandMetadata({ actor: book.meta.actor, clinicId }), cancelAfter: false };
    commands.push(cancel);
    return cancel;
  };
  const attempt = async (c: Command) => {
    try {
      await run(c);
      succeeded++;
    } catch (error) {
      if (clearError(error)) {
        clearFailures++;
        failed.push(c);
      } else unclear.push(error);
    }
  };

  // Four callers; every third booking is cancelled by its patient right after.
  let next = 0;
  let restarted = false;
  const caller = async () => {
    while (next < starts.length) {
      const i = next++;
      const patientId = `p-${i}-${randomBytes(3).toString('hex')}`;
      const book: Command = { kind: 'book', reservationId: `r-${i}-${randomBytes(3).toString('hex')}`, startsAt: starts[i]!, meta: commandMetadata({ actor: { id: patientId, role: 'patient' }, clinicId }), cancelAfter: i % 3 === 0 };
      commands.push(book);
      await attempt(book);
      if (book.cancelAfter && !failed.includes(book)) await attempt(cancelOf(book));
      // While the server is down, a caller backs off instead of spinning through its slots.
      if (failed.length && !restarted) await sleep(200);
    }
  };
  const load = Promise.all([caller(), caller(), caller(), caller()]);
  while (next < 50) await sleep(20);
  pg.stopFast();
  await sleep(1000);
  pg.start();
  restarted = true;
  await load;

  expect(unclear.map(String)).toEqual([]);
  // The restart cut commands in flight or refused them while the server was down.
  expect(clearFailures, `succeeded ${succeeded}, failed clearly ${clearFailures}`).toBeGreaterThan(0);
  // Some failed commands had committed before their connection was cut (the caller cannot know):
  // the caller retries each with the same command id, and it is done once either way.
  const retries = failed.splice(0);
  let committedBeforeCut = 0;
  for (const c of retries) {
    const types = (await readStreamOrEmpty(store, streams.reservation(c.reservationId))).map((e) => e.type);
    if (types.includes(c.kind === 'book' ? 'ReservationRequested' : 'ReservationCancelled')) committedBeforeCut++;
    await run(c);
    if (c.kind === 'book' && c.cancelAfter) await run(cancelOf(c));
  }
  console.info(`postgres restart: ${commands.length} commands, ${succeeded} succeeded, ${clearFailures} failed with a connection error (${committedBeforeCut} of them had committed), all retried once successfully`);

  const bookings = commands.filter((c) => c.kind === 'book');
  const cancelled = new Set(commands.filter((c) => c.kind === 'cancel').map((c) => c.reservationId));
  expect(bookings).toHaveLength(160);
  for (const b of bookings) {
    const types = (await readStreamOrEmpty(store, streams.reservation(b.reservationId))).map((e) => e.type);
    expect(types.filter((x) => x === 'ReservationRequested'), b.reservationId).toHaveLength(1);
    expect(types.filter((x) => x === 'ReservationCancelled'), b.reservationId).toHaveLength(cancelled.has(b.reservationId) ? 1 : 0);
  }
  // Every day's holds are exactly its live bookings (no hold placed twice, none left by a cut booking).
  const byDay = new Map<string, number>();
  for (const b of bookings) if (!cancelled.has(b.reservationId)) byDay.set(b.startsAt.slice(0, 10), (byDay.get(b.startsAt.slice(0, 10)) ?? 0) + 1);
  // A cancellation's hold is released by the worker's process manager, so this settles a little later.
  await eventually(async () => {
    for (const [day, live] of byDay) {
      const { state } = await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, day));
      expect(Object.keys(state.holds), `${day}\n${worker!.output().slice(-4000)}`).toHaveLength(live);
    }
  }, 60_000);

  // The worker rode through the restart and projects everything.
  const last = (await store.readAll({ maxCount: 100_000 })).at(-1)!.position as Position;
  expect(await waitForProjections(last, { sql: database.sql, timeoutMs: 60_000 }), worker.output().slice(-3000)).toBe('caught-up');
  expect(worker.exitCode, worker.output().slice(-3000)).toBeNull();
  const rows = await database.sql<{ status: string; n: number }[]>`select status, count(*)::int as n from rm_reservations group by status order by status`;
  expect(Object.fromEntries(rows.map((r) => [r.status, r.n]))).toEqual({ cancelled: cancelled.size, confirmed: 160 - cancelled.size });
  worker.kill('SIGTERM');
  expect((await exited(worker)).code, worker.output().slice(-3000)).toBe(0);

  const live = await snapshotReadModels(database.sql);
  await rebuildProjections({ store, database, projections: allProjections, decryptor: createPersonalDataVault(database.sql, masterKey) });
  const rebuilt = await snapshotReadModels(database.sql);
  for (const table of Object.keys(rebuilt)) expect(live[table], table).toEqual(rebuilt[table]);
});
