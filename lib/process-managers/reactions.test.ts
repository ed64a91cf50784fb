/**
 * Process-manager reactions and timers that lib/process-managers/process-managers.test.ts does not
 * reach: a hold lost between booking's appends, a reservation left without a seat, a rejection,
 * a crashed reschedule, the hold timer finding a reservation, a SlotHeld redelivered after its hold
 * was settled, and payment reconciliation after its first check (back-off, giving up, a decline
 * reported by the gateway). Real store, real sandbox gateway, the real process managers (group
 * consumer running; timers run on demand).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStreamOrEmpty } from '../testing/streams';
import { eventually } from '../testing/eventually';
import { payment, reservation, schedule, streams } from '../domain';
import { monday, tuesday } from '../domain/clinic/fixtures';
import type { ActivePayment } from '../domain/payment';
import type { ActiveReservation } from '../domain/reservation';
import { createEventStore, type EventStore } from '../eventstore';
import { GatewayTimeout, type PaymentGateway } from '../payments/gateway';
import { createSandboxGateway } from '../payments/sandbox';
import { createTestDatabase } from '../testing/db';
import {
  bookReservation,
  commandMetadata,
  confirmDeposit,
  depositPaymentId,
  derivedId,
  expireHolds,
  loadClinic,
  loadStream,
  rejectReservation,
  reservationCommand,
  subCommand,
  type CommandDeps,
} from '../commands';
import { confirmHeld, holdSlots, releaseHeld } from '../commands/schedule';
import { manualClock, meta, patientActor, registerTestClinic, staffMeta } from '../commands/testing';
import { startProcessManagers, type ProcessManagers } from './index';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'reactions-test-hmac-key', maxConnections: 10 });
const sandbox = createSandboxGateway(t.sql, { timeoutMs: 20 });
/** Gateway status queries per order, to see what the reconciliation timer asks. */
const statusQueries = new Map<string, number>();
const counted: PaymentGateway = {
  ...sandbox,
  getPaymentByOrderId: async (orderId) => {
    statusQueries.set(orderId, (statusQueries.get(orderId) ?? 0) + 1);
    return sandbox.getPaymentByOrderId(orderId);
  },
};
const SUNDAY_9 = '2025-03-02T00:00:00Z';
const clock = manualClock(SUNDAY_9);
const payments = { gateway: counted, provider: 'sandbox' };
const deps: CommandDeps = { store, clock, payments };
const errors: unknown[] = [];
const start = () =>
  startProcessManagers({
    store,
    sql: t.sql,
    payments,
    clock,
    timerIntervalMs: 0, // timers run on demand
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
const read = (streamId: string, s: EventStore = store) => readStreamOrEmpty(s, streamId);
const reservationState = async (id: string) => (await loadStream(store, reservation.reservationDecider, streams.reservation(id))).state as ActiveReservation;
const paymentState = async (id: string) => (await loadStream(store, payment.paymentDecider, streams.payment(id))).state as ActivePayment;
const dayState = async (clinicId: string, day: string) => (await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, day))).state;

async function newClinic(options: Parameters<typeof registerTestClinic>[2] = {}): Promise<string> {
  const clinicId = `c-${uid()}`;
  await registerTestClinic(deps, clinicId, options);
  return clinicId;
}
async function book(clinicId: string, startsAt = monday('11:00'), treatmentId = 'tx-botox', d: CommandDeps = deps) {
  const patientId = `p-${uid()}`;
  const m = commandMetadata({ actor: patientActor(patientId), clinicId });
  return { ...(await bookReservation(d, { reservationId: `r-${uid()}`, clinicId, patientId, treatmentId, kind: 'pay-and-book', startsAt }, m)), patientId, meta: m };
}
async function authorizeDeposit(reservationId: string, card = '4242424242424242', paymentId = depositPaymentId(reservationId)) {
  await eventually(async () => expect(await t.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).toHaveLength(1));
  const p = await paymentState(paymentId);
  const auth = await sandbox.authorize({ orderId: paymentId, amount: p.amountKrw, cardNumber: card });
  return { paymentKey: auth.paymentKey, orderId: paymentId, amount: p.amountKrw };
}
async function payDeposit(reservationId: string) {
  const checkout = await authorizeDeposit(reservationId);
  expect((await confirmDeposit(deps, checkout, meta())).outcome).toBe('captured');
  await eventually(async () => expect((await reservationState(reservationId)).depositPaidKrw).toBeGreaterThan(0));
  return checkout;
}
/** A patient's crashed booking: the hold (and optionally the reservation) recorded, nothing after. */
async function crashedBooking(clinicId: string, startsAt: string, options: { reserve: boolean; expireFirst?: boolean }) {
  const patientId = `p-${uid()}`;
  const m = commandMetadata({ actor: patientActor(patientId), clinicId });
  const reservationId = `r-${uid()}`;
  const holdId = derivedId('hold', m.commandId);
  const day = startsAt.slice(0, 10);
  await holdSlots(deps, await loadClinic(deps, clinicId), { clinicId, day, holdId, reservationId, startsAt, durationMinutes: 30 }, subCommand(m, 'hold'));
  if (options.expireFirst) {
    clock.advanceMinutes(16);
    await expireHolds(deps, { clinicId, day }, meta());
  }
  if (options.reserve) {
    await reservationCommand(
      deps,
      reservationId,
      { type: 'RequestReservation', reservationId, clinicId, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt, holdId },
      subCommand(m, 'reserve'),
    );
  }
  return { reservationId, holdId, day, patientId };
}

