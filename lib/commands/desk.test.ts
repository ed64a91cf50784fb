/**
 * Payments at the desk (issue 9, payments) on a real database, the real sandbox gateway, the real
 * process managers and projection worker: a booked visit's bill collected by card or in cash, refunds
 * (a cash one handed back without the gateway; never above what can be refunded), a no-show after the
 * clinic's grace period, another clinic's staff refused with nothing appended, and the day's ledger
 * (lib/queries/ledger.ts) reading what was recorded.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStreamOrEmpty } from '../testing/streams';
import { eventually } from '../testing/eventually';
import { clinicDay, payment, reservation, streams } from '../domain';
import { monday } from '../domain/clinic/fixtures';
import type { ActivePayment } from '../domain/payment';
import type { ActiveReservation } from '../domain/reservation';
import { createEventStore, type EventStore, type Position } from '../eventstore';
import type { PaymentGateway } from '../payments/gateway';
import { createSandboxGateway } from '../payments/sandbox';
import { startProcessManagers, type ProcessManagers } from '../process-managers';
import { allProjections } from '../projections/registry';
import { waitForProjections } from '../projections/wait';
import { ProjectionWorker } from '../projections/worker';
import { BoardChanges, boardOf } from '../queries/board';
import { ledgerOf } from '../queries/ledger';
import { createTestDatabase } from '../testing/db';
import {
  addTreatment,
  billPaymentId,
  bookReservation,
  changeClinicSettings,
  checkInReservation,
  collectBillByCard,
  collectCash,
  commandMetadata,
  confirmDeposit,
  depositPaymentId,
  discharge,
  ForbiddenError,
  loadStream,
  recordNoShow,
  refundPayment,
  startDepositAttempt,
  type CommandDeps,
} from './index';
import { manualClock, meta, patientActor, registerTestClinic, staffMeta } from './testing';

const APPROVE = '4242 4242 4242 4242';
const DECLINE = '4000 0000 0000 0002';
/** The sandbox times out at confirm, approved (or declined) behind the timeout. */
const TIMEOUT_APPROVED = '4000 0000 0000 9995';
const TIMEOUT_DECLINED = '4000 0000 0000 9987';

const t = await createTestDatabase();
let store: EventStore;
let deps: CommandDeps;
let pm: ProcessManagers;
let worker: ProjectionWorker;
const sandbox = createSandboxGateway(t.sql, { timeoutMs: 20 });
// Sunday 2025-03-02 09:00 in Seoul: Monday's slots are bookable.
const clock = manualClock('2025-03-02T00:00:00Z');
const tag = randomBytes(3).toString('hex');
const clinicId = `c-desk-${tag}`;
const otherClinic = `c-desk-other-${tag}`;
const staffId = randomUUID();
const desk = () => staffMeta(clinicId, staffId);
const stranger = () => staffMeta(otherClinic, randomUUID());

beforeAll(async () => {
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'desk-test-key-at-least-16' });
  const payments = { gateway: sandbox as PaymentGateway, provider: 'sandbox' };
  deps = { store, clock, payments };
  worker = new ProjectionWorker({ store, database: t, projections: allProjections, log: pino({ level: 'silent' }), statusIntervalMs: 200 });
  await worker.start();
  pm = await startProcessManagers({ store, sql: t.sql, payments, clock, timerIntervalMs: 0, paymentCheckDelayMs: 60_000, groupSettings: { checkpointAfterMs: 50, maxRetryCount: 2 } });
  await registerTestClinic(deps, clinicId);
  await registerTestClinic(deps, otherClinic);
});
afterAll(async () => {
  await pm.stop();
  await worker.stop();
  await store.close();
});

const uid = () => randomBytes(5).toString('hex');
const paymentState = async (id: string) => (await loadStream(store, payment.paymentDecider, streams.payment(id))).state as ActivePayment;
const reservationState = async (id: string) => (await loadStream(store, reservation.reservationDecider, streams.reservation(id))).state as ActiveReservation;
const read = (streamId: string) => readStreamOrEmpty(store, streamId);
async function projected(position: Position | null | undefined) {
  if (position) expect(await waitForProjections(position, { sql: t.sql, timeoutMs: 20_000 })).toBe('caught-up');
}

