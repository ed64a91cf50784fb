import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStreamOrEmpty } from '../testing/streams';
import { eventually } from '../testing/eventually';
import { payment, reservation, schedule, streams } from '../domain';
import { monday, POLICY, tuesday } from '../domain/clinic/fixtures';
import type { ActivePayment } from '../domain/payment';
import type { ActiveReservation, ReservationKind } from '../domain/reservation';
import { SlotOverCapacityError } from '../domain/schedule';
import { createEventStore } from '../eventstore';
import { GatewayTimeout, type PaymentGateway } from '../payments/gateway';
import { createSandboxGateway } from '../payments/sandbox';
import { createTestDatabase, storedEvents } from '../testing/db';
import {
  addTreatment,
  bookReservation,
  cancelReservation,
  checkInReservation,
  commandMetadata,
  confirmDeposit,
  depositCheckout,
  depositPaymentId,
  derivedId,
  discharge,
  loadClinic,
  loadStream,
  recordNoShow,
  refundPayment,
  rescheduleReservation,
  setCancellationPolicy,
  startDepositAttempt,
  subCommand,
  type CommandDeps,
} from '../commands';
import { manualClock, meta, patientActor, registerTestClinic } from '../commands/testing';
import { startProcessManagers, type ProcessManagers } from './index';
import { holdSlots } from '../commands/schedule';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 10 });
const sandbox = createSandboxGateway(t.sql, { timeoutMs: 20 });
// Sunday 2025-03-02 09:00 in Seoul: Monday 11:00 is 26 h away (outside a 24 h free-cancellation window).
const SUNDAY_9 = '2025-03-02T00:00:00Z';
const clock = manualClock(SUNDAY_9);
const payments = { gateway: sandbox as PaymentGateway, provider: 'sandbox' };
const deps: CommandDeps = { store, clock, payments };
const errors: unknown[] = [];

const start = () =>
  startProcessManagers({
    store,
    sql: t.sql,
    payments,
    clock,
    timerIntervalMs: 0, // the tests run the timers on demand
    paymentCheckDelayMs: 60_000,
    groupSettings: { checkpointAfterMs: 50 },
    onError: (error) => errors.push(error),
  });
let pm: ProcessManagers;
beforeAll(async () => {
  pm = await start();
});
afterAll(async () => {
  await pm.stop();
  await store.close();
});

const uid = () => randomBytes(5).toString('hex');

const read = (streamId: string) => readStreamOrEmpty(store, streamId);


async function reservationState(reservationId: string): Promise<ActiveReservation> {
  return (await loadStream(store, reservation.reservationDecider, streams.reservation(reservationId))).state as ActiveReservation;
}
async function paymentState(paymentId: string): Promise<ActivePayment> {
  return (await loadStream(store, payment.paymentDecider, streams.payment(paymentId))).state as ActivePayment;
}

async function newClinic(options: Parameters<typeof registerTestClinic>[2] = {}): Promise<string> {
  const clinicId = `c-${uid()}`;
  await registerTestClinic(deps, clinicId, options);
  return clinicId;
}

async function book(clinicId: string, startsAt = monday('11:00'), treatmentId = 'tx-botox', kind: ReservationKind = 'pay-and-book') {
  const patientId = `p-${uid()}`;
  const m = commandMetadata({ actor: patientActor(patientId), clinicId });
  const result = await bookReservation(deps, { reservationId: `r-${uid()}`, clinicId, patientId, treatmentId, kind, startsAt }, m);
  return { ...result, meta: m, patientId };
}

