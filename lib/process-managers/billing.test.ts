/**
 * Billing rules (issue 9, "Billing rules to correct on the way") across streams: real PostgreSQL,
 * the real sandbox gateway and the real process managers. Each test failed before its fix (see the
 * report of that change): the expected numbers are those of docs/payments.md, "The bill".
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStreamOrEmpty } from '../testing/streams';
import { eventually } from '../testing/eventually';
import { payment, reservation, streams } from '../domain';
import { BOTOX, monday, ULTHERA } from '../domain/clinic/fixtures';
import type { ListedTreatmentDetails } from '../domain/clinic';
import type { ActivePayment } from '../domain/payment';
import type { ActiveReservation, ReservationKind } from '../domain/reservation';
import { createEventStore } from '../eventstore';
import { type PaymentGateway } from '../payments/gateway';
import { createSandboxGateway } from '../payments/sandbox';
import { createTestDatabase } from '../testing/db';
import {
  addTreatment,
  bookReservation,
  cancelReservation,
  changeTreatmentPrice,
  checkInReservation,
  commandMetadata,
  confirmDeposit,
  confirmReservation,
  depositPaymentId,
  derivedId,
  discharge,
  loadStream,
  recordArrival,
  revertStage,
  startConsultation,
  unlistTreatment,
  type CommandDeps,
} from '../commands';
import { manualClock, meta, patientActor, registerTestClinic, staffMeta } from '../commands/testing';
import { startProcessManagers, type ProcessManagers } from './index';
import pino from 'pino';
import { ProjectionWorker } from '../projections/worker';
import { paymentLedgerProjection } from '../projections/read-models/payments';

const APPROVE = '4242424242424242';
const DECLINE = '4000000000000002';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 10 });
const sandbox = createSandboxGateway(t.sql, { timeoutMs: 20 });
// Sunday 2025-03-02 09:00 in Seoul: Monday 11:00 is 26 h away (outside the 24 h free-cancellation window).
const SUNDAY_9 = '2025-03-02T00:00:00Z';
const clock = manualClock(SUNDAY_9);
const payments = { gateway: sandbox as PaymentGateway, provider: 'sandbox' };
const deps: CommandDeps = { store, clock, payments };
const errors: unknown[] = [];

let pm: ProcessManagers;
// The payments read model, projecting what these flows record (its v2: VAT and deposits applied).
const ledger = new ProjectionWorker({ store, database: t, projections: [paymentLedgerProjection], log: pino({ level: 'silent' }), statusIntervalMs: 200 });
beforeAll(async () => {
  await ledger.start();
  pm = await startProcessManagers({
    store,
    sql: t.sql,
    payments,
    clock,
    timerIntervalMs: 0,
    paymentCheckDelayMs: 60_000,
    groupSettings: { checkpointAfterMs: 50, maxRetryCount: 2 },
    onError: (error) => errors.push(error),
  });
});
afterAll(async () => {
  await ledger.stop();
  await pm.stop();
  await store.close();
});

const uid = () => randomBytes(5).toString('hex');

const read = (streamId: string) => readStreamOrEmpty(store, streamId);


const reservationState = async (id: string) => (await loadStream(store, reservation.reservationDecider, streams.reservation(id))).state as ActiveReservation;
const paymentState = async (id: string) => (await loadStream(store, payment.paymentDecider, streams.payment(id))).state as ActivePayment;
const billOf = (visitId: string) => derivedId('bill', visitId);
const eventsOf = async (paymentId: string, type: string) => (await read(streams.payment(paymentId))).filter((e) => e.type === type).map((e) => e.data as Record<string, unknown>);

async function newClinic(treatments?: ListedTreatmentDetails[]): Promise<string> {
  const clinicId = `c-${uid()}`;
  await registerTestClinic(deps, clinicId, treatments ? { treatments } : {});
  return clinicId;
}

async function book(clinicId: string, treatmentId = 'tx-botox', kind: ReservationKind = 'pay-and-book', startsAt = monday('11:00')) {
  const patientId = `p-${uid()}`;
  const m = commandMetadata({ actor: patientActor(patientId), clinicId });
  const result = await bookReservation(deps, { reservationId: `r-${uid()}`, clinicId, patientId, treatmentId, kind, startsAt }, m);
  return { ...result, patientId };
}

async function checkout(reservationId: string, card = APPROVE) {
  const paymentId = depositPaymentId(reservationId);
  await eventually(async () => expect(await t.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).toHaveLength(1));
  const p = await paymentState(paymentId);
  const auth = await sandbox.authorize({ orderId: paymentId, amount: p.amountKrw, cardNumber: card });
  return { paymentKey: auth.paymentKey, orderId: paymentId, amount: p.amountKrw };
}

async function payDeposit(reservationId: string) {
  expect((await confirmDeposit(deps, await checkout(reservationId), meta())).outcome).toBe('captured');
  await eventually(async () => expect((await reservationState(reservationId)).depositPaidKrw).toBeGreaterThan(0));
}

/** Booked, deposit paid, checked in: the visit. */
async function arrivedWithDeposit(clinicId: string, treatmentId = 'tx-botox') {
  const booked = await book(clinicId, treatmentId);
  await payDeposit(booked.reservationId);
  const visitId = `v-${uid()}`;
  await checkInReservation(deps, { reservationId: booked.reservationId, visitId }, meta());
  return { ...booked, visitId };
}