/** Booked Botox (deposit 50 000) at `time` on Monday, the deposit paid through the sandbox. */
async function bookedAndPaid(time = '11:00') {
  const patientId = `p-${uid()}`;
  const reservationId = `r-${uid()}`;
  await bookReservation(deps, { reservationId, clinicId, patientId, treatmentId: 'tx-botox', kind: 'pay-and-book', startsAt: monday(time) }, commandMetadata({ actor: patientActor(patientId), clinicId }));
  const paymentId = depositPaymentId(reservationId);
  await eventually(async () => expect(await t.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).toHaveLength(1));
  const patient = commandMetadata({ actor: patientActor(patientId), clinicId });
  const auth = await startDepositAttempt(deps, { paymentId, cardNumber: APPROVE }, patient);
  expect((await confirmDeposit(deps, auth, patient)).outcome).toBe('captured');
  await eventually(async () => expect(await reservationState(reservationId)).toMatchObject({ status: 'confirmed', depositPaidKrw: 50_000 }));
  return { reservationId, patientId, depositId: paymentId };
}

/** Booked, paid, checked in, Botox (99 000) sold, discharged: the bill asks 49 000. */
async function discharged(time: string) {
  const booked = await bookedAndPaid(time);
  const visitId = `v-${uid()}`;
  await checkInReservation(deps, { reservationId: booked.reservationId, visitId, staffId }, desk());
  await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'tx-botox' }, desk());
  await discharge(deps, { visitId, staffId }, desk());
  const billId = billPaymentId(visitId);
  await eventually(async () => expect(await paymentState(billId)).toMatchObject({ status: 'requested', amountKrw: 49_000 }));
  return { ...booked, visitId, billId };
}

