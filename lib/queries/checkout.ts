/**
 * The deposit checkout's reads: the order a patient pays (their own payments only), what state the
 * payment is in (including "the gateway took an attempt whose outcome we have not recorded yet"),
 * and the reservation's payable deposit (the process manager requests it after ReservationRequested,
 * and again after a decline, so pages wait for it here rather than guessing its id).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { and, desc, eq } from 'drizzle-orm';
import { forbidden } from 'next/navigation';
import { requireUser } from '../auth/guard';
import type { SessionUser } from '../auth/roles';
import { orderIdOf } from '../commands/payment';
import { db } from '../db/client';
import { clinics } from '../db/schema';
import type { Payment as GatewayPayment } from '../payments/gateway';
import { SANDBOX_TEST_CARDS, type SandboxScenario } from '../payments/sandbox';
import { rmPayments, rmReservations } from '../projections/schema';
import { appCommandDeps } from '../runtime/command-deps';

export type CheckoutState =
  /** Waiting for a card. */
  | 'payable'
  /** The gateway has an attempt with an outcome our records do not show yet (a time-out): reconciliation settles it. */
  | 'checking'
  | 'paid'
  | 'declined'
  | 'refunded';

export interface CheckoutView {
  paymentId: string;
  orderId: string;
  amountKrw: number;
  vatKrw: number;
  status: string;
  state: CheckoutState;
  failureReason: string | null;
  reservation: {
    id: string;
    treatmentName: string;
    startsAt: Date;
    endsAt: Date;
    status: string;
    bookingMode: string;
    depositDueKrw: number;
    depositPaidKrw: number;
  } | null;
  clinic: { id: string; nameKo: string; nameEn: string } | null;
}

async function patient(callbackUrl: string): Promise<SessionUser> {
  return requireUser({ roles: ['patient'], callbackUrl });
}

/** What the gateway says about the order's attempts (null: no attempt reached confirm, or the gateway cannot say now). */
async function gatewayAttempt(orderId: string): Promise<GatewayPayment | null> {
  const { payments } = await appCommandDeps();
  if (!payments) return null;
  try {
    return await payments.gateway.getPaymentByOrderId(orderId);
  } catch {
    return null;
  }
}

function stateOf(status: string, gw: GatewayPayment | null): CheckoutState {
  if (status === 'captured') return 'paid';
  if (status === 'failed') return 'declined';
  if (status === 'refunded' || status === 'partially-refunded') return 'refunded';
  // requested / authorized: an attempt the gateway settled (charged or refused) that is not recorded
  // yet means a confirm whose answer was lost. Never offer to pay again then (docs/payments.md).
  if (gw && gw.status !== 'IN_PROGRESS') return 'checking';
  return 'payable';
}

/**
 * The checkout of one payment, for the patient who owes it: 403 for anyone else, null when the
 * read model has no such payment (yet).
 */
export async function checkoutView(paymentId: string, user?: SessionUser): Promise<CheckoutView | null> {
  const me = user ?? (await patient(`/checkout/${encodeURIComponent(paymentId)}`));
  const [row] = await db()
    .select({ payment: rmPayments, reservation: rmReservations, clinic: { id: clinics.id, nameKo: clinics.nameKo, nameEn: clinics.nameEn } })
    .from(rmPayments)
    .leftJoin(rmReservations, eq(rmReservations.id, rmPayments.reservationId))
    .leftJoin(clinics, eq(clinics.id, rmPayments.clinicId))
    .where(eq(rmPayments.id, paymentId))
    .limit(1);
  if (!row) return null;
  if (row.payment.patientId !== me.id || row.payment.purpose !== 'deposit') forbidden();
  const orderId = orderIdOf(paymentId);
  const open = row.payment.status === 'requested' || row.payment.status === 'authorized';
  const gw = open ? await gatewayAttempt(orderId) : null;
  const r = row.reservation;
  return {
    paymentId,
    orderId,
    amountKrw: row.payment.amountKrw,
    vatKrw: row.payment.vatKrw,
    status: row.payment.status,
    state: stateOf(row.payment.status, gw),
    failureReason: row.payment.failureReason,
    reservation: r
      ? {
          id: r.id,
          treatmentName: r.treatmentName,
          startsAt: r.startsAt,
          endsAt: r.endsAt,
          status: r.status,
          bookingMode: r.bookingMode,
          depositDueKrw: r.depositDueKrw,
          depositPaidKrw: r.depositPaidKrw,
        }
      : null,
    clinic: row.clinic,
  };
}

export interface ReservationDeposit {
  reservationId: string;
  status: string;
  depositDueKrw: number;
  depositPaidKrw: number;
  /** The deposit payment waiting for a card, if the process manager has requested one. */
  payablePaymentId: string | null;
  /** The newest deposit payment of any status. */
  latestPaymentId: string | null;
}

async function depositOf(reservationId: string, me: SessionUser): Promise<ReservationDeposit | null> {
  const [r] = await db().select().from(rmReservations).where(eq(rmReservations.id, reservationId)).limit(1);
  if (!r) return null;
  if (r.patientId !== me.id) forbidden();
  const payments = await db()
    .select({ id: rmPayments.id, status: rmPayments.status })
    .from(rmPayments)
    .where(and(eq(rmPayments.reservationId, reservationId), eq(rmPayments.purpose, 'deposit')))
    .orderBy(desc(rmPayments.requestedAt));
  return {
    reservationId,
    status: r.status,
    depositDueKrw: r.depositDueKrw,
    depositPaidKrw: r.depositPaidKrw,
    payablePaymentId: payments.find((p) => p.status === 'requested' || p.status === 'authorized')?.id ?? null,
    latestPaymentId: payments[0]?.id ?? null,
  };
}

/**
 * The reservation's deposit, for its patient (403 for anyone else; null if the read model has no
 * such reservation). With `waitMs`, waits (bounded) until a deposit payment is requested: the
 * process manager asks for it after ReservationRequested or after a decline.
 */
export async function reservationDeposit(reservationId: string, options: { waitMs?: number } = {}): Promise<ReservationDeposit | null> {
  const me = await patient(`/checkout/reservation/${encodeURIComponent(reservationId)}`);
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    const deposit = await depositOf(reservationId, me);
    const settled = !deposit || deposit.payablePaymentId || deposit.depositPaidKrw >= deposit.depositDueKrw || deposit.status !== 'requested';
    if (settled || Date.now() >= deadline) return deposit;
    await sleep(150);
  }
}

/**
 * After a captured deposit, the process manager records it on the reservation (which confirms an
 * instant booking): wait (bounded) until the reservation shows it, so the page says what happened.
 */
export async function waitForDepositRecorded(view: CheckoutView, timeoutMs = 5000): Promise<CheckoutView> {
  const deadline = Date.now() + timeoutMs;
  let current = view;
  while (current.state === 'paid' && current.reservation && current.reservation.depositPaidKrw < current.reservation.depositDueKrw && Date.now() < deadline) {
    await sleep(150);
    current = (await checkoutView(view.paymentId)) ?? current;
  }
  return current;
}

/**
 * The sandbox's test cards, as the checkout lists them (a PG's test mode documents its cards the
 * same way). Empty with a real PG. `outcome` is the sandbox scenario.
 */
export async function checkoutTestCards(): Promise<Array<{ number: string; outcome: SandboxScenario }>> {
  const { payments } = await appCommandDeps();
  if (payments?.provider !== 'sandbox') return [];
  return Object.entries(SANDBOX_TEST_CARDS).map(([digits, card]) => ({ number: digits.replace(/(\d{4})(?=\d)/g, '$1 '), outcome: card.scenario }));
}
