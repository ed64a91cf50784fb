/**
 * The payment deadline of pay-and-book reservations (issue 8, item 4): an abandoned checkout cannot
 * block a day. Real PostgreSQL, the sandbox gateway, the process managers' timer run on demand.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testing/eventually';
import { payment, reservation, schedule, streams } from '../domain';
import type { ActivePayment } from '../domain/payment';
import type { ActiveReservation } from '../domain/reservation';
import { createEventStore } from '../eventstore';
import type { PaymentGateway } from '../payments/gateway';
import { createSandboxGateway } from '../payments/sandbox';
import { createTestDatabase, storedEvents } from '../testing/db';
import {
  bookReservation,
  changeClinicSettings,
  commandMetadata,
  confirmDeposit,
  depositCheckout,
  depositPaymentId,
  loadStream,
  startDepositAttempt,
  type CommandDeps,
} from '../commands';
import { manualClock, meta, patientActor, registerTestClinic } from '../commands/testing';
import { startProcessManagers, type ProcessManagers } from './index';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 10 });
const sandbox = createSandboxGateway(t.sql, { timeoutMs: 20 });
const SUNDAY_9 = '2025-03-02T00:00:00Z';
const clock = manualClock(SUNDAY_9);
const deps: CommandDeps = { store, clock, payments: { gateway: sandbox as PaymentGateway, provider: 'sandbox' } };

let pm: ProcessManagers;
beforeAll(async () => {
  pm = await startProcessManagers({ store, sql: t.sql, payments: deps.payments, clock, timerIntervalMs: 0, paymentCheckDelayMs: 60_000, groupSettings: { checkpointAfterMs: 50 } });
});
afterAll(async () => {
  await pm.stop();
  await store.close();
});

const uid = () => randomBytes(5).toString('hex');
const MONDAY_11 = '2025-03-03T02:00:00Z';


const reservationState = async (id: string) => (await loadStream(store, reservation.reservationDecider, streams.reservation(id))).state as ActiveReservation;
const paymentState = async (id: string) => (await loadStream(store, payment.paymentDecider, streams.payment(id))).state as ActivePayment;

async function clinicWithOneSeat(): Promise<string> {
  const clinicId = `c-${uid()}`;
  await registerTestClinic(deps, clinicId, { slotCapacity: 1 });
  return clinicId;
}

async function book(clinicId: string) {
  const patientId = `p-${uid()}`;
  const patient = commandMetadata({ actor: patientActor(patientId), clinicId });
  const booked = await bookReservation(deps, { reservationId: `r-${uid()}`, clinicId, patientId, treatmentId: 'tx-botox', kind: 'pay-and-book', startsAt: MONDAY_11 }, patient);
  const paymentId = depositPaymentId(booked.reservationId);
  // The process managers ask for the deposit and set the deadline.
  await eventually(async () => {
    expect(await t.sql`select 1 from pm_payment_deadlines where reservation_id = ${booked.reservationId}`).toHaveLength(1);
    expect(await t.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).toHaveLength(1);
  });
  return { ...booked, patient, paymentId };
}

describe('payment deadline', () => {
  it('an abandoned checkout is cancelled after 30 minutes, its slot released and its payment closed; running again changes nothing', async () => {
    const clinicId = await clinicWithOneSeat();
    const booked = await book(clinicId);
    const tab = await startDepositAttempt(deps, { paymentId: booked.paymentId, cardNumber: '4242424242424242' }, booked.patient); // …and walked away
    try {
      clock.advanceMinutes(29);
      expect(await pm.expireUnpaidReservations()).toMatchObject({ cancelled: 0 });
      expect((await reservationState(booked.reservationId)).status).toBe('requested');

      clock.advanceMinutes(2);
      expect(await pm.expireUnpaidReservations()).toMatchObject({ due: 1, cancelled: 1 });
      expect(await reservationState(booked.reservationId)).toMatchObject({ status: 'cancelled' });
      expect(await paymentState(booked.paymentId)).toMatchObject({ status: 'failed' });
      expect(await depositCheckout(deps, booked.paymentId, booked.patient)).toMatchObject({ state: 'closed' });
      await eventually(async () => {
        const day = await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, '2025-03-03'));
        expect(day.state.released[booked.holdId]).toBe('cancelled');
      });
      // The seat is free again for someone else.
      await expect(book(clinicId)).resolves.toMatchObject({ day: '2025-03-03' });

      // Restartable and idempotent: another run (or a second worker) appends nothing.
      const before = await storedEvents(t.sql, { type: 'ReservationCancelled' });
      expect(await pm.expireUnpaidReservations()).toMatchObject({ cancelled: 0 });
      expect(await storedEvents(t.sql, { type: 'ReservationCancelled' })).toEqual(before);

      // The old tab comes back: refused before anything is charged.
      await expect(confirmDeposit(deps, tab, booked.patient)).rejects.toMatchObject({ code: 'payment.not_payable' });
      expect((await sandbox.getPayment(tab.paymentKey)).status).toBe('IN_PROGRESS');
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it("the clinic's own deadline counts (paymentDeadlineMinutes)", async () => {
    const clinicId = await clinicWithOneSeat();
    await changeClinicSettings(deps, { clinicId, paymentDeadlineMinutes: 10 }, meta({ clinicId }));
    const booked = await book(clinicId);
    try {
      clock.advanceMinutes(11);
      expect(await pm.expireUnpaidReservations()).toMatchObject({ cancelled: 1 });
      expect((await reservationState(booked.reservationId)).status).toBe('cancelled');
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('a deposit paid in time, or charged at the gateway but not recorded yet, keeps the booking', async () => {
    const clinicId = await clinicWithOneSeat();
    const paid = await book(clinicId);
    const card = await startDepositAttempt(deps, { paymentId: paid.paymentId, cardNumber: '4242424242424242' }, paid.patient);
    await confirmDeposit(deps, card, paid.patient);

    const other = await clinicWithOneSeat();
    const inDoubt = await book(other);
    const slow = await startDepositAttempt(deps, { paymentId: inDoubt.paymentId, cardNumber: '4000000000009995' }, inDoubt.patient);
    await expect(confirmDeposit(deps, slow, inDoubt.patient)).rejects.toMatchObject({ code: 'payment.pending' });
    try {
      clock.advanceMinutes(31);
      expect(await pm.expireUnpaidReservations()).toMatchObject({ cancelled: 0 });
      await eventually(async () => {
        expect(await reservationState(paid.reservationId)).toMatchObject({ status: 'confirmed', depositPaidKrw: 50_000 });
        expect(await reservationState(inDoubt.reservationId)).toMatchObject({ status: 'confirmed', depositPaidKrw: 50_000 });
      });
      expect(await t.sql`select 1 from pm_payment_deadlines where reservation_id in (${paid.reservationId}, ${inDoubt.reservationId})`).toHaveLength(0);
    } finally {
      clock.set(SUNDAY_9);
    }
  });
});