describe('booking and holds', () => {
  it('a hold released between booking’s two appends: booking.hold_expired, the reservation voided, the seat free', async () => {
    const clinicId = await newClinic({ slotCapacity: 1 });
    // The hold expires (and the timer releases it) just before the reservation is appended.
    let released = false;
    const slow: EventStore = Object.create(store, {
      append: {
        value: async (...args: Parameters<EventStore['append']>) => {
          if (!released && args[0].startsWith('reservation-')) {
            released = true;
            clock.advanceMinutes(16);
            await expireHolds(deps, { clinicId, day: '2025-03-03' }, meta());
          }
          return store.append(...args);
        },
      },
    });
    try {
      const attempt = book(clinicId, monday('11:00'), 'tx-botox', { ...deps, store: slow });
      await expect(attempt).rejects.toMatchObject({ code: 'booking.hold_expired' });
      const day = await read(streams.schedule(clinicId, '2025-03-03'));
      expect(day.map((e) => e.type)).toEqual(['SlotHeld', 'SlotReleased']);
      expect(day[1]!.data).toMatchObject({ reason: 'expired' });
      const [reservationId] = day.map((e) => (e.data as { reservationId: string }).reservationId);
      expect(await reservationState(reservationId!)).toMatchObject({ status: 'cancelled' });
      // No deposit is asked for a reservation without a seat, and the seat can be booked again.
      await eventually(async () => expect(errors).toEqual([]));
      expect(await read(streams.payment(depositPaymentId(reservationId!)))).toEqual([]);
      await expect(book(clinicId, monday('11:00'))).resolves.toMatchObject({ day: '2025-03-03' });
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('the process manager cancels a reservation recorded after its hold expired (no seat), and asks no deposit', async () => {
    const clinicId = await newClinic({ slotCapacity: 1 });
    try {
      const crashed = await crashedBooking(clinicId, monday('14:00'), { reserve: true, expireFirst: true });
      await eventually(async () => expect(await reservationState(crashed.reservationId)).toMatchObject({ status: 'cancelled' }));
      const cancelled = (await read(streams.reservation(crashed.reservationId))).find((e) => e.type === 'ReservationCancelled');
      expect(cancelled).toMatchObject({ type: 'ReservationCancelled', data: { by: 'staff', reason: expect.stringMatching(/expired/) } });
      expect((await dayState(clinicId, '2025-03-03')).released[crashed.holdId]).toBe('expired');
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('the hold timer confirms (does not expire) a hold whose reservation was recorded', async () => {
    const clinicId = await newClinic({ slotCapacity: 1 });
    // The group is stopped so that only the timer can act (the reaction to ReservationRequested would confirm too).
    await pm.stop();
    try {
      const crashed = await crashedBooking(clinicId, monday('16:00'), { reserve: true });
      const [held] = await read(streams.schedule(clinicId, crashed.day));
      await pm.react(held!); // SlotHeld: the timer's row
      expect(await t.sql`select 1 from pm_pending_holds where hold_id = ${crashed.holdId}`).toHaveLength(1);
      clock.advanceMinutes(16);
      const swept = await pm.sweepExpiredHolds();
      expect(swept.confirmed).toBeGreaterThanOrEqual(1);
      const day = await dayState(clinicId, crashed.day);
      expect(day.holds[crashed.holdId]?.confirmed).toBe(true);
      expect(day.released[crashed.holdId]).toBeUndefined();
      expect(await t.sql`select 1 from pm_pending_holds where hold_id = ${crashed.holdId}`).toHaveLength(0);
    } finally {
      clock.set(SUNDAY_9);
      pm = await start();
    }
  });

  it('a SlotHeld redelivered after its hold was released or confirmed, in either order, leaves the hold timer no row', async () => {
    const clinicId = await newClinic();
    // The group is stopped: the events are delivered by hand, in the orders a worker killed mid-way can redeliver them.
    await pm.stop();
    const rowsOf = async (holdId: string) => t.sql`select hold_id from pm_pending_holds where hold_id = ${holdId}`;
    try {
      // Given a hold placed, its row inserted, then released and the release handled…
      const released = await crashedBooking(clinicId, monday('10:00'), { reserve: false });
      await pm.react((await read(streams.schedule(clinicId, released.day)))[0]!);
      expect(await rowsOf(released.holdId)).toHaveLength(1);
      await releaseHeld(deps, { clinicId, day: released.day, holdId: released.holdId, reason: 'staff' }, meta());
      const [, release] = await read(streams.schedule(clinicId, released.day));
      expect(release).toMatchObject({ type: 'SlotReleased', data: { holdId: released.holdId } });
      await pm.react(release!);
      expect(await rowsOf(released.holdId)).toHaveLength(0);
      // …when its SlotHeld is delivered again, then no row comes back.
      await pm.react((await read(streams.schedule(clinicId, released.day)))[0]!);
      expect(await rowsOf(released.holdId)).toHaveLength(0);

      // Given a hold confirmed, its HoldConfirmed handled before its SlotHeld ever was, when the SlotHeld comes, then no row.
      const confirmed = await crashedBooking(clinicId, monday('14:00'), { reserve: true });
      await confirmHeld(deps, { clinicId, day: confirmed.day, holdId: confirmed.holdId, reservationId: confirmed.reservationId }, meta());
      const day = await read(streams.schedule(clinicId, confirmed.day));
      const held = day.find((e) => e.type === 'SlotHeld' && e.data.holdId === confirmed.holdId);
      const confirmation = day.find((e) => e.type === 'HoldConfirmed' && e.data.holdId === confirmed.holdId);
      await pm.react(confirmation!);
      await pm.react(held!);
      expect(await rowsOf(confirmed.holdId)).toHaveLength(0);
      expect((await dayState(clinicId, confirmed.day)).holds[confirmed.holdId]?.confirmed).toBe(true);
    } finally {
      pm = await start();
    }
  });
});

describe('reactions', () => {
  it('a rejected reservation releases its hold and refunds the deposit in full', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId, monday('11:00'), 'tx-ulthera'); // clinic-confirm: waits for the clinic
    const checkout = await payDeposit(booked.reservationId);
    expect((await reservationState(booked.reservationId)).status).toBe('requested');
    await rejectReservation(deps, { reservationId: booked.reservationId, staffId: 'staff-1', reason: 'not suitable' }, staffMeta(clinicId));
    await eventually(async () => expect(await paymentState(checkout.orderId)).toMatchObject({ status: 'refunded', refundedKrw: checkout.amount }));
    const day = await read(streams.schedule(clinicId, '2025-03-03'));
    expect(day.at(-1)).toMatchObject({ type: 'SlotReleased', data: { holdId: booked.holdId, reason: 'rejected' } });
    expect((await sandbox.getPayment(checkout.paymentKey)).balanceAmount).toBe(0);
  });

  it('a reschedule that crashed after recording the move is finished: new hold confirmed, old hold released', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    await payDeposit(booked.reservationId);
    await eventually(async () => expect((await reservationState(booked.reservationId)).status).toBe('confirmed'));
    // The reschedule's first two steps, then the crash (no confirm, no release).
    const m = commandMetadata({ actor: patientActor(booked.patientId), clinicId });
    const newHold = derivedId('hold', m.commandId);
    await holdSlots(
      deps,
      await loadClinic(deps, clinicId),
      { clinicId, day: '2025-03-04', holdId: newHold, reservationId: booked.reservationId, startsAt: tuesday('15:00'), durationMinutes: 30 },
      subCommand(m, 'hold'),
    );
    await reservationCommand(deps, booked.reservationId, { type: 'RescheduleReservation', startsAt: tuesday('15:00'), holdId: newHold, by: 'patient' }, subCommand(m, 'reschedule'));
    await eventually(async () => {
      expect((await dayState(clinicId, '2025-03-04')).holds[newHold]?.confirmed).toBe(true);
      expect((await dayState(clinicId, '2025-03-03')).released[booked.holdId]).toBe('rescheduled');
    });
  });
});

describe('payment reconciliation after its first check', () => {
  const pendingRow = async (paymentId: string) =>
    (
      await t.sql<{ checks: number; next_check_at: string; parked: boolean }[]>`
        select checks, next_check_at::text, stuck_at is not null as parked from pm_pending_payments where payment_id = ${paymentId}`
    ).map((r) => ({ checks: r.checks, next_check_at: new Date(r.next_check_at), parked: r.parked }))[0];

  it('backs off (1, 2, 4 … minutes, at most an hour) while the gateway knows nothing, then gives up asking', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    const paymentId = depositPaymentId(booked.reservationId);
    await eventually(async () => expect(await pendingRow(paymentId)).toBeDefined());
    // First check one minute after the request (paymentCheckDelayMs); not before.
    expect((await pendingRow(paymentId))!.next_check_at.toISOString()).toBe('2025-03-02T00:01:00.000Z');
    try {
      clock.set('2025-03-02T00:00:59Z');
      await pm.reconcilePayments();
      expect(statusQueries.get(paymentId) ?? 0).toBe(0);

      const gaps: number[] = [];
      for (let check = 1; ; check++) {
        const row = await pendingRow(paymentId);
        if (!row || row.parked) break; // given up: dropped, or parked for a person
        clock.set(row.next_check_at);
        await pm.reconcilePayments();
        expect(statusQueries.get(paymentId)).toBe(check);
        const after = await pendingRow(paymentId);
        if (after && !after.parked) {
          expect(after.checks).toBe(check);
          gaps.push((after.next_check_at.getTime() - row.next_check_at.getTime()) / 60_000);
        }
        if (check > 40) throw new Error('the reconciliation never gave up');
      }
      expect(gaps.slice(0, 7)).toEqual([1, 2, 4, 8, 16, 32, 60]);
      expect(gaps.every((g) => g <= 60)).toBe(true);
      // It gave up after 30 checks: never asked again, whatever the time.
      expect(statusQueries.get(paymentId)).toBe(30);
      clock.set('2025-04-01T00:00:00Z');
      await pm.reconcilePayments();
      expect(statusQueries.get(paymentId)).toBe(30);
      expect((await paymentState(paymentId)).status).toBe('requested'); // nothing was made up
    } finally {
      clock.set(SUNDAY_9);
    }
  });

  it('records a decline the gateway reports (the confirm’s answer was lost) on the attempt; the same payment is payable again', async () => {
    const clinicId = await newClinic();
    const booked = await book(clinicId);
    // Times out at confirm, declined behind the timeout; the status query cannot get through either.
    const checkout = await authorizeDeposit(booked.reservationId, '4000000000009987');
    const unreachable: PaymentGateway = {
      ...sandbox,
      getPayment: async (key) => {
        throw new GatewayTimeout('confirm', key);
      },
      getPaymentByOrderId: async () => {
        throw new GatewayTimeout('confirm', 'unknown');
      },
    };
    await expect(confirmDeposit({ ...deps, payments: { gateway: unreachable, provider: 'sandbox' } }, checkout, meta())).rejects.toMatchObject({ code: 'payment.pending' });
    expect((await paymentState(checkout.orderId)).status).toBe('requested');
    await eventually(async () => expect(await pendingRow(checkout.orderId)).toBeDefined());
    try {
      clock.advanceMinutes(2);
      await pm.reconcilePayments();
      const declined = (await read(streams.payment(checkout.orderId))).at(-1)!;
      expect(declined).toMatchObject({ type: 'PaymentAttemptDeclined', data: { providerRef: checkout.paymentKey, providerCode: 'REJECT_CARD_PAYMENT' } });
      // The payment stays open and payable (the same order, charged at most once); no second payment is asked.
      expect(await paymentState(checkout.orderId)).toMatchObject({ status: 'requested', declinedRefs: [checkout.paymentKey] });
      expect(await pendingRow(checkout.orderId)).toMatchObject({ parked: false });
      const retry = await authorizeDeposit(booked.reservationId);
      expect((await confirmDeposit(deps, retry, meta())).outcome).toBe('captured');
      await eventually(async () => expect(await reservationState(booked.reservationId)).toMatchObject({ depositPaidKrw: 50_000, paymentIds: [checkout.orderId] }));
    } finally {
      clock.set(SUNDAY_9);
    }
  });
});