describe('the bill', () => {
  it('uses the price frozen in the reservation: booked at 99 000, billed 99 000 − 50 000 after a rise to 129 000', async () => {
    const clinicId = await newClinic();
    const { visitId } = await arrivedWithDeposit(clinicId);
    await changeTreatmentPrice(deps, { clinicId, treatmentId: 'tx-botox', priceKrw: 129_000 }, meta({ clinicId }));
    await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'tx-botox' }, meta());
    await discharge(deps, { visitId }, meta());
    await eventually(async () => expect(await paymentState(billOf(visitId))).toMatchObject({ purpose: 'bill', amountKrw: 49_000 }));
  });

  it('bills the booked treatment even after the clinic unlisted it (at the frozen price)', async () => {
    const clinicId = await newClinic();
    const { visitId } = await arrivedWithDeposit(clinicId);
    await unlistTreatment(deps, { clinicId, treatmentId: 'tx-botox' }, meta({ clinicId }));
    await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'tx-botox' }, meta());
    await discharge(deps, { visitId }, meta());
    await eventually(async () => expect(await paymentState(billOf(visitId))).toMatchObject({ amountKrw: 49_000 }));
  });

  it('refunds a deposit larger than the final bill: 50 000 on a consultation-only visit comes back', async () => {
    const clinicId = await newClinic();
    const { visitId, reservationId } = await arrivedWithDeposit(clinicId);
    await startConsultation(deps, { visitId }, meta());
    await discharge(deps, { visitId }, meta());
    const depositId = depositPaymentId(reservationId);
    await eventually(async () => expect(await paymentState(depositId)).toMatchObject({ status: 'refunded', refundedKrw: 50_000 }));
    const [gw] = await t.sql<{ balance_amount: number }[]>`select balance_amount from payment_sandbox_payments where order_id = ${depositId} and status <> 'ABORTED'`;
    expect(gw!.balance_amount).toBe(0); // refunded at the gateway too
    expect(await read(streams.payment(billOf(visitId)))).toEqual([]); // nothing to bill
  });

  it('a reverted discharge and an added treatment end in an amendment bill of its own for the added treatment', async () => {
    const clinicId = await newClinic();
    const { visitId } = await arrivedWithDeposit(clinicId);
    await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'tx-botox' }, meta());
    await discharge(deps, { visitId }, meta());
    await eventually(async () => expect(await paymentState(billOf(visitId))).toMatchObject({ amountKrw: 49_000 }));
    await revertStage(deps, { visitId, staffId: 'staff-1', reason: 'forgot the lifting' }, meta());
    await addTreatment(deps, { visitId, lineId: 'l2', treatmentId: 'tx-ulthera' }, meta());
    await discharge(deps, { visitId }, meta());
    const amendment = derivedId('bill', visitId, 'amendment-1');
    await eventually(async () => expect(await paymentState(amendment)).toMatchObject({ purpose: 'bill', visitId, amountKrw: 1_200_000 }));
    expect(await paymentState(billOf(visitId))).toMatchObject({ amountKrw: 49_000 }); // the first bill unchanged
  });

  it('credits a deposit captured after check-in: 1 200 000 − 200 000', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId, 'tx-ulthera'); // clinic-confirm: confirmed before it is paid
    await confirmReservation(deps, { reservationId: booked.reservationId, staffId: 'staff-1' }, staffMeta(clinicId));
    const visitId = `v-${uid()}`;
    await checkInReservation(deps, { reservationId: booked.reservationId, visitId }, staffMeta(clinicId));
    await payDeposit(booked.reservationId); // the patient pays at the desk's tablet, already checked in
    await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'tx-ulthera' }, meta());
    await discharge(deps, { visitId }, meta());
    await eventually(async () => expect(await paymentState(billOf(visitId))).toMatchObject({ amountKrw: 1_000_000 }));
    expect(await paymentState(depositPaymentId(booked.reservationId))).toMatchObject({ status: 'captured', refundedKrw: 0 });
  });
});

