/**
 * Money is never lost or taken twice (issue 11, items 11–13): the second checkout tab, fees across
 * several late deposits, reconciliation that must not give up silently. Real PostgreSQL, the real
 * sandbox gateway (its state in PostgreSQL), the real process managers.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStreamOrEmpty } from '../testing/streams';
import { eventually } from '../testing/eventually';
import { payment, reservation, streams } from '../domain';
import type { ActivePayment } from '../domain/payment';
import type { ActiveReservation } from '../domain/reservation';
import { createEventStore } from '../eventstore';
import { type PaymentGateway } from '../payments/gateway';
import { stuckPayments } from '../payments/reconciliation';
import { createSandboxGateway } from '../payments/sandbox';
import { createTestDatabase } from '../testing/db';
import {
  bookReservation,
  cancelReservation,
  commandMetadata,
  confirmDeposit,
  depositPaymentId,
  failPayment,
  loadStream,
  ForbiddenError,
  reconcilePayment,
  reconcilePendingPayments,
  requestDeposit,
  resolveStuckPayment,
  retryStuckPayment,
  voidIdOf,
  type CommandDeps,
} from '../commands';
import { manualClock, meta, patientActor, registerTestClinic } from '../commands/testing';
import { startProcessManagers, type ProcessManagers } from './index';

const APPROVE = '4242424242424242';
const DECLINE = '4000000000000002';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 10 });
const sandbox = createSandboxGateway(t.sql, { timeoutMs: 20 });
// Sunday 2025-03-02 09:00 in Seoul: Monday 11:00 is 26 h away (outside a 24 h free-cancellation window).
const SUNDAY_9 = '2025-03-02T00:00:00Z';
// Sunday 18:00 in Seoul: Monday 11:00 is 17 h away, inside the window (late, fee 30 000).
const SUNDAY_18 = '2025-03-02T09:00:00Z';
const clock = manualClock(SUNDAY_9);
const payments = { gateway: sandbox as PaymentGateway, provider: 'sandbox' };
const deps: CommandDeps = { store, clock, payments };

let pm: ProcessManagers;
beforeAll(async () => {
  pm = await startProcessManagers({ store, sql: t.sql, payments, clock, timerIntervalMs: 0, paymentCheckDelayMs: 60_000, groupSettings: { checkpointAfterMs: 50 } });
});
afterAll(async () => {
  await pm.stop();
  await store.close();
});

const uid = () => randomBytes(5).toString('hex');

const read = (streamId: string) => readStreamOrEmpty(store, streamId);


const reservationState = async (id: string) => (await loadStream(store, reservation.reservationDecider, streams.reservation(id))).state as ActiveReservation;
const paymentState = async (id: string) => (await loadStream(store, payment.paymentDecider, streams.payment(id))).state as ActivePayment;

async function book(clinicId: string) {
  const patientId = `p-${uid()}`;
  const m = commandMetadata({ actor: patientActor(patientId), clinicId });
  const booked = await bookReservation(deps, { reservationId: `r-${uid()}`, clinicId, patientId, treatmentId: 'tx-botox', kind: 'pay-and-book', startsAt: '2025-03-03T02:00:00Z' }, m);
  return { ...booked, patientId, meta: m };
}

/** Every deposit payment ever requested for the reservation (from the log itself). */
async function depositPaymentsOf(reservationId: string): Promise<string[]> {
  const rows = await t.sql<{ id: string }[]>`
    select data->>'paymentId' as id from es_events where type = 'PaymentRequested' and data->>'reservationId' = ${reservationId} order by position`;
  return rows.map((r) => r.id);
}

/** Gateway charges still held (not refunded) across all the reservation's deposit orders. */
async function keptCharges(reservationId: string): Promise<number[]> {
  const ids = await depositPaymentsOf(reservationId);
  const rows = await t.sql<{ balance_amount: number }[]>`
    select balance_amount from payment_sandbox_payments where order_id = any(${ids}::text[]) and balance_amount > 0`;
  return rows.map((r) => r.balance_amount);
}

async function authorize(paymentId: string, card: string) {
  await eventually(async () => expect(await t.sql`select 1 from payment_sandbox_orders where order_id = ${paymentId}`).toHaveLength(1));
  const p = await paymentState(paymentId);
  const auth = await sandbox.authorize({ orderId: paymentId, amount: p.amountKrw, cardNumber: card });
  return { paymentKey: auth.paymentKey, orderId: paymentId, amount: p.amountKrw };
}

