/**
 * The deposit checkout's reads, for the patient who owes the deposit (anyone else: 403).
 * The payment itself comes fresh from its stream through `depositCheckout` (lib/commands/payment.ts:
 * no read-model lag between a card attempt and the next page, and the gateway's view of the order,
 * so an attempt whose outcome we have not recorded reads `pending`); the order's wording (clinic,
 * treatment, slot) comes from the read models.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { headers } from 'next/headers';
import { forbidden } from 'next/navigation';
import { requireUser } from '../auth/guard';
import type { SessionUser } from '../auth/roles';
import { depositCheckout, depositPaymentId, ForbiddenError, userCommandMetadata, type DepositCheckout } from '../commands';
import { db } from '../db/client';
import { clinics } from '../db/schema';
import { NotFoundError } from '../domain';
import { SANDBOX_TEST_CARDS, type SandboxScenario } from '../payments/sandbox';
import { rmReservations } from '../projections/schema';
import { appCommandDeps } from '../runtime/command-deps';
import { requestOrigin } from '../runtime/request-origin';

export interface CheckoutReservation {
  id: string;
  treatmentName: string;
  startsAt: Date;
  status: string;
  bookingMode: string;
  depositDueKrw: number;
  depositPaidKrw: number;
}

export interface CheckoutView extends DepositCheckout {
  reservation: CheckoutReservation | null;
  clinic: { id: string; nameKo: string; nameEn: string } | null;
}

const checkoutPath = (paymentId: string) => `/checkout/${encodeURIComponent(paymentId)}`;

async function reservationOf(reservationId: string | null | undefined, me: SessionUser) {
  if (!reservationId) return { reservation: null, clinic: null };
  const [row] = await db()
    .select({ r: rmReservations, clinic: { id: clinics.id, nameKo: clinics.nameKo, nameEn: clinics.nameEn } })
    .from(rmReservations)
    .leftJoin(clinics, eq(clinics.id, rmReservations.clinicId))
    .where(eq(rmReservations.id, reservationId))
    .limit(1);
  if (!row) return { reservation: null, clinic: null };
  if (row.r.patientId !== me.id) forbidden();
  const r = row.r;
  const reservation: CheckoutReservation = {
    id: r.id,
    treatmentName: r.treatmentName,
    startsAt: r.startsAt,
    status: r.status,
    bookingMode: r.bookingMode,
    depositDueKrw: r.depositDueKrw,
    depositPaidKrw: r.depositPaidKrw,
  };
  return { reservation, clinic: row.clinic };
}

/**
 * The checkout of one deposit payment for the signed-in patient: 403 when it is someone else's,
 * null when there is no such payment (yet: the process manager requests it after the booking).
 */
export async function checkoutView(paymentId: string, user?: SessionUser): Promise<CheckoutView | null> {
  const me = user ?? (await requireUser({ roles: ['patient'], callbackUrl: checkoutPath(paymentId) }));
  let checkout: DepositCheckout;
  try {
    checkout = await depositCheckout(await appCommandDeps(), paymentId, userCommandMetadata(me, requestOrigin(await headers())));
  } catch (error) {
    if (error instanceof ForbiddenError) forbidden();
    if (error instanceof NotFoundError) return null;
    throw error;
  }
  return { ...checkout, ...(await reservationOf(checkout.reservationId, me)) };
}

export interface ReservationDeposit {
  reservationId: string;
  status: string;
  depositDueKrw: number;
  depositPaidKrw: number;
  /** The deposit payment, once the process manager has requested it. */
  paymentId: string | null;
}

/**
 * A reservation's deposit, for its patient (403 for anyone else; null when the read model has no
 * such reservation). With `waitMs`, waits (bounded) until the deposit payment exists: the process
 * manager requests it when it sees ReservationRequested.
 */
export async function reservationDeposit(reservationId: string, options: { waitMs?: number } = {}): Promise<ReservationDeposit | null> {
  const me = await requireUser({ roles: ['patient'], callbackUrl: `/checkout/reservation/${encodeURIComponent(reservationId)}` });
  const { reservation } = await reservationOf(reservationId, me);
  if (!reservation) return null;
  const base = { reservationId, status: reservation.status, depositDueKrw: reservation.depositDueKrw, depositPaidKrw: reservation.depositPaidKrw };
  if (reservation.depositDueKrw <= 0) return { ...base, paymentId: null };
  const paymentId = depositPaymentId(reservationId);
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    if (await checkoutView(paymentId, me)) return { ...base, paymentId };
    if (Date.now() >= deadline) return { ...base, paymentId: null };
    await sleep(150);
  }
}

/**
 * After a captured deposit the process manager records it on the reservation (which confirms an
 * instant booking): wait (bounded) until the reservation's read model shows it, so the page can say
 * what the payment did.
 */
export async function waitForDepositRecorded(view: CheckoutView, timeoutMs = 5000): Promise<CheckoutView> {
  const deadline = Date.now() + timeoutMs;
  let current = view;
  while (current.reservation && current.reservation.depositPaidKrw < current.reservation.depositDueKrw && Date.now() < deadline) {
    await sleep(150);
    current = (await checkoutView(view.paymentId)) ?? current;
  }
  return current;
}

/**
 * The sandbox's test cards, as the checkout lists them (a PG's test mode documents its cards the
 * same way); none with a real PG. `outcome` is the sandbox scenario.
 */
export async function checkoutTestCards(): Promise<Array<{ number: string; outcome: SandboxScenario }>> {
  const { payments } = await appCommandDeps();
  if (payments?.provider !== 'sandbox') return [];
  return Object.entries(SANDBOX_TEST_CARDS).map(([digits, card]) => ({ number: digits.replace(/(\d{4})(?=\d)/g, '$1 '), outcome: card.scenario }));
}