describe('collecting a bill at the desk', () => {
  it('by card through the sandbox: a declined card leaves it open, a test card pays it; the ledger shows the deposit applied and the bill paid', async () => {
    const { billId, depositId } = await discharged('11:00');
    await expect(collectBillByCard(deps, { paymentId: billId, cardNumber: DECLINE }, desk(), { sql: t.sql })).rejects.toMatchObject({ code: 'payment.declined' });
    expect((await paymentState(billId)).status).toBe('requested');
    const paid = await collectBillByCard(deps, { paymentId: billId, cardNumber: APPROVE }, desk(), { sql: t.sql });
    expect(paid.outcome).toBe('captured');
    expect(await paymentState(billId)).toMatchObject({ status: 'captured', capturedKrw: 49_000, cash: false });
    await projected(paid.position);

    const ledger = await ledgerOf(t.db, clinicId, '2025-03-02');
    const bill = ledger.rows.find((r) => r.paymentId === billId)!;
    const deposit = ledger.rows.find((r) => r.paymentId === depositId)!;
    expect(bill).toMatchObject({ purpose: 'bill', method: 'card', capturedKrw: 49_000, refundableKrw: 49_000, collectable: false });
    // 99 000 sold: VAT 9 000, split between the deposit applied (50 000) and the bill (49 000).
    expect(deposit).toMatchObject({ purpose: 'deposit', capturedKrw: 50_000, appliedKrw: 50_000, refundableKrw: 0, withheldKrw: 0 });
    expect(bill.vatKrw + deposit.vatKrw).toBe(9_000);
    expect(ledger.totals.depositsKrw).toBeGreaterThanOrEqual(50_000);
    expect(ledger.totals.billsKrw).toBeGreaterThanOrEqual(49_000);
    expect(ledger.totals.netKrw).toBe(ledger.totals.depositsKrw + ledger.totals.billsKrw - ledger.totals.refundsKrw);
  });

  it('by card, when the gateway times out: nothing is recorded, and the reconciliation timer settles the bill like a deposit (no second desk attempt needed)', async () => {
    const { billId } = await discharged('12:30');
    const started = clock();
    await expect(collectBillByCard(deps, { paymentId: billId, cardNumber: TIMEOUT_APPROVED }, desk(), { sql: t.sql })).rejects.toMatchObject({ code: 'payment.pending' });
    expect((await paymentState(billId)).status).toBe('requested');
    const [tracked] = await t.sql<{ next_check_at: Date }[]>`select next_check_at from pm_pending_payments where payment_id = ${billId}`;
    expect(new Date(tracked!.next_check_at).getTime()).toBe(started.getTime() + 120_000);
    try {
      clock.advanceMinutes(3); // past the first check's delay: what the worker's timer runs every 30 s
      expect((await pm.reconcilePayments()).captured).toBeGreaterThanOrEqual(1);
    } finally {
      clock.set('2025-03-02T00:00:00Z');
    }
    expect(await paymentState(billId)).toMatchObject({ status: 'captured', capturedKrw: 49_000 });
    expect(await t.sql`select 1 from pm_pending_payments where payment_id = ${billId}`).toHaveLength(0);
  });

  it('by card: a declined attempt or a paid bill leaves nothing on the reconciliation list', async () => {
    const { billId } = await discharged('14:00');
    await expect(collectBillByCard(deps, { paymentId: billId, cardNumber: DECLINE }, desk(), { sql: t.sql })).rejects.toMatchObject({ code: 'payment.declined' });
    expect(await t.sql`select 1 from pm_pending_payments where payment_id = ${billId}`).toHaveLength(0);
    // Declined behind a timeout: the timer finds the decline and takes the bill off its list (the desk collects it).
    await expect(collectBillByCard(deps, { paymentId: billId, cardNumber: TIMEOUT_DECLINED }, desk(), { sql: t.sql })).rejects.toMatchObject({ code: 'payment.pending' });
    expect(await t.sql`select 1 from pm_pending_payments where payment_id = ${billId}`).toHaveLength(1);
    try {
      clock.advanceMinutes(3);
      await pm.reconcilePayments();
    } finally {
      clock.set('2025-03-02T00:00:00Z');
    }
    expect(await t.sql`select 1 from pm_pending_payments where payment_id = ${billId}`).toHaveLength(0);
    expect((await paymentState(billId)).status).toBe('requested');
    expect((await collectBillByCard(deps, { paymentId: billId, cardNumber: APPROVE }, desk(), { sql: t.sql })).outcome).toBe('captured');
    expect(await t.sql`select 1 from pm_pending_payments where payment_id = ${billId}`).toHaveLength(0);
  });

  it("the visit board's discharged card shows the bill — total, deposit credited, balance — and a collected bill moves the board's version", async () => {
    const { visitId, billId } = await discharged('16:00');
    const cardOf = async () => {
      const board = await boardOf(t.db, clinicId, clinicDay(clock()), clock());
      return { version: board.version, card: board.columns.find((c) => c.stage === 'discharged')!.cards.find((c) => c.visitId === visitId)! };
    };
    await eventually(async () => expect((await cardOf()).card.bill?.status).toBe('due'));
    const due = await cardOf();
    // 99 000 sold, the 50 000 deposit credited, 49 000 asked at the desk.
    expect(due.card.treatments.map((x) => [x.name, x.priceKrw])).toEqual([['Botox (forehead)', 99_000]]);
    expect(due.card.bill).toEqual({ totalKrw: 99_000, depositCreditedKrw: 50_000, balanceKrw: 49_000, billedKrw: 49_000, paidKrw: 0, status: 'due' });
    // The payment ledger announces it to the clinic's open boards (their SSE streams listen there).
    const changes = new BoardChanges(() => t.sql);
    const heard: Array<string | null> = [];
    const unsubscribe = await changes.subscribe((c) => heard.push(c));
    const cash = await collectCash(deps, { paymentId: billId, amountKrw: 49_000, staffId }, desk());
    await projected(cash.position);
    await eventually(() => expect(heard).toContain(clinicId));
    unsubscribe();
    const paid = await cardOf();
    expect(paid.card.bill).toMatchObject({ paidKrw: 49_000, status: 'paid' });
    expect(paid.version).not.toBe(due.version);
  });

  it('in cash: recorded as cash with the staff member as the taker; a refund of it is handed back without the gateway, never above what was collected', async () => {
    const { billId } = await discharged('11:30');
    await expect(collectCash(deps, { paymentId: billId, amountKrw: 40_000, staffId }, desk())).rejects.toMatchObject({ code: 'payment.amount_mismatch' });
    const cash = await collectCash(deps, { paymentId: billId, amountKrw: 49_000, staffId }, desk());
    const [collected] = cash.events;
    expect(collected).toMatchObject({ type: 'PaymentCollectedInCash', data: { amountKrw: 49_000, staffId } });
    const recorded = (await read(streams.payment(billId))).find((e) => e.type === 'PaymentCollectedInCash')!;
    expect(recorded.metadata.actor).toMatchObject({ id: staffId, role: 'staff' });
    // Another staff member's id in the form is refused: staff act under their own id.
    await expect(collectCash(deps, { paymentId: billId, amountKrw: 49_000, staffId: randomUUID() }, desk())).rejects.toBeInstanceOf(ForbiddenError);

    await expect(refundPayment(deps, { paymentId: billId, refundId: `rf-${uid()}`, amountKrw: 49_001, reason: 'too much' }, desk())).rejects.toMatchObject({
      code: 'payment.refund_exceeds_captured',
      details: { refundableKrw: 49_000 },
    });
    const refunded = await refundPayment(deps, { paymentId: billId, refundId: `rf-${uid()}`, amountKrw: 9_000, reason: 'shorter session' }, desk());
    expect(await paymentState(billId)).toMatchObject({ status: 'partially-refunded', refundedKrw: 9_000 });
    expect(await t.sql`select 1 from payment_sandbox_orders where order_id = ${billId}`).toHaveLength(0); // the gateway never saw it
    await projected(refunded.position);
    const row = (await ledgerOf(t.db, clinicId, '2025-03-02')).rows.find((r) => r.paymentId === billId)!;
    expect(row).toMatchObject({ method: 'cash', capturedKrw: 49_000, refundedKrw: 9_000, refundableKrw: 40_000 });
    expect(row.refunds).toEqual([expect.objectContaining({ amountKrw: 9_000, reason: 'shorter session', today: true })]);
  });

  it("another clinic's staff are refused on every desk command, and nothing is appended or charged", async () => {
    const { billId, reservationId } = await discharged('12:00');
    const before = (await read(streams.payment(billId))).length;
    await expect(collectCash(deps, { paymentId: billId, amountKrw: 49_000, staffId: 'x' }, stranger())).rejects.toBeInstanceOf(ForbiddenError);
    await expect(collectBillByCard(deps, { paymentId: billId, cardNumber: APPROVE }, stranger())).rejects.toBeInstanceOf(ForbiddenError);
    await expect(refundPayment(deps, { paymentId: billId, refundId: `rf-${uid()}`, amountKrw: 1_000, reason: 'x' }, stranger())).rejects.toBeInstanceOf(ForbiddenError);
    await expect(recordNoShow(deps, { reservationId, staffId: 'x' }, stranger())).rejects.toBeInstanceOf(ForbiddenError);
    // A patient is no desk either, even on their own bill.
    const own = (await paymentState(billId)).patientId;
    await expect(collectCash(deps, { paymentId: billId, amountKrw: 49_000, staffId: own }, commandMetadata({ actor: patientActor(own), clinicId }))).rejects.toBeInstanceOf(ForbiddenError);
    expect((await read(streams.payment(billId))).length).toBe(before);
    expect(await t.sql`select 1 from payment_sandbox_orders where order_id = ${billId}`).toHaveLength(0);
  });
});