describe('arrivals and discharge', () => {
  it("refuses a walk-in's arrival linked to another patient's reservation", async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    await payDeposit(booked.reservationId);
    await expect(
      recordArrival(deps, { visitId: `v-${uid()}`, clinicId, patientId: `p-${uid()}`, reservationId: booked.reservationId }, staffMeta(clinicId)),
    ).rejects.toMatchObject({ code: 'visit.reservation_mismatch' });
    // Nor the patient's own confirmed reservation without checking it in (its deposit would never be credited).
    await expect(recordArrival(deps, { visitId: `v-${uid()}`, clinicId, patientId: booked.patientId, reservationId: booked.reservationId }, staffMeta(clinicId))).rejects.toMatchObject({
      code: 'visit.reservation_mismatch',
    });
  });

  it('asks the bill even when completing the reservation fails (a visit stored with a wrong link)', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    await payDeposit(booked.reservationId); // confirmed, never checked in
    const visitId = `v-${uid()}`;
    // A walk-in recorded before the link was checked, pointing at that reservation.
    await store.append(streams.visit(visitId), [
      {
        type: 'PatientArrived',
        schemaVersion: 1,
        data: { visitId, clinicId, patientId: booked.patientId, reservationId: booked.reservationId, at: '2025-03-02T00:00:00.000Z' },
        metadata: { actor: { id: 'staff-1', role: 'staff' }, occurredAt: '2025-03-02T00:00:00.000Z' },
      },
    ]);
    await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'tx-botox' }, meta());
    errors.length = 0;
    await discharge(deps, { visitId }, meta());
    // The whole price (the deposit is the reservation's, which this visit did not settle).
    await eventually(async () => expect(await paymentState(billOf(visitId))).toMatchObject({ amountKrw: 99_000 }));
    await eventually(() => expect(errors.some((e) => (e as { code?: string }).code === 'reservation.invalid_transition')).toBe(true));
    expect((await reservationState(booked.reservationId)).status).toBe('confirmed');
  });
});

describe('deposits', () => {
  it('a confirmed booking whose deposit was declined is paid again on the same payment', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId, 'tx-ulthera');
    await confirmReservation(deps, { reservationId: booked.reservationId, staffId: 'staff-1' }, staffMeta(clinicId));
    const patient = commandMetadata({ actor: patientActor(booked.patientId), clinicId });
    await expect(confirmDeposit(deps, await checkout(booked.reservationId, DECLINE), patient)).rejects.toMatchObject({ code: 'payment.declined' });
    expect((await confirmDeposit(deps, await checkout(booked.reservationId, APPROVE), patient)).outcome).toBe('captured');
    await eventually(async () => expect(await reservationState(booked.reservationId)).toMatchObject({ status: 'confirmed', depositPaidKrw: 200_000 }));
  });
});