/** The patient's checkout: wait for the deposit order, authorize with a test card, confirm on the server. */
async function authorizeDeposit(reservationId: string, card = '4242424242424242', paymentId = depositPaymentId(reservationId)) {
  await eventually(async () => {
    const rows = await t.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`;
    expect(rows).toHaveLength(1);
  });
  const p = await paymentState(paymentId);
  const auth = await sandbox.authorize({ orderId: paymentId, amount: p.amountKrw, cardNumber: card });
  return { paymentKey: auth.paymentKey, orderId: paymentId, amount: p.amountKrw };
}

async function payDeposit(reservationId: string) {
  const checkout = await authorizeDeposit(reservationId);
  const outcome = await confirmDeposit(deps, checkout, meta());
  expect(outcome.outcome).toBe('captured');
  await eventually(async () => expect((await reservationState(reservationId)).depositPaidKrw).toBeGreaterThan(0));
  return checkout;
}

describe('process managers', () => {
  it('booking → deposit asked → paid → confirmed → cancelled → slot released and deposit refunded', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    expect((await reservationState(booked.reservationId)).status).toBe('requested');

    // The PM asks for the deposit: a payment with the booking's correlation, caused by ReservationRequested.
    const paymentId = depositPaymentId(booked.reservationId);
    await eventually(async () => expect(await read(streams.payment(paymentId))).toHaveLength(1));
    const [requested] = await read(streams.payment(paymentId));
    const [reservationRequested] = await read(streams.reservation(booked.reservationId));
    expect(requested!.data).toMatchObject({ purpose: 'deposit', reservationId: booked.reservationId, amountKrw: 50_000 });
    expect(requested!.metadata).toMatchObject({ correlationId: booked.meta.commandId, causationId: reservationRequested!.eventId, actor: { role: 'system' } });

    const checkout = await authorizeDeposit(booked.reservationId);
    await confirmDeposit(deps, checkout, commandMetadata({ actor: patientActor(booked.patientId), clinicId }));
    expect((await read(streams.payment(paymentId))).map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured']);

    // The capture confirms the instant booking.
    await eventually(async () => expect(await reservationState(booked.reservationId)).toMatchObject({ status: 'confirmed', depositPaidKrw: 50_000 }));

    // A free cancellation (26 h ahead): the slot is released and the whole deposit refunded through the gateway.
    await cancelReservation(deps, { reservationId: booked.reservationId, by: 'patient', reason: 'schedule clash' }, commandMetadata({ actor: patientActor(booked.patientId) }));
    await eventually(async () => expect((await paymentState(paymentId)).status).toBe('refunded'));
    const refund = (await read(streams.payment(paymentId))).at(-1)!;
    expect(refund.data).toMatchObject({ amountKrw: 50_000, full: true });
    const gw = await sandbox.getPayment(checkout.paymentKey);
    expect(gw).toMatchObject({ status: 'CANCELED', balanceAmount: 0 });
    expect(gw.cancels.map((c) => c.idempotencyKey)).toEqual([(refund.data as { refundId: string }).refundId]);
    const day = await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, '2025-03-03'));
    expect(day.state.released[booked.holdId]).toBe('cancelled');
  });

  it('cancellation refunds follow the policy frozen at booking, across a policy change', async () => {
    const clinicId = await newClinic({ slotCapacity: 3 });
    const before = await book(clinicId, monday('11:00'));
    await payDeposit(before.reservationId);
    // The clinic tightens its policy: 48 h free window, 45 000 KRW late fee.
    await setCancellationPolicy(deps, { clinicId, policy: { ...POLICY, freeCancellationHours: 48, lateCancellationFeeKrw: 45_000 } }, meta({ clinicId }));
    const after = await book(clinicId, monday('11:00'));
    await payDeposit(after.reservationId);

    // Both cancelled 26 h before the start: free under the old policy, late under the new one.
    await cancelReservation(deps, { reservationId: before.reservationId, by: 'patient', reason: 'x' }, meta());
    await cancelReservation(deps, { reservationId: after.reservationId, by: 'patient', reason: 'x' }, meta());
    const refunded = async (reservationId: string) =>
      (await read(streams.payment(depositPaymentId(reservationId)))).filter((e) => e.type === 'PaymentRefunded').map((e) => (e.data as { amountKrw: number }).amountKrw);
    await eventually(async () => {
      expect(await refunded(before.reservationId)).toEqual([50_000]);
      expect(await refunded(after.reservationId)).toEqual([5_000]);
    });
    const cancelled = (await read(streams.reservation(after.reservationId))).find((e) => e.type === 'ReservationCancelled')!;
    expect(cancelled.data).toMatchObject({ late: true, feeKrw: 45_000, refundDueKrw: 5_000 });
    expect((await paymentState(depositPaymentId(after.reservationId))).status).toBe('partially-refunded');
  });

  it('a no-show forfeits the deposit when the policy says so, and refunds it when it does not', async () => {
    const forfeiting = await newClinic();
    const lenient = await newClinic({ policy: { ...POLICY, noShowForfeitsDeposit: false } });
    const a = await book(forfeiting);
    const b = await book(lenient);
    await payDeposit(a.reservationId);
    await payDeposit(b.reservationId);
    clock.set('2025-03-03T02:30:00Z'); // Monday 11:30 in Seoul: both started 30 minutes ago
    try {
      await recordNoShow(deps, { reservationId: a.reservationId, staffId: 'staff-1' }, meta());
      await recordNoShow(deps, { reservationId: b.reservationId, staffId: 'staff-1' }, meta());
      // Events are handled in order: once b's refund is there, a's no-show was handled too.
      await eventually(async () => expect((await paymentState(depositPaymentId(b.reservationId))).status).toBe('refunded'));
      expect((await paymentState(depositPaymentId(a.reservationId))).status).toBe('captured');
      const noShow = (await read(streams.reservation(a.reservationId))).find((e) => e.type === 'NoShowRecorded')!;
      expect(noShow.data).toMatchObject({ depositForfeitedKrw: 50_000, refundDueKrw: 0 });
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('a discharge completes the reservation and asks the bill (treatments minus the deposit)', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    await payDeposit(booked.reservationId);
    const visitId = `v-${uid()}`;
    await checkInReservation(deps, { reservationId: booked.reservationId, visitId }, meta());
    await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'tx-botox' }, meta());
    await discharge(deps, { visitId, staffId: 'staff-1' }, meta());
    await eventually(async () => expect((await reservationState(booked.reservationId)).status).toBe('completed'));
    await eventually(async () => expect(await paymentState(derivedId('bill', visitId))).toMatchObject({ purpose: 'bill', visitId, amountKrw: 49_000 }));
  });

  // Sunday 18:00 in Seoul: Monday 11:00 is 17 h away, inside the 24 h free-cancellation window (late, fee 30 000).
  const SUNDAY_18 = '2025-03-02T09:00:00Z';
  const refundsOf = async (paymentId: string) =>
    (await read(streams.payment(paymentId))).filter((e) => e.type === 'PaymentRefunded').map((e) => (e.data as { amountKrw: number }).amountKrw);

  it('a late reschedule’s fee is collected at discharge: the deposit credited is the deposit minus the fee', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    await payDeposit(booked.reservationId);
    clock.set(SUNDAY_18);
    try {
      await rescheduleReservation(deps, { reservationId: booked.reservationId, startsAt: tuesday('15:00'), by: 'patient' }, meta());
      expect((await reservationState(booked.reservationId)).feesDueKrw).toBe(30_000);
      const visitId = `v-${uid()}`;
      clock.set('2025-03-04T05:55:00Z'); // Tuesday 14:55 in Seoul
      await checkInReservation(deps, { reservationId: booked.reservationId, visitId }, meta());
      await addTreatment(deps, { visitId, lineId: 'l1', treatmentId: 'tx-botox' }, meta());
      await discharge(deps, { visitId, staffId: 'staff-1' }, meta());
      await eventually(async () => expect((await reservationState(booked.reservationId)).status).toBe('completed'));
      // 99 000 of treatment − (50 000 deposit − 30 000 fee) = 79 000 (was 49 000: the fee was never paid).
      await eventually(async () => expect(await paymentState(derivedId('bill', visitId))).toMatchObject({ purpose: 'bill', amountKrw: 79_000 }));
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('a no-show after a late reschedule, at a clinic that does not forfeit deposits, refunds the deposit minus the fee', async () => {
    const clinicId = await newClinic({ policy: { ...POLICY, noShowForfeitsDeposit: false } });
    const booked = await book(clinicId);
    const checkout = await payDeposit(booked.reservationId);
    clock.set(SUNDAY_18);
    try {
      await rescheduleReservation(deps, { reservationId: booked.reservationId, startsAt: tuesday('15:00'), by: 'patient' }, meta());
      clock.set('2025-03-04T06:30:00Z'); // Tuesday 15:30 in Seoul
      await recordNoShow(deps, { reservationId: booked.reservationId, staffId: 'staff-1' }, meta());
      const noShow = (await read(streams.reservation(booked.reservationId))).find((e) => e.type === 'NoShowRecorded')!;
      expect(noShow.data).toMatchObject({ depositForfeitedKrw: 0, refundDueKrw: 20_000 });
      await eventually(async () => expect(await refundsOf(checkout.orderId)).toEqual([20_000]));
      expect(await paymentState(checkout.orderId)).toMatchObject({ status: 'partially-refunded', refundedKrw: 20_000 });
      expect((await sandbox.getPayment(checkout.paymentKey)).balanceAmount).toBe(30_000);
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('a deposit captured after a late patient cancellation is refunded minus the late fee', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    const checkout = await authorizeDeposit(booked.reservationId); // the patient is at the checkout…
    clock.set(SUNDAY_18);
    try {
      // …and cancels late before the payment is confirmed: nothing recorded to refund yet.
      await cancelReservation(deps, { reservationId: booked.reservationId, by: 'patient', reason: 'x' }, meta());
      const cancelled = (await read(streams.reservation(booked.reservationId))).find((e) => e.type === 'ReservationCancelled')!;
      expect(cancelled.data).toMatchObject({ late: true, feeKrw: 30_000, refundDueKrw: 0 });
      expect((await confirmDeposit(deps, checkout, meta())).outcome).toBe('captured');
      await eventually(async () => expect(await refundsOf(checkout.orderId)).toEqual([20_000]));
      expect(await paymentState(checkout.orderId)).toMatchObject({ status: 'partially-refunded', capturedKrw: 50_000, refundedKrw: 20_000 });
      expect((await sandbox.getPayment(checkout.paymentKey)).balanceAmount).toBe(30_000);
      expect((await reservationState(booked.reservationId)).depositPaidKrw).toBe(0);
      // Redelivered: nothing more.
      for (const event of await read(streams.payment(checkout.orderId))) await pm.react(event);
      expect(await refundsOf(checkout.orderId)).toEqual([20_000]);
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('a deposit captured after a staff cancellation is refunded in full, late reschedule fee waived', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    const checkout = await authorizeDeposit(booked.reservationId);
    clock.set(SUNDAY_18);
    try {
      await rescheduleReservation(deps, { reservationId: booked.reservationId, startsAt: tuesday('15:00'), by: 'patient' }, meta());
      await cancelReservation(deps, { reservationId: booked.reservationId, by: 'staff', staffId: 'staff-1', reason: 'doctor ill' }, meta());
      expect((await confirmDeposit(deps, checkout, meta())).outcome).toBe('captured');
      await eventually(async () => expect(await refundsOf(checkout.orderId)).toEqual([50_000]));
      expect((await paymentState(checkout.orderId)).status).toBe('refunded');
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('a hold left without its reservation expires through the timer and frees the seat', async () => {
    const clinicId = await newClinic({ slotCapacity: 1 });
    const crashed = commandMetadata({ actor: patientActor('p-crash'), clinicId });
    const holdId = derivedId('hold', crashed.commandId);
    await holdSlots(deps, await loadClinic(deps, clinicId), { clinicId, day: '2025-03-03', holdId, reservationId: `r-${uid()}`, startsAt: monday('14:00'), durationMinutes: 30 }, subCommand(crashed, 'hold'));
    await eventually(async () => expect(await t.sql`select 1 from pm_pending_holds where hold_id = ${holdId}`).toHaveLength(1));
    await expect(book(clinicId, monday('14:00'), 'tx-consult', 'consult-first')).rejects.toBeInstanceOf(SlotOverCapacityError);

    expect(await pm.sweepExpiredHolds()).toMatchObject({ released: 0 }); // not expired yet
    clock.advanceMinutes(16);
    try {
      const swept = await pm.sweepExpiredHolds();
      expect(swept.released).toBeGreaterThanOrEqual(1);
      const day = await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, '2025-03-03'));
      expect(day.state.released[holdId]).toBe('expired');
      expect(await t.sql`select 1 from pm_pending_holds where hold_id = ${holdId}`).toHaveLength(0);
      await expect(book(clinicId, monday('14:00'), 'tx-consult', 'consult-first')).resolves.toMatchObject({ day: '2025-03-03' });
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('a booking that crashed after recording the reservation gets its hold confirmed, not expired', async () => {
    const clinicId = await newClinic();
    const m = commandMetadata({ actor: patientActor('p-half'), clinicId });
    const reservationId = `r-${uid()}`;
    const holdId = derivedId('hold', m.commandId);
    const clinic = await loadClinic(deps, clinicId);
    await holdSlots(deps, clinic, { clinicId, day: '2025-03-03', holdId, reservationId, startsAt: monday('15:00'), durationMinutes: 30 }, subCommand(m, 'hold'));
    const { reservationCommand } = await import('../commands');
    await reservationCommand(
      deps,
      reservationId,
      { type: 'RequestReservation', reservationId, clinicId, patientId: 'p-half', treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('15:00'), holdId },
      subCommand(m, 'reserve'),
    );
    await eventually(async () => {
      const day = await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, '2025-03-03'));
      expect(day.state.holds[holdId]?.confirmed).toBe(true);
    });
  });

  it('a confirm whose answer is lost records nothing; the reconciliation timer finds the charge and the booking confirms', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    const checkout = await authorizeDeposit(booked.reservationId);
    // The gateway charges, but neither its answer nor a status query gets back to us.
    const unreachable: PaymentGateway = {
      ...sandbox,
      confirm: async (input) => {
        await sandbox.confirm(input);
        throw new GatewayTimeout('confirm', input.paymentKey);
      },
      getPayment: async (paymentKey) => {
        throw new GatewayTimeout('confirm', paymentKey);
      },
      getPaymentByOrderId: async () => {
        throw new GatewayTimeout('confirm', 'unknown');
      },
    };
    await expect(confirmDeposit({ ...deps, payments: { gateway: unreachable, provider: 'sandbox' } }, checkout, meta())).rejects.toMatchObject({ code: 'payment.pending' });
    expect((await paymentState(checkout.orderId)).status).toBe('requested');
    expect((await sandbox.getPayment(checkout.paymentKey)).status).toBe('DONE'); // the money was taken

    await eventually(async () => expect(await t.sql`select 1 from pm_pending_payments where payment_id = ${checkout.orderId}`).toHaveLength(1));
    expect(await pm.reconcilePayments()).toMatchObject({ captured: 0 }); // not due yet
    clock.advanceMinutes(2);
    try {
      expect(await pm.reconcilePayments()).toMatchObject({ captured: 1 });
      expect(await paymentState(checkout.orderId)).toMatchObject({ status: 'captured', capturedKrw: 50_000, providerRef: checkout.paymentKey });
      await eventually(async () => expect((await reservationState(booked.reservationId)).status).toBe('confirmed'));
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('a confirm that times out stays pending (nothing recorded, no second attempt) until the reconciliation records the charge', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    const patient = commandMetadata({ actor: patientActor(booked.patientId), clinicId });
    const checkout = await authorizeDeposit(booked.reservationId, '4000000000009995');
    await expect(confirmDeposit(deps, checkout, patient)).rejects.toMatchObject({ code: 'payment.pending' });
    expect((await paymentState(checkout.orderId)).status).toBe('requested');
    expect(await depositCheckout(deps, checkout.orderId, patient)).toMatchObject({ state: 'pending' });
    // Paying again meanwhile is refused: the gateway took money we have not recorded yet.
    await expect(startDepositAttempt(deps, { paymentId: checkout.orderId, cardNumber: '4242424242424242' }, patient)).rejects.toMatchObject({ code: 'payment.pending' });
    clock.advanceMinutes(2);
    try {
      expect(await pm.reconcilePayments()).toMatchObject({ captured: 1 });
      expect(await depositCheckout(deps, checkout.orderId, patient)).toMatchObject({ state: 'paid', capturedKrw: 50_000 });
      await eventually(async () => expect((await reservationState(booked.reservationId)).status).toBe('confirmed'));
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('a declined card fails the attempt, not the payment: the same payment is paid again and charged once', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    const patient = commandMetadata({ actor: patientActor(booked.patientId), clinicId });
    const paymentId = depositPaymentId(booked.reservationId);
    await eventually(async () => expect(await read(streams.payment(paymentId))).toHaveLength(1));
    const declined = await startDepositAttempt(deps, { paymentId, cardNumber: '4000 0000 0000 0002' }, patient);
    await expect(confirmDeposit(deps, declined, patient)).rejects.toMatchObject({ code: 'payment.declined' });
    await expect(confirmDeposit(deps, declined, patient)).rejects.toMatchObject({ code: 'payment.declined' }); // the same answer again
    expect((await read(streams.payment(paymentId))).map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentAttemptDeclined']);
    expect(await depositCheckout(deps, paymentId, patient)).toMatchObject({ state: 'payable', lastDecline: { code: 'REJECT_CARD_PAYMENT' } });

    const again = await startDepositAttempt(deps, { paymentId, cardNumber: '4242-4242-4242-4242' }, patient);
    expect(await confirmDeposit(deps, again, patient)).toMatchObject({ outcome: 'captured' });
    await eventually(async () => expect(await reservationState(booked.reservationId)).toMatchObject({ status: 'confirmed', paymentIds: [paymentId] }));
    // One payment, one charge; no second payment was asked for.
    const charged = await t.sql`select 1 from payment_sandbox_payments where order_id = ${paymentId} and status = 'DONE'`;
    expect(charged).toHaveLength(1);
    expect(await t.sql`select 1 from es_events where type = 'PaymentRequested' and data->>'reservationId' = ${booked.reservationId}`).toHaveLength(1);
    await expect(startDepositAttempt(deps, { paymentId, cardNumber: '4242424242424242' }, patient)).rejects.toMatchObject({ code: 'payment.not_payable' });
  });

  it('a refund whose answer is lost is retried with the same idempotency key: refunded once, recorded once', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    const checkout = await payDeposit(booked.reservationId);
    const refundId = derivedId('refund', 'manual', checkout.orderId);
    const input = { paymentId: checkout.orderId, refundId, amountKrw: 20_000, reason: 'goodwill' };
    const lossy: PaymentGateway = {
      ...sandbox,
      cancel: async (request) => {
        await sandbox.cancel(request);
        throw new GatewayTimeout('cancel', request.paymentKey);
      },
    };
    await expect(refundPayment({ ...deps, payments: { gateway: lossy, provider: 'sandbox' } }, input, meta())).rejects.toBeInstanceOf(GatewayTimeout);
    expect((await paymentState(checkout.orderId)).refundedKrw).toBe(0); // nothing recorded yet: the outcome is unknown
    await refundPayment(deps, input, meta()); // the retry (the process manager's redelivery does the same)
    await refundPayment(deps, input, meta());
    expect(await paymentState(checkout.orderId)).toMatchObject({ status: 'partially-refunded', refundedKrw: 20_000 });
    const gw = await sandbox.getPayment(checkout.paymentKey);
    expect(gw.cancels).toHaveLength(1);
    expect(gw.balanceAmount).toBe(30_000);
  });

  it('reactions are idempotent: redelivering handled events appends nothing and refunds nothing more', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    const checkout = await payDeposit(booked.reservationId);
    await cancelReservation(deps, { reservationId: booked.reservationId, by: 'patient', reason: 'x' }, meta());
    await eventually(async () => expect((await paymentState(checkout.orderId)).status).toBe('refunded'));
    const before = await storedEvents(t.sql);
    const history = await read(streams.reservation(booked.reservationId));
    for (const event of [...history, ...(await read(streams.payment(checkout.orderId)))]) {
      await pm.react(event);
      await pm.react(event);
    }
    expect(await storedEvents(t.sql)).toEqual(before);
    expect((await sandbox.getPayment(checkout.paymentKey)).cancels).toHaveLength(1);
  });

  it('restartable: events appended while stopped are handled by the next start', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    const checkout = await payDeposit(booked.reservationId);
    await eventually(async () => expect((await reservationState(booked.reservationId)).status).toBe('confirmed'));
    await pm.stop();
    await cancelReservation(deps, { reservationId: booked.reservationId, by: 'staff', staffId: 'staff-1', reason: 'doctor ill' }, meta());
    pm = await start();
    await eventually(async () => expect((await paymentState(checkout.orderId)).status).toBe('refunded'));
    expect(errors).toEqual([]); // nothing was retried or parked in this file
  });
});