describe('a no-show after the grace period (the reservation decider checks it, so the plain recordNoShow does)', () => {
  it('is refused before start + grace (the clinic sets 20 minutes); after it the frozen policy forfeits the deposit, and the ledger shows it withheld', async () => {
    await changeClinicSettings(deps, { clinicId, noShowGraceMinutes: 20 }, meta({ clinicId }));
    const { reservationId, depositId } = await bookedAndPaid('15:00');
    clock.set(monday('15:19'));
    try {
      await expect(recordNoShow(deps, { reservationId, staffId }, desk())).rejects.toMatchObject({
        code: 'reservation.no_show_within_grace',
        details: { noShowGraceMinutes: 20 },
      });
      expect((await reservationState(reservationId)).status).toBe('confirmed');
      clock.set(monday('15:20'));
      const recorded = await recordNoShow(deps, { reservationId, staffId }, desk());
      expect(recorded.events).toEqual([expect.objectContaining({ type: 'NoShowRecorded', data: expect.objectContaining({ depositForfeitedKrw: 50_000, refundDueKrw: 0 }) })]);
      // Again (a retried form): nothing more.
      expect((await recordNoShow(deps, { reservationId, staffId }, desk())).events).toEqual([]);
      await projected(recorded.position);
      const ledger = await ledgerOf(t.db, clinicId, '2025-03-03');
      expect(ledger.rows.find((r) => r.paymentId === depositId)).toMatchObject({ withheldKrw: 50_000, refundedKrw: 0 });
      expect(ledger.totals.withheldKrw).toBeGreaterThanOrEqual(50_000);
      expect(ledger.noShows.find((n) => n.reservationId === reservationId)).toMatchObject({ status: 'no-show', forfeitKrw: 50_000 });
      // With the clinic's settings (as the payments page passes the catalogue's), the desk's "from" time is the clinic's grace.
      const withGrace = await ledgerOf(t.db, clinicId, '2025-03-03', { noShowGraceMinutes: 20 });
      expect(withGrace.noShows.find((n) => n.reservationId === reservationId)?.allowedFrom).toBe(new Date(monday('15:20')).toISOString());
    } finally {
      clock.set('2025-03-02T00:00:00Z');
      await changeClinicSettings(deps, { clinicId, noShowGraceMinutes: 15 }, meta({ clinicId }));
    }
  });
});