describe('VAT', () => {
  const LASER: ListedTreatmentDetails = { ...BOTOX, treatmentId: 'tx-laser', name: '레이저 토닝', priceKrw: 100_000, depositKrw: 50_000 };
  const ECZEMA: ListedTreatmentDetails = { ...ULTHERA, treatmentId: 'tx-eczema', name: '습진 치료', category: 'medical', bookingMode: 'instant', priceKrw: 100_000, depositKrw: 50_000, taxCategory: 'exempt' };

  it('100 000 sold with a 50 000 deposit: 9 091 VAT in all (deposit 4 546 + bill 4 545), not 4 545 + 4 545', async () => {
    const clinicId = await newClinic([LASER]);
    const { visitId, reservationId } = await arrivedWithDeposit(clinicId, 'tx-laser');
    const depositId = depositPaymentId(reservationId);
    expect((await eventsOf(depositId, 'PaymentRequested'))[0]).toMatchObject({ amountKrw: 50_000, vatKrw: 0 }); // an advance: no VAT of its own (4 545 before)
    await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'tx-laser' }, meta());
    await discharge(deps, { visitId }, meta());
    await eventually(async () => expect(await paymentState(billOf(visitId))).toMatchObject({ amountKrw: 50_000 }));
    const bill = await paymentState(billOf(visitId));
    const deposit = await paymentState(depositId);
    expect(deposit.applied).toEqual({ visitId, amountKrw: 50_000, vatKrw: 4_546 });
    expect(deposit.vatKrw + bill.vatKrw).toBe(9_091);
    // The ledger read model shows the same split.
    await eventually(async () => {
      const rows = await t.sql<{ id: string; vat_krw: number; applied_krw: number; applied_visit_id: string | null }[]>`
        select id, vat_krw, applied_krw, applied_visit_id from rm_payments where id in (${depositId}, ${billOf(visitId)}) order by purpose`;
      expect(rows).toEqual([
        { id: billOf(visitId), vat_krw: 4_545, applied_krw: 0, applied_visit_id: null },
        { id: depositId, vat_krw: 4_546, applied_krw: 50_000, applied_visit_id: visitId },
      ]);
    });
  });

  it('an exempt treatment carries no VAT on the deposit or the bill', async () => {
    const clinicId = await newClinic([ECZEMA]);
    const { visitId, reservationId } = await arrivedWithDeposit(clinicId, 'tx-eczema');
    await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'tx-eczema' }, meta());
    await discharge(deps, { visitId }, meta());
    await eventually(async () => expect(await paymentState(billOf(visitId))).toMatchObject({ amountKrw: 50_000, vatKrw: 0 }));
    expect((await paymentState(depositPaymentId(reservationId))).applied).toMatchObject({ amountKrw: 50_000, vatKrw: 0 });
  });

  it('a withheld cancellation fee is no sale: the deposit keeps 0 VAT and is never applied', async () => {
    const clinicId = await newClinic([LASER]);
    const booked = await book(clinicId, 'tx-laser');
    await payDeposit(booked.reservationId);
    clock.set('2025-03-02T09:00:00Z'); // Sunday 18:00 in Seoul: inside the window, fee 30 000
    try {
      await cancelReservation(deps, { reservationId: booked.reservationId, by: 'patient', reason: 'cannot come' }, commandMetadata({ actor: patientActor(booked.patientId), clinicId }));
    } finally {
      clock.set(SUNDAY_9);
    }
    const depositId = depositPaymentId(booked.reservationId);
    await eventually(async () => expect(await paymentState(depositId)).toMatchObject({ refundedKrw: 20_000 }));
    expect((await eventsOf(depositId, 'PaymentRequested'))[0]).toMatchObject({ vatKrw: 0 }); // 4 545 before: the fee counted as a sale
    expect(await paymentState(depositId)).toMatchObject({ vatKrw: 0, applied: null });
    expect(await eventsOf(depositId, 'DepositApplied')).toEqual([]);
  });
});
