/**
 * The audit entity page's query (lib/queries/audit-entity.ts) over a real store and database: a
 * pay-and-book reservation booked by a patient, paid through the sandbox gateway, cancelled late by
 * the patient, the real process managers doing the rest (deposit request, deposit recorded, slot
 * released, refund); the audit-log read model built by the real projection. Then: each event's
 * metadata and state diff, the state as of a revision and as of a moment, the conversation of the
 * cancellation across streams, and a patient's encrypted personal data never decrypted.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookReservation, cancelReservation, commandMetadata, confirmDeposit, depositPaymentId, loadStream, registerPatient, type CommandDeps } from '../commands';
import { manualClock, patientActor, registerTestClinic } from '../commands/testing';
import { payment, reservation, streams } from '../domain';
import { monday } from '../domain/clinic/fixtures';
import type { ActiveReservation } from '../domain/reservation';
import { createEventStore, type EventStore } from '../eventstore';
import { createSandboxGateway } from '../payments/sandbox';
import { createPersonalDataVault } from '../privacy/vault';
import { startProcessManagers, type ProcessManagers } from '../process-managers';
import { projectionByName } from '../projections/registry';
import { waitForProjections } from '../projections/wait';
import { ProjectionWorker } from '../projections/worker';
import { createTestDatabase } from '../testing/db';
import { entityHistoryOf, parseAsOf, toKstLocalInput, type EntityHistory } from './audit-entity';

const t = await createTestDatabase();
let store: EventStore;
let pm: ProcessManagers;
let worker: ProjectionWorker;
const clock = manualClock('2025-03-02T00:00:00Z'); // Sunday 09:00 in Seoul
const sandbox = createSandboxGateway(t.sql, { timeoutMs: 20 });
const vault = createPersonalDataVault(t.sql, randomBytes(32).toString('base64'));
let deps: CommandDeps;
const uid = () => randomBytes(5).toString('hex');
const clinicId = `c-${uid()}`;
const patientId = `p-${uid()}`;
const reservationId = `r-${uid()}`;
const paymentId = depositPaymentId(reservationId);
const asPatient = () => commandMetadata({ actor: patientActor(patientId), clinicId, ip: '203.0.113.9', userAgent: 'vitest audit' });
let cancelCorrelation: string;

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const reservationState = async () => (await loadStream(store, reservation.reservationDecider, streams.reservation(reservationId), undefined, { cache: false })).state as ActiveReservation;
const paymentState = async () => (await loadStream(store, payment.paymentDecider, streams.payment(paymentId), undefined, { cache: false })).state as payment.PaymentState;
const history = (asOf: Parameters<typeof entityHistoryOf>[2] = null, streamId = streams.reservation(reservationId)) =>
  entityHistoryOf({ store, db: t.db, vault }, streamId, asOf) as Promise<EntityHistory>;
const value = (v: string | number | boolean | null) => ({ kind: 'value', value: v });

beforeAll(async () => {
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'audit-entity-test-hmac-key', maxConnections: 10 });
  const payments = { gateway: sandbox, provider: 'sandbox' };
  deps = { store, clock, payments, privacy: vault };
  pm = await startProcessManagers({ store, sql: t.sql, payments, clock, timerIntervalMs: 0, paymentCheckDelayMs: 60_000, groupSettings: { checkpointAfterMs: 50 }, onError: () => {} });
  worker = new ProjectionWorker({ store, database: t, projections: [projectionByName('audit-log')!], log: pino({ level: 'silent' }), statusIntervalMs: 200 });
  await worker.start();

  await registerTestClinic(deps, clinicId);
  await bookReservation(deps, { reservationId, clinicId, patientId, treatmentId: 'tx-botox', kind: 'pay-and-book', startsAt: monday('11:00') }, asPatient());
  // The deposit request is the process manager's; pay it as the checkout does.
  await eventually(async () => ((await t.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).length ? true : undefined));
  const requested = await paymentState();
  const auth = await sandbox.authorize({ orderId: paymentId, amount: (requested as payment.ActivePayment).amountKrw, cardNumber: '4242424242424242' });
  await confirmDeposit(deps, { paymentKey: auth.paymentKey, orderId: paymentId, amount: (requested as payment.ActivePayment).amountKrw }, asPatient());
  await eventually(async () => ((await reservationState()).status === 'confirmed' ? true : undefined));
  // Monday 11:00 is 23 h away at noon on Sunday: inside the 24-hour window, so the 30,000 fee is withheld.
  clock.advanceMinutes(3 * 60);
  const cancelMeta = asPatient();
  cancelCorrelation = cancelMeta.correlationId;
  await cancelReservation(deps, { reservationId, by: 'patient', reason: 'patient: schedule' }, cancelMeta);
  await eventually(async () => ((await paymentState()).status === 'partially-refunded' ? true : undefined));
  await eventually(async () => ((await store.readStream(streams.schedule(clinicId, '2025-03-03'))).some((e) => e.type === 'SlotReleased') ? true : undefined));
  const refunds = await store.readStream(streams.payment(paymentId));
  expect(await waitForProjections(refunds.at(-1)!.position, { sql: t.sql, timeoutMs: 30_000, projections: ['audit-log'] })).toBe('caught-up');
}, 120_000);

afterAll(async () => {
  await pm?.stop();
  await worker?.stop().catch(() => {});
  await store?.close();
});

describe('the stream, read from the store and folded by the domain', () => {
  it('lists every event in revision order with its envelope metadata', async () => {
    const h = await history();
    expect(h.kind).toBe('reservation');
    const types = h.events.map((e) => e.type);
    expect(types).toEqual(['ReservationRequested', 'ReservationDepositPaid', 'ReservationConfirmed', 'ReservationCancelled']);
    expect(h.events.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
    const requested = h.events[0]!;
    // A patient's IP and user agent are sealed under their key in the event (lib/privacy/origin.ts): opened with the vault.
    expect(requested).toMatchObject({ actorId: patientId, actorRole: 'patient', commandType: 'RequestReservation', clinicId, ip: '203.0.113.9', userAgent: 'vitest audit', origin: 'available', unreadable: false });
    const withoutVault = (await entityHistoryOf({ store, db: t.db }, streams.reservation(reservationId)))!.events[0]!;
    expect(withoutVault).toMatchObject({ ip: null, userAgent: null, origin: 'encrypted' });
    expect(requested.commandId).toBeTruthy();
    expect(requested.occurredAt?.toISOString()).toBe('2025-03-02T00:00:00.000Z');
    expect(requested.position).toMatch(/\d/);
    const cancelled = h.events[3]!;
    expect(cancelled).toMatchObject({ actorRole: 'patient', correlationId: cancelCorrelation, commandType: 'CancelReservation' });
    expect(cancelled.occurredAt?.toISOString()).toBe('2025-03-02T03:00:00.000Z');
    // The deposit is recorded by the process manager: the system acted, caused by the capture.
    expect(h.events[1]).toMatchObject({ actorRole: 'system' });
    expect(h.events[1]!.causationId).not.toBe(h.events[1]!.commandId);
  });

  it("gives each event the change it made to the entity's state, and its data (the refund amount)", async () => {
    const h = await history();
    const [requested, paid, confirmed, cancelled] = h.events;
    expect(requested!.diff).toContainEqual({ path: 'status', before: value('none'), after: value('requested') });
    expect(requested!.diff).toContainEqual({ path: 'depositDueKrw', after: value(50_000) });
    expect(paid!.diff).toEqual([
      { path: 'depositPaidKrw', before: value(0), after: value(50_000) },
      { path: 'paymentIds[0]', after: value(paymentId) },
      { path: 'paymentIds', before: { kind: 'empty', container: 'array' } },
    ]);
    expect(confirmed!.diff).toEqual([{ path: 'status', before: value('requested'), after: value('confirmed') }]);
    expect(cancelled!.diff).toEqual([
      { path: 'status', before: value('confirmed'), after: value('cancelled') },
      { path: 'feesDueKrw', before: value(0), after: value(30_000) },
    ]);
    expect(cancelled!.data).toContainEqual({ path: 'refundDueKrw', leaf: value(20_000) });
    expect(cancelled!.data).toContainEqual({ path: 'late', leaf: value(true) });
    expect(h.current).toContainEqual({ path: 'status', leaf: value('cancelled') });
  });
});

describe('the state as of a revision or a moment, beside the current state', () => {
  it('as of the revision before the cancellation: confirmed, with the changed paths marked', async () => {
    const h = await history({ kind: 'revision', revision: 2 });
    expect(h.asOf?.revision).toBe(2);
    const status = h.asOf!.comparison.find((c) => c.path === 'status');
    expect(status).toEqual({ path: 'status', asOf: value('confirmed'), current: value('cancelled'), changed: true });
    expect(h.asOf!.comparison.find((c) => c.path === 'depositPaidKrw')).toEqual({ path: 'depositPaidKrw', asOf: value(50_000), current: value(50_000), changed: false });
    expect(h.asOf!.comparison.filter((c) => c.changed).map((c) => c.path)).toEqual(['status', 'feesDueKrw']);
  });

  it('as of a moment (by when the store recorded the events): between two events, before the first, after the last', async () => {
    const { events } = await history();
    const between = new Date((events[2]!.recordedAt.getTime() + events[3]!.recordedAt.getTime()) / 2);
    // Recorded in the same millisecond would make "between" meaningless; the worker's reactions come later.
    expect(events[3]!.recordedAt.getTime()).toBeGreaterThan(events[2]!.recordedAt.getTime());
    const h = await history({ kind: 'moment', at: between });
    expect(h.asOf?.revision).toBe(2);
    expect(h.asOf!.comparison.find((c) => c.path === 'status')?.asOf).toEqual(value('confirmed'));

    const before = await history({ kind: 'moment', at: new Date(events[0]!.recordedAt.getTime() - 1) });
    expect(before.asOf?.revision).toBeNull();
    expect(before.asOf!.comparison.find((c) => c.path === 'status')).toEqual({ path: 'status', asOf: value('none'), current: value('cancelled'), changed: true });
    expect(before.asOf!.comparison.find((c) => c.path === 'clinicId')).toEqual({ path: 'clinicId', current: value(clinicId), changed: true });

    const after = await history({ kind: 'moment', at: new Date(events[3]!.recordedAt.getTime()) });
    expect(after.asOf?.revision).toBe(3);
    expect(after.asOf!.comparison.every((c) => !c.changed)).toBe(true);
  });

  it('a revision beyond the stream is reported, not silently clamped', async () => {
    const h = await history({ kind: 'revision', revision: 4 });
    expect(h.asOfOutOfRange).toBe(true);
    expect(h.asOf).toBeNull();
  });

  it('reads the query string: rev, or a datetime-local value in Seoul time; garbage is refused', () => {
    expect(parseAsOf({ rev: '2' })).toEqual({ asOf: { kind: 'revision', revision: 2 }, invalid: false });
    expect(parseAsOf({ at: '2025-03-02T12:00:30' })).toEqual({ asOf: { kind: 'moment', at: new Date('2025-03-02T03:00:30Z') }, invalid: false });
    expect(parseAsOf({ at: '2025-03-02T12:00' }).asOf).toEqual({ kind: 'moment', at: new Date('2025-03-02T03:00:00Z') });
    expect(parseAsOf({})).toEqual({ asOf: null, invalid: false });
    expect(parseAsOf({ rev: '', at: '' })).toEqual({ asOf: null, invalid: false });
    expect(parseAsOf({ rev: '-1' }).invalid).toBe(true);
    expect(parseAsOf({ at: '2025-13-45T99:00' }).invalid).toBe(true);
    expect(parseAsOf({ at: 'yesterday' }).invalid).toBe(true);
    expect(toKstLocalInput(new Date('2025-03-02T03:00:30.250Z'))).toBe('2025-03-02T12:00:30');
  });
});

describe('the conversations it belongs to, across streams', () => {
  it('nests the cancellation’s slot release and refund under it, found through the audit log and read from the store', async () => {
    const h = await history();
    const cancel = h.conversations.find((c) => c.correlationId === cancelCorrelation)!;
    expect(cancel).toBeDefined();
    expect([...cancel.otherStreams].sort()).toEqual([streams.payment(paymentId), streams.schedule(clinicId, '2025-03-03')].sort());
    expect(cancel.roots).toHaveLength(1);
    const root = cancel.roots[0]!;
    expect(root).toMatchObject({ type: 'ReservationCancelled', inThisStream: true, streamId: streams.reservation(reservationId), revision: 3 });
    const caused = root.children.map((c) => `${c.streamId}:${c.type}`).sort();
    expect(caused).toEqual([`${streams.payment(paymentId)}:PaymentRefunded`, `${streams.schedule(clinicId, '2025-03-03')}:SlotReleased`].sort());
    expect(root.children.every((c) => !c.inThisStream && c.actorRole === 'system')).toBe(true);

    // The booking's conversation reaches the day's schedule (the hold) and the deposit request.
    const booking = h.conversations.find((c) => c.correlationId === h.events[0]!.correlationId)!;
    expect(booking.otherStreams).toContain(streams.schedule(clinicId, '2025-03-03'));
    expect(booking.otherStreams).toContain(streams.payment(paymentId));
  });

  it('from the payment stream, the refund shows the amount and leads back to the reservation', async () => {
    const h = await history(null, streams.payment(paymentId));
    expect(h.kind).toBe('payment');
    const refunded = h.events.find((e) => e.type === 'PaymentRefunded')!;
    expect(refunded.data).toContainEqual({ path: 'amountKrw', leaf: value(20_000) });
    expect(refunded.diff).toContainEqual({ path: 'status', before: value('captured'), after: value('partially-refunded') });
    const cancel = h.conversations.find((c) => c.correlationId === cancelCorrelation)!;
    expect(cancel.otherStreams).toContain(streams.reservation(reservationId));
  });
});

describe('what the page must not show or read', () => {
  it("a patient's personal data stays encrypted: the diff names the field, never its content", async () => {
    const pid = `p-${uid()}`;
    await registerPatient(deps, { patientId: pid, name: '정보안', phone: '010-9876-5432', birthDate: '1990-01-02', email: 'secret@example.com' }, commandMetadata({ actor: patientActor(pid) }));
    const h = await history(null, streams.patient(pid));
    const registered = h.events[0]!;
    expect(registered.diff).toContainEqual({ path: 'personal[0]', after: { kind: 'personal', shape: 'encrypted' } });
    expect(registered.data).toContainEqual({ path: 'personal', leaf: { kind: 'personal', shape: 'encrypted' } });
    const text = JSON.stringify(h);
    for (const secret of ['정보안', '010-9876-5432', '1990-01-02', 'secret@example.com']) expect(text).not.toContain(secret);
  });

  it('unknown stream names and streams with no events are null (the page answers 404)', async () => {
    expect(await entityHistoryOf({ store, db: t.db }, 'nonsense')).toBeNull();
    expect(await entityHistoryOf({ store, db: t.db }, streams.reservation(`r-${uid()}`))).toBeNull();
  });
});