/** A gateway whose confirm of one payment key waits at the door until the test opens it. */
function gateAt(paymentKey: string) {
  let open!: () => void;
  let arrived!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const reached = new Promise<void>((r) => (arrived = r));
  const gateway: PaymentGateway = {
    ...sandbox,
    confirm: async (input) => {
      if (input.paymentKey === paymentKey) {
        arrived();
        await gate;
      }
      return sandbox.confirm(input);
    },
  };
  return { deps: { ...deps, payments: { gateway, provider: 'sandbox' } } as CommandDeps, open, reached };
}

/** Runs the process managers' reactions to a stream's events now (the group does too: reactions are idempotent). */
async function reactTo(streamId: string): Promise<void> {
  for (const event of await read(streamId)) await pm.react(event);
}

describe('money is never lost or taken twice', () => {
  it('second tab: one tab declined while the other is being charged leaves exactly one kept charge, recorded', async () => {
    const clinicId = await registerClinic();
    const booked = await book(clinicId);
    const paymentId = depositPaymentId(booked.reservationId);
    const patient = commandMetadata({ actor: patientActor(booked.patientId), clinicId });
    const tab1 = await authorize(paymentId, DECLINE);
    const tab2 = await authorize(paymentId, APPROVE);

    // Tab 2 has passed every check and is at the gateway when tab 1's decline is recorded.
    const gated = gateAt(tab2.paymentKey);
    const charging = confirmDeposit(gated.deps, tab2, commandMetadata({ actor: patientActor(booked.patientId), clinicId })).then(
      (outcome) => outcome,
      (error: unknown) => error,
    );
    await gated.reached;
    await expect(confirmDeposit(deps, tab1, patient)).rejects.toMatchObject({ code: 'payment.declined' });
    await reactTo(streams.payment(paymentId));
    gated.open();
    const second = await charging;
    expect(second).toMatchObject({ outcome: 'captured' });

    // Tab 1 pays again with a good card on whatever the reservation still asks for.
    await reactTo(streams.payment(paymentId));
    for (const id of await depositPaymentsOf(booked.reservationId)) {
      const p = await paymentState(id);
      if (p.status !== 'requested') continue;
      const again = await authorize(id, APPROVE).catch((error: unknown) => error);
      if (again instanceof Error) continue; // the order is paid already
      await confirmDeposit(deps, again as Awaited<ReturnType<typeof authorize>>, patient).catch(() => undefined);
    }

    await eventually(async () => expect(await reservationState(booked.reservationId)).toMatchObject({ status: 'confirmed', depositPaidKrw: 50_000 }));
    expect(await keptCharges(booked.reservationId)).toEqual([50_000]);
    const recorded = await Promise.all((await depositPaymentsOf(booked.reservationId)).map(paymentState));
    expect(recorded.reduce((sum, p) => sum + p.capturedKrw - p.refundedKrw, 0)).toBe(50_000);
  });

  it('two tabs confirming good cards at the same moment: one charge kept and recorded, the other never charged', async () => {
    const clinicId = await registerClinic();
    const booked = await book(clinicId);
    const paymentId = depositPaymentId(booked.reservationId);
    const patient = () => commandMetadata({ actor: patientActor(booked.patientId), clinicId });
    const tabs = [await authorize(paymentId, APPROVE), await authorize(paymentId, APPROVE)];
    const outcomes = await Promise.all(tabs.map((tab) => confirmDeposit(deps, tab, patient())));
    expect(outcomes.map((o) => o.outcome)).toEqual(['captured', 'captured']);
    await eventually(async () => expect(await reservationState(booked.reservationId)).toMatchObject({ status: 'confirmed', depositPaidKrw: 50_000 }));
    expect(await keptCharges(booked.reservationId)).toEqual([50_000]);
    const p = await paymentState(paymentId);
    expect(p).toMatchObject({ status: 'captured', capturedKrw: 50_000 });
    expect(tabs.map((tab) => tab.paymentKey)).toContain(p.providerRef);
  });

  it('a charge that lands on a payment already closed is cancelled at the gateway with a derived key and recorded, once', async () => {
    const clinicId = await registerClinic();
    const booked = await book(clinicId);
    const paymentId = depositPaymentId(booked.reservationId);
    const tab = await authorize(paymentId, APPROVE);
    const gated = gateAt(tab.paymentKey);
    const charging = confirmDeposit(gated.deps, tab, commandMetadata({ actor: patientActor(booked.patientId), clinicId })).then(
      (outcome) => outcome,
      (error: unknown) => error,
    );
    await gated.reached;
    // The payment is closed while the attempt is at the gateway (the payment deadline, an administrator).
    await failPayment(deps, { paymentId, reason: 'closed', providerCode: 'TEST' }, meta());
    gated.open();
    expect(await charging).toMatchObject({ code: 'payment.not_payable' });

    const gw = await sandbox.getPayment(tab.paymentKey);
    expect(gw).toMatchObject({ status: 'CANCELED', balanceAmount: 0 });
    expect(gw.cancels.map((c) => c.idempotencyKey)).toEqual([voidIdOf(tab.paymentKey)]);
    expect((await read(streams.payment(paymentId))).map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentFailed', 'PaymentChargeVoided']);
    expect(await paymentState(paymentId)).toMatchObject({ status: 'failed', capturedKrw: 0, voidedRefs: [tab.paymentKey] });
    // Seen again (the reconciliation's last look at a closed payment, a retry): nothing more.
    expect(await reconcilePayment(deps, paymentId, meta())).toMatchObject({ outcome: 'failed' });
    expect((await sandbox.getPayment(tab.paymentKey)).cancels).toHaveLength(1);
    expect(await keptCharges(booked.reservationId)).toEqual([]);
  });

  it('one late fee across two late deposits: withheld once, not from each', async () => {
    const clinicId = await registerClinic();
    const booked = await book(clinicId);
    const first = depositPaymentId(booked.reservationId);
    // A second deposit payment for the same reservation (as a re-request after a failure makes).
    const second = depositPaymentId(booked.reservationId, 'second');
    const r = await reservationState(booked.reservationId);
    await requestDeposit(
      deps,
      { paymentId: second, reservationId: r.reservationId, clinicId, patientId: r.patientId, amountKrw: 50_000, orderName: 'deposit' },
      meta(),
    );
    const a = await authorize(first, APPROVE);
    const b = await authorize(second, APPROVE);
    clock.set(SUNDAY_18);
    try {
      await cancelReservation(deps, { reservationId: booked.reservationId, by: 'patient', reason: 'x' }, commandMetadata({ actor: patientActor(booked.patientId) }));
      expect((await read(streams.reservation(booked.reservationId))).find((e) => e.type === 'ReservationCancelled')!.data).toMatchObject({ feeKrw: 30_000, refundDueKrw: 0 });
      await confirmDeposit(deps, a, meta());
      await confirmDeposit(deps, b, meta());
      const refunded = async () => {
        const states = await Promise.all([first, second].map(paymentState));
        return states.map((p) => p.refundedKrw);
      };
      // 100 000 captured after the close; the 30 000 fee is kept once: 70 000 goes back.
      await eventually(async () => expect((await refunded()).reduce((x, y) => x + y, 0)).toBe(70_000));
      expect(await refunded()).toEqual([20_000, 50_000]);
      // Redelivered in any order: nothing more.
      await reactTo(streams.payment(second));
      await reactTo(streams.payment(first));
      expect(await refunded()).toEqual([20_000, 50_000]);
      expect((await keptCharges(booked.reservationId)).reduce((x, y) => x + y, 0)).toBe(30_000);
    } finally {
      clock.set(SUNDAY_9);
    }
  });
});

async function registerClinic(): Promise<string> {
  const clinicId = `c-${uid()}`;
  await registerTestClinic(deps, clinicId);
  return clinicId;
}

describe('reconciliation that never gives up silently', () => {
  it("an admin's 'check now' settles a timed-out payment at once, before its first check is due", async () => {
    const clinicId = await registerClinic();
    const booked = await book(clinicId);
    const paymentId = depositPaymentId(booked.reservationId);
    const slow = await authorize(paymentId, '4000000000009995'); // times out at confirm, approved behind it
    await expect(confirmDeposit(deps, slow, meta())).rejects.toMatchObject({ code: 'payment.pending' });
    await eventually(async () => expect(await t.sql`select 1 from pm_pending_payments where payment_id = ${paymentId}`).toHaveLength(1));
    const admin = commandMetadata({ actor: { id: 'admin-1', role: 'admin' } });
    expect(await reconcilePendingPayments(deps, admin, { sql: t.sql })).toMatchObject({ captured: 0 }); // the timer's view: not due yet
    expect(await reconcilePendingPayments(deps, admin, { sql: t.sql, all: true })).toMatchObject({ captured: 1 });
    await eventually(async () => expect(await reservationState(booked.reservationId)).toMatchObject({ status: 'confirmed', depositPaidKrw: 50_000 }));
  });


  it('a payment the gateway cannot settle is parked for a person with what the gateway knows; an admin retries or resolves it, each resolution an event', async () => {
    const parking = await startProcessManagers({
      store,
      sql: t.sql,
      payments,
      clock,
      timerIntervalMs: 0,
      paymentCheckDelayMs: 0,
      maxPaymentChecks: 3,
      groupName: `pm-stuck-${uid()}`,
      groupSettings: { checkpointAfterMs: 50 },
    });
    const admin = commandMetadata({ actor: { id: 'admin-1', role: 'admin' } });
    try {
      const clinicId = await registerClinic();
      const a = await book(clinicId);
      const b = await book(clinicId);
      const payA = depositPaymentId(a.reservationId);
      const payB = depositPaymentId(b.reservationId);
      // Each patient authorized a card, and the confirm never reached the gateway: IN_PROGRESS for ever.
      const attemptA = await authorize(payA, APPROVE);
      await authorize(payB, APPROVE);
      await eventually(async () => expect(await t.sql`select 1 from pm_pending_payments where payment_id in (${payA}, ${payB})`).toHaveLength(2));

      for (let check = 0; check < 3; check++) {
        clock.advanceMinutes(61);
        await parking.reconcilePayments();
      }
      const stuck = await stuckPayments(t.sql);
      const ids = stuck.map((p) => p.paymentId);
      expect(ids).toEqual(expect.arrayContaining([payA, payB]));
      expect(stuck.find((p) => p.paymentId === payA)).toMatchObject({ checks: 3, gateway: { paymentKey: attemptA.paymentKey, status: 'IN_PROGRESS', totalAmount: 50_000 } });
      // Parked: the timer no longer asks (and never dropped it).
      clock.advanceMinutes(600);
      expect(await parking.reconcilePayments()).toMatchObject({ checked: 0 });

      // Only an admin decides.
      await expect(retryStuckPayment(deps, { paymentId: payA }, commandMetadata({ actor: patientActor(a.patientId) }), { sql: t.sql })).rejects.toBeInstanceOf(ForbiddenError);
      await expect(resolveStuckPayment(deps, { paymentId: payB, note: 'x' }, commandMetadata({ actor: { id: 's', role: 'staff' }, clinicId }), { sql: t.sql })).rejects.toBeInstanceOf(ForbiddenError);

      // A: the patient's confirm did reach the gateway after all; the retry finds the charge and records it.
      await sandbox.confirm({ paymentKey: attemptA.paymentKey, orderId: payA, amount: 50_000 });
      expect(await retryStuckPayment(deps, { paymentId: payA }, admin, { sql: t.sql })).toMatchObject({ outcome: 'captured' });
      await eventually(async () => expect(await reservationState(a.reservationId)).toMatchObject({ status: 'confirmed', depositPaidKrw: 50_000 }));

      // B: nothing was charged; the admin closes it, with a note, as an event they are the actor of.
      expect(await resolveStuckPayment(deps, { paymentId: payB, note: 'patient phoned: paid at the desk instead' }, admin, { sql: t.sql })).toMatchObject({ outcome: 'failed' });
      const closed = (await read(streams.payment(payB))).at(-1)!;
      expect(closed).toMatchObject({ type: 'PaymentFailed', metadata: { actor: { id: 'admin-1', role: 'admin' } } });
      expect((closed.data as { reason: string }).reason).toContain('paid at the desk instead');
      expect((await stuckPayments(t.sql)).map((p) => p.paymentId)).not.toEqual(expect.arrayContaining([payA]));
      expect((await stuckPayments(t.sql)).map((p) => p.paymentId)).not.toEqual(expect.arrayContaining([payB]));
    } finally {
      await parking.stop();
      clock.set(SUNDAY_9);
    }
  });
});
