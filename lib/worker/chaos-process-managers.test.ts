/**
 * Chaos, the process managers' side: deposits are paid and the reservations cancelled (a full
 * refund each) while the real worker process — projections and process managers — is SIGKILLed ten
 * times. Redelivery after each kill must not refund a payment twice (event or gateway), every hold
 * must end released, and the read models must equal a clean rebuild.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { payment, reservation, schedule, streams } from '../domain';
import type { ActivePayment } from '../domain/payment';
import type { ActiveReservation } from '../domain/reservation';
import { createEventStore, type Position } from '../eventstore';
import { createSandboxGateway } from '../payments/sandbox';
import { createPersonalDataVault } from '../privacy/vault';
import { rebuildProjections } from '../projections/rebuild';
import { allProjections } from '../projections/registry';
import { seededRandom, snapshotReadModels } from '../projections/testing';
import { waitForProjections } from '../projections/wait';
import { createTestDatabase } from '../testing/db';
import { eventually } from '../testing/eventually';
import { readStreamOrEmpty } from '../testing/streams';
import { bookReservation, cancelReservation, commandMetadata, confirmDeposit, depositPaymentId, loadStream, type CommandDeps } from '../commands';
import { meta, patientActor, registerTestClinic } from '../commands/testing';
import { exited, spawnWorker, type WorkerProcess } from './testing';

const hmacKey = 'chaos-pm-test-hmac-key-0123456789';
const masterKey = randomBytes(32).toString('base64');
const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey, maxConnections: 10 });
const sandbox = createSandboxGateway(t.sql, { timeoutMs: 20 });
const deps: CommandDeps = { store, payments: { gateway: sandbox, provider: 'sandbox' } };
const workers = new Set<WorkerProcess>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await store.close();
});

function startWorker(n: number, env: Record<string, string> = {}): WorkerProcess {
  const w = spawnWorker({ DATABASE_URL: t.url, EVENT_HMAC_KEY: hmacKey, PERSONAL_DATA_MASTER_KEY: masterKey, WORKER_ID: `chaos-pm-${n}`, PROJECTIONS_BATCH_SIZE: '50', ...env });
  workers.add(w);
  w.on('exit', () => workers.delete(w));
  return w;
}

/** The Monday at least three days ahead (a cancellation then is free: the whole deposit comes back). */
function nextMondayDay(): string {
  const d = new Date(Date.now() + 3 * 86_400_000);
  while (d.getUTCDay() !== 1) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

const paymentState = async (id: string) => (await loadStream(store, payment.paymentDecider, streams.payment(id))).state as ActivePayment;
const reservationState = async (id: string) => (await loadStream(store, reservation.reservationDecider, streams.reservation(id))).state as ActiveReservation;

it('ten SIGKILLs of the worker while deposits are paid and refunded: each refunded once, every hold released, read models = rebuild', { timeout: 400_000 }, async () => {
  const clinicId = `c-${randomBytes(4).toString('hex')}`;
  await registerTestClinic(deps, clinicId);
  const day = nextMondayDay();
  // Ten morning and six afternoon slots, one booking each (capacity 2: no contention, only the kills).
  const times = ['10:00', '10:30', '11:00', '11:30', '12:00', '12:30', '14:00', '14:30', '15:00', '15:30', '16:00', '16:30', '17:00', '17:30', '18:00', '18:30'];
  const steps = { booked: 0, captured: 0, cancelled: 0 };

  async function flow(i: number) {
    const patientId = `p-${i}-${randomBytes(3).toString('hex')}`;
    const m = commandMetadata({ actor: patientActor(patientId), clinicId });
    const startsAt = `${day}T${times[i]}:00+09:00`;
    const booked = await bookReservation(deps, { reservationId: `r-${i}-${randomBytes(3).toString('hex')}`, clinicId, patientId, treatmentId: 'tx-botox', kind: 'pay-and-book', startsAt }, m);
    steps.booked++;
    const paymentId = depositPaymentId(booked.reservationId);
    // The process managers ask for the deposit (the gateway order): across kills, so patient waits.
    await eventually(async () => expect(await t.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).toHaveLength(1), 90_000);
    const amount = (await paymentState(paymentId)).amountKrw;
    const auth = await sandbox.authorize({ orderId: paymentId, amount, cardNumber: '4242424242424242' });
    expect((await confirmDeposit(deps, { paymentKey: auth.paymentKey, orderId: paymentId, amount }, meta())).outcome).toBe('captured');
    steps.captured++;
    await eventually(async () => expect((await reservationState(booked.reservationId)).depositPaidKrw).toBe(amount), 90_000);
    await cancelReservation(deps, { reservationId: booked.reservationId, by: 'patient', reason: 'schedule clash' }, m);
    steps.cancelled++;
    return { ...booked, paymentId, paymentKey: auth.paymentKey, amount };
  }

  // Two flows start with each of the first eight workers; each round waits until that worker's
  // process managers appended (it started and works), then kills it at a random moment.
  const started: Array<ReturnType<typeof flow>> = [];
  const rnd = seededRandom(1313);
  const pmEvents = async () => (await t.sql<{ n: number }[]>`select count(*)::int as n from es_events where metadata->'actor'->>'role' = 'system'`)[0]!.n;
  for (let round = 0; round < 10; round++) {
    const before = await pmEvents();
    const worker = startWorker(round);
    for (const i of [2 * round, 2 * round + 1]) if (i < times.length) started.push(flow(i));
    // A worker starts slowly on a loaded machine (a full `npm test`): give it time. Once every flow has
    // cancelled, the last rounds may find nothing left to do, and are killed anyway.
    const deadline = Date.now() + 90_000;
    while ((await pmEvents()) <= before && steps.cancelled < times.length) {
      if (Date.now() > deadline) throw new Error(`worker ${round} made no progress in 90 s:\n${worker.output()}`);
      await sleep(100);
    }
    await sleep(Math.floor(rnd() * 1500));
    worker.kill('SIGKILL');
    expect((await exited(worker)).signal).toBe('SIGKILL');
  }
  const flows = Promise.all(started);

  // It logs its start (info), so the test knows it is running before it asks it to stop: on a loaded
  // machine the earlier workers may have done all the work while this one was still loading its modules.
  const survivor = startWorker(99, { LOG_LEVEL: 'info' });
  const booked = await flows;
  expect(steps).toEqual({ booked: 16, captured: 16, cancelled: 16 });
  for (const b of booked) await eventually(async () => expect((await paymentState(b.paymentId)).status).toBe('refunded'), 60_000);
  const last = (await store.readAll({ maxCount: 100_000 })).at(-1)!.position as Position;
  expect(await waitForProjections(last, { sql: t.sql, timeoutMs: 60_000 }), survivor.output()).toBe('caught-up');
  await eventually(() => expect(survivor.output()).toContain('process managers started'), 120_000);
  // Every hold was released, so once the survivor has handled the releases no pending-hold row is left:
  // not even for a SlotHeld redelivered after a kill, once its release was handled (the rows' expiry is
  // 15 minutes away, so the sweep cannot be what empties the table here).
  await eventually(async () => expect(await t.sql`select hold_id from pm_pending_holds`, survivor.output().slice(-3000)).toEqual([]), 60_000);
  survivor.kill('SIGTERM');
  expect((await exited(survivor)).code, survivor.output().slice(-3000)).toBe(0);

  for (const b of booked) {
    // Refunded once: one refund event, one gateway cancellation, the whole deposit and no more.
    const refunds = (await readStreamOrEmpty(store, streams.payment(b.paymentId))).filter((e) => e.type === 'PaymentRefunded');
    expect(refunds.map((e) => (e.data as { amountKrw: number }).amountKrw)).toEqual([b.amount]);
    const cancels = await t.sql<{ amount: number }[]>`select cancel_amount as amount from payment_sandbox_cancels where payment_key = ${b.paymentKey}`;
    expect(cancels.map((c) => c.amount)).toEqual([b.amount]);
    expect(await sandbox.getPayment(b.paymentKey)).toMatchObject({ status: 'CANCELED', balanceAmount: 0 });
  }
  // No hold left: the day holds none, each booking's hold was released as cancelled, no pending-hold row remains.
  const dayState = (await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, day))).state;
  expect(Object.keys(dayState.holds)).toEqual([]);
  for (const b of booked) expect(dayState.released[b.holdId], b.holdId).toBe('cancelled');
  expect(await t.sql`select * from pm_pending_holds`).toEqual([]);
  expect(await store.groups.listParked('process-managers')).toEqual([]);
  expect(await store.groups.listParked('projections')).toEqual([]);

  const live = await snapshotReadModels(t.sql);
  await rebuildProjections({ store, database: t, projections: allProjections, decryptor: createPersonalDataVault(t.sql, masterKey) });
  const rebuilt = await snapshotReadModels(t.sql);
  for (const table of Object.keys(rebuilt)) expect(live[table], table).toEqual(rebuilt[table]);
});
