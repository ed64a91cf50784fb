/**
 * The payment deadline of pay-and-book reservations (issue 8, "abandoned checkouts cannot block a
 * day"): a reservation still waiting for its deposit `paymentDeadlineMinutes` (clinic setting,
 * default 30) after it was requested is cancelled, which releases its slot, and its open deposit
 * payments are closed, so a charge that still lands on one is voided.
 *
 * Like the hold-expiry timer: the rows (pm_payment_deadlines) are derived from ReservationRequested,
 * the timer reads one indexed range per tick, and every step is idempotent with a command id derived
 * from the reservation, so a crash or two workers running the timer at once change nothing.
 */
import type postgres from 'postgres';
import { DomainError, payment, reservation, streams } from '../domain';
import { clinicSettingsOf } from '../domain/clinic';
import type { ActivePayment } from '../domain/payment';
import type { ActiveReservation } from '../domain/reservation';
import { depositPaymentIdsOf } from './reactions';
import { cancelReservation, failPayment, loadStream, nowOf, reconcilePayment, SYSTEM_ACTOR, type CommandDeps, type CommandMetadata } from '../commands';

/** The clinic's deadline (clinic settings, default 30 minutes when the clinic set none). */
export function paymentDeadlineMinutesOf(clinic: Parameters<typeof clinicSettingsOf>[0]): number {
  return clinicSettingsOf(clinic).paymentDeadlineMinutes;
}

export interface DeadlineResult {
  /** Reservations past their deadline that were looked at. */
  due: number;
  /** Cancelled for want of the deposit. */
  cancelled: number;
  /** Paid after all (the gateway had the charge): kept. */
  paid: number;
}

function deadlineMeta(reservationId: string, step: string): CommandMetadata {
  const commandId = `payment-deadline:${reservationId}/${step}`;
  return { actor: SYSTEM_ACTOR, clinicId: null, ip: null, userAgent: null, commandId, correlationId: `payment-deadline:${reservationId}`, causationId: `payment-deadline:${reservationId}` };
}

const waitsForDeposit = (r: ActiveReservation) => (r.status === 'requested' || r.status === 'confirmed') && r.depositPaidKrw < r.depositDueKrw;

export async function expireUnpaidReservations(options: {
  deps: CommandDeps;
  sql: postgres.Sql;
  onError?: (error: unknown) => void;
  limit?: number;
}): Promise<DeadlineResult> {
  const { deps, sql } = options;
  const now = nowOf(deps);
  const result: DeadlineResult = { due: 0, cancelled: 0, paid: 0 };
  const rows = await sql<{ reservation_id: string }[]>`
    select reservation_id from pm_payment_deadlines where deadline_at <= ${now.toISOString()}::timestamptz order by deadline_at limit ${options.limit ?? 100}`;
  for (const { reservation_id: reservationId } of rows) {
    result.due += 1;
    try {
      const loaded = await loadStream(deps.store, reservation.reservationDecider, streams.reservation(reservationId));
      const r = loaded.state.status === 'none' ? null : (loaded.state as ActiveReservation);
      if (!r || !waitsForDeposit(r)) {
        await sql`delete from pm_payment_deadlines where reservation_id = ${reservationId}`;
        continue;
      }
      // Ask the gateway first: money it has taken is recorded (and then confirms the booking), never cancelled away.
      const open: string[] = [];
      let paid = false;
      for (const paymentId of await depositPaymentIdsOf(sql, reservationId)) {
        const p = (await loadStream(deps.store, payment.paymentDecider, streams.payment(paymentId))).state;
        if (p.status === 'none') continue;
        const status = (p as ActivePayment).status;
        if (status === 'captured') paid = true;
        if (status !== 'requested' && status !== 'authorized') continue;
        if (deps.payments) {
          const reconciled = await reconcilePayment(deps, paymentId, deadlineMeta(reservationId, `reconcile:${paymentId}`));
          if (reconciled.outcome === 'captured') {
            paid = true;
            continue;
          }
        }
        open.push(paymentId);
      }
      if (paid) {
        // The process managers record the deposit on the reservation (PaymentCaptured).
        result.paid += 1;
        await sql`delete from pm_payment_deadlines where reservation_id = ${reservationId}`;
        continue;
      }
      // Cancel first (fees waived: the clinic's rule cancelled it), then close the payments: a
      // PaymentFailed seen while the reservation still waited would otherwise look like a payment to ask again.
      try {
        await cancelReservation(
          deps,
          { reservationId, by: 'staff', reason: 'The deposit was not paid by the payment deadline.' },
          deadlineMeta(reservationId, 'cancel'),
        );
      } catch (error) {
        if (!(error instanceof DomainError)) throw error; // closed meanwhile (the patient cancelled): nothing to cancel
      }
      for (const paymentId of open) {
        try {
          await failPayment(deps, { paymentId, reason: 'The payment deadline passed; the reservation was cancelled.', providerCode: 'PAYMENT_DEADLINE' }, deadlineMeta(reservationId, `fail:${paymentId}`));
        } catch (error) {
          // Captured in the meantime: the reservation is closed, so it is refunded as a late deposit.
          if (!(error instanceof DomainError)) throw error;
        }
      }
      result.cancelled += 1;
      await sql`delete from pm_payment_deadlines where reservation_id = ${reservationId}`;
    } catch (error) {
      options.onError?.(error); // the row stays: the next tick tries again
    }
  }
  return result;
}
