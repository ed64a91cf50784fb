/**
 * What the process managers do for each event they follow (docs/commands.md, "Process managers").
 * Every reaction is one or more commands whose ids derive from the triggering event's id
 * (`followUpMetadata(event, '<reaction>')`), so a redelivered event sends the same commands again,
 * which append nothing: reactions are idempotent and can run any number of times.
 */
import type postgres from 'postgres';
import { DomainError, NotFoundError, payment, vatPortion, reservation, streams, upcastAny, visit, type AnyDomainEvent } from '../domain';
import type { ActivePayment } from '../domain/payment';
import { refundable, unapplied } from '../domain/payment';
import type { ActiveReservation } from '../domain/reservation';
import { depositCreditKrw, lateDepositRefundKrw, ReservationClosedError } from '../domain/reservation';
import type { ActiveVisit } from '../domain/visit';
import { comparePositions, type RecordedEvent } from '../eventstore';
import { dropPending, PAYMENT_CHECK_DELAY_MS, trackPayment } from '../payments/reconciliation';
import {
  applyDeposit,
  billPaymentId,
  cancelReservation,
  completeReservation,
  confirmHold,
  depositPaymentId,
  derivedId,
  followUpMetadata,
  loadClinic,
  loadStream,
  orderIdOf,
  recordDepositPaid,
  refundPayment,
  releaseHold,
  requestDeposit,
  requestPayment,
  type CommandDeps,
} from '../commands';
import { paymentDeadlineMinutesOf } from './deadlines';

/** Every deposit payment of a reservation (pm_deposit_payments), its first one always included. */
export async function depositPaymentIdsOf(sql: postgres.Sql, reservationId: string): Promise<string[]> {
  const rows = await sql<{ payment_id: string }[]>`
    select payment_id from pm_deposit_payments where reservation_id = ${reservationId} order by requested_at, payment_id`;
  const ids = rows.map((r) => r.payment_id);
  const first = depositPaymentId(reservationId);
  return ids.includes(first) ? ids : [first, ...ids];
}

/** The event types the process managers react to (the persistent group's filter). */
export const PROCESS_MANAGER_EVENT_TYPES = [
  'SlotHeld',
  'HoldConfirmed',
  'SlotReleased',
  'ReservationRequested',
  'ReservationRescheduled',
  'ReservationCancelled',
  'ReservationRejected',
  'NoShowRecorded',
  'PaymentRequested',
  'PaymentCaptured',
  'PaymentFailed',
  'PatientDischarged',
] as const;

export interface ReactionOptions {
  deps: CommandDeps;
  /** The application database (pm_pending_holds, pm_pending_payments). */
  sql: postgres.Sql;
  /** Delay before the reconciliation timer first asks the gateway about a requested deposit (default 2 min). */
  paymentCheckDelayMs?: number;
}

/** A deposit money captured after its reservation closed, and where it sits in the log (fees go to the earliest first). */
interface LateDeposit {
  readonly paymentId: string;
  readonly capturedKrw: number;
  readonly capturedAt: RecordedEvent['position'];
}

type Of<T extends AnyDomainEvent['type']> = Extract<AnyDomainEvent, { type: T }>['data'];

export function createReactions({ deps, sql, paymentCheckDelayMs = PAYMENT_CHECK_DELAY_MS }: ReactionOptions) {
  async function loadReservation(reservationId: string): Promise<ActiveReservation | null> {
    const loaded = await loadStream(deps.store, reservation.reservationDecider, streams.reservation(reservationId));
    return loaded.state.status === 'none' ? null : (loaded.state as ActiveReservation);
  }

  /**
   * Refunds `amountKrw` of a reservation's deposit across its captured payments (normally one),
   * each refund with an id derived from the triggering event and the payment, so a redelivery
   * neither refunds twice nor refunds a different amount.
   */
  async function refundDeposit(event: RecordedEvent, reservationId: string, amountKrw: number, reason: string): Promise<void> {
    if (amountKrw <= 0) return;
    const r = await loadReservation(reservationId);
    if (!r) throw new NotFoundError('reservation', { reservationId });
    let remaining = amountKrw;
    for (const paymentId of r.paymentIds) {
      if (remaining <= 0) break;
      const refundId = derivedId('refund', event.eventId, paymentId);
      const loaded = await loadStream(deps.store, payment.paymentDecider, streams.payment(paymentId));
      if (loaded.state.status === 'none') continue;
      const done = loaded.events.find((e) => e.type === 'PaymentRefunded' && (e.data as { refundId: string }).refundId === refundId);
      if (done) {
        remaining -= (done.data as { amountKrw: number }).amountKrw;
        continue;
      }
      // Never the part applied to a bill (that paid a sale).
      const amount = Math.min(remaining, unapplied(loaded.state as ActivePayment));
      if (amount <= 0) continue;
      await refundPayment(deps, { paymentId, refundId, amountKrw: amount, reason }, followUpMetadata(event, `refund:${paymentId}`));
      remaining -= amount;
    }
    if (remaining > 0) throw new Error(`refund of ${amountKrw} KRW for reservation ${reservationId}: ${remaining} KRW found no captured payment to refund`);
  }

  /** The reservation's deposit payments captured but not recorded on it (it had closed), with the position of their capture. */
  async function lateDepositsOf(reservationId: string, recorded: readonly string[]): Promise<LateDeposit[]> {
    const late: LateDeposit[] = [];
    for (const paymentId of await depositPaymentIdsOf(sql, reservationId)) {
      if (recorded.includes(paymentId)) continue;
      const loaded = await loadStream(deps.store, payment.paymentDecider, streams.payment(paymentId));
      const captured = loaded.events.find((e) => e.type === 'PaymentCaptured');
      if (loaded.state.status === 'none' || !captured) continue;
      late.push({ paymentId, capturedKrw: (loaded.state as ActivePayment).capturedKrw, capturedAt: captured.position });
    }
    return late;
  }

  async function onReservationRequested(event: RecordedEvent, d: Of<'ReservationRequested'>): Promise<void> {
    // Safety net for a booking that crashed after recording the reservation: confirm its hold
    // (a no-op when the booking did). If the hold expired meanwhile, the reservation has no seat:
    // cancel it (nothing was paid yet; the deposit is only asked below).
    try {
      await confirmHold(deps, { clinicId: d.clinicId, day: d.day, holdId: d.holdId, reservationId: d.reservationId }, followUpMetadata(event, 'confirm-hold'));
    } catch (error) {
      // Released already: by a cancellation, rejection or reschedule handled since (a redelivery), nothing to do;
      // by expiry, see below. Never held at all: an inconsistency, parked for a human.
      if (!(error instanceof NotFoundError) || !error.details.released) throw error;
      if (error.details.released !== 'expired') return;
      const r = await loadReservation(d.reservationId);
      if (r && r.holdId === d.holdId && (r.status === 'requested' || r.status === 'confirmed')) {
        await cancelReservation(
          deps,
          { reservationId: d.reservationId, by: 'staff', reason: 'The held time expired before the booking was completed.' },
          followUpMetadata(event, 'void'),
        );
      }
      return;
    }
    if (d.kind === 'pay-and-book' && d.depositDueKrw > 0) {
      // The payment deadline (clinic setting): unpaid by then, the reservation is cancelled and its slot released.
      const clinic = await loadClinic(deps, d.clinicId);
      const deadline = new Date(new Date(event.metadata.occurredAt).getTime() + paymentDeadlineMinutesOf(clinic) * 60_000);
      await sql`
        insert into pm_payment_deadlines (reservation_id, clinic_id, deadline_at)
        values (${d.reservationId}, ${d.clinicId}, ${deadline.toISOString()}::timestamptz)
        on conflict (reservation_id) do nothing`;
    }
    if (d.depositDueKrw > 0) {
      await requestDeposit(
        deps,
        {
          paymentId: depositPaymentId(d.reservationId),
          reservationId: d.reservationId,
          clinicId: d.clinicId,
          patientId: d.patientId,
          amountKrw: d.depositDueKrw,
          orderName: `${d.treatmentName} deposit`,
        },
        followUpMetadata(event, 'request-deposit'),
      );
    }
  }

  async function onPaymentCaptured(event: RecordedEvent, d: Of<'PaymentCaptured'>): Promise<void> {
    await dropPending(sql, d.paymentId);
    const loaded = await loadStream(deps.store, payment.paymentDecider, streams.payment(d.paymentId));
    if (loaded.state.status === 'none') return;
    const p = loaded.state as ActivePayment;
    if (p.purpose !== 'deposit' || !p.reservationId) return;
    try {
      await recordDepositPaid(deps, { reservationId: p.reservationId, paymentId: d.paymentId, amountKrw: d.amountKrw }, followUpMetadata(event, 'record-deposit'));
    } catch (error) {
      if (!(error instanceof ReservationClosedError)) throw error;
      // Paid after the reservation closed (cancelled or rejected while the patient was paying):
      // the money goes back minus the fees the frozen policy says are due for how it closed
      // (a late patient cancellation's fee, late reschedules'; none after a staff cancellation or a rejection).
      const refundId = derivedId('refund', event.eventId, d.paymentId);
      if (p.refundIds.includes(refundId) || refundable(p) <= 0) return;
      const r = await loadReservation(p.reservationId);
      if (!r) throw new NotFoundError('reservation', { reservationId: p.reservationId });
      // The fees still due are owed once across all of the reservation's payments: late deposits
      // captured before this one (in log order, whatever order they are handled in) covered them first.
      const earlier = (await lateDepositsOf(r.reservationId, r.paymentIds)).filter(
        (late) => late.paymentId !== d.paymentId && comparePositions(late.capturedAt, event.position) < 0,
      );
      const coveredKrw = earlier.reduce((sum, late) => sum + late.capturedKrw, 0);
      const amountKrw = lateDepositRefundKrw({ ...r, depositPaidKrw: r.depositPaidKrw + coveredKrw }, refundable(p));
      if (amountKrw <= 0) return;
      const withheld = refundable(p) - amountKrw;
      await refundPayment(
        deps,
        {
          paymentId: d.paymentId,
          refundId,
          amountKrw,
          reason: withheld > 0 ? `Deposit paid after the reservation was closed (fees ${withheld} KRW withheld)` : 'Deposit paid after the reservation was closed',
        },
        followUpMetadata(event, 'refund-late-deposit'),
      );
    }
  }

  /**
   * A failed payment is closed for good: a decline fails only its attempt (the payment stays payable),
   * so a payment fails when its reservation's payment deadline passed or an administrator resolved it,
   * and neither asks for money again. The reconciliation looks once more, later, so a charge that still
   * landed on it (a confirm in flight) is voided even if nobody asks.
   */
  async function onPaymentFailed(event: RecordedEvent, d: Of<'PaymentFailed'>): Promise<void> {
    const failedAt = new Date(event.metadata.occurredAt);
    await trackPayment(
      sql,
      { paymentId: d.paymentId, orderId: orderIdOf(d.paymentId), requestedAt: failedAt, nextCheckAt: new Date(failedAt.getTime() + paymentCheckDelayMs) },
      true,
    );
  }

  /**
   * Applies `amountKrw` of the reservation's captured deposits to the visit's sale, with `vatKrw` of
   * its VAT, across the deposit payments in order (normally one); the last part takes the VAT's remainder.
   */
  async function applyDeposits(event: RecordedEvent, r: ActiveReservation, visitId: string, amountKrw: number, vatKrw: number): Promise<void> {
    let remaining = amountKrw;
    let vatLeft = vatKrw;
    for (const paymentId of r.paymentIds) {
      if (remaining <= 0) break;
      const loaded = await loadStream(deps.store, payment.paymentDecider, streams.payment(paymentId));
      if (loaded.state.status === 'none') continue;
      const p = loaded.state as ActivePayment;
      const part = p.applied?.visitId === visitId ? p.applied.amountKrw : Math.min(remaining, unapplied(p));
      if (part <= 0) continue;
      const partVat = part === remaining ? vatLeft : Math.min(vatLeft, Math.round((vatKrw * part) / amountKrw));
      await applyDeposit(deps, { paymentId, visitId, amountKrw: part, vatKrw: partVat }, followUpMetadata(event, `apply-deposit:${paymentId}`));
      remaining -= part;
      vatLeft -= partVat;
    }
    if (remaining > 0) throw new Error(`deposit of ${amountKrw} KRW for visit ${visitId}: ${remaining} KRW found no captured deposit to apply`);
  }

  /**
   * The sale at discharge (docs/payments.md, "The bill"): the first discharge completes the reservation,
   * applies the deposit (minus the fees due, which it pays first) to the lines sold, refunds what is
   * left of it, and asks the bill for the rest; an amendment (a discharge after a reverted one) bills
   * the lines added since under its own payment id. VAT is the lines' (per line), split between the
   * deposit applied and the bill in proportion, so the two never round separately.
   */
  async function onPatientDischarged(event: RecordedEvent, d: Of<'PatientDischarged'>): Promise<void> {
    const loaded = await loadStream(deps.store, visit.visitDecider, streams.visit(d.visitId));
    if (loaded.state.status === 'none') throw new NotFoundError('visit', { visitId: d.visitId });
    const v = loaded.state as ActiveVisit;
    let appliedKrw = 0;
    let appliedVatKrw = 0;
    let completionError: unknown = null;
    // A discharge stored as v1 (before lines and amendments) keeps its old handling when replayed:
    // the bill as it was asked then, and no deposit applied or refunded after the fact.
    const legacy = event.schemaVersion < 2;
    if (legacy && v.reservationId) {
      const done = await completeReservation(deps, { reservationId: v.reservationId }, followUpMetadata(event, 'complete-reservation'));
      appliedKrw = Math.min(d.billedKrw, depositCreditKrw(done.state as ActiveReservation));
      appliedVatKrw = d.vatKrw - vatPortion(d.billedKrw - appliedKrw);
    } else if (v.reservationId && d.amendment === 0) {
      let r: ActiveReservation | null = null;
      try {
        r = (await completeReservation(deps, { reservationId: v.reservationId }, followUpMetadata(event, 'complete-reservation'))).state as ActiveReservation;
      } catch (error) {
        // The bill is asked all the same (without a deposit credit: the reservation is not this visit's
        // to settle); the refusal is rethrown afterwards, so a person sees it on the parked messages.
        if (!(error instanceof DomainError)) throw error;
        completionError = error;
      }
      if (r && r.visitId === d.visitId) {
        const creditKrw = depositCreditKrw(r);
        appliedKrw = Math.min(creditKrw, d.billedKrw);
        appliedVatKrw = d.billedKrw > 0 ? Math.round((d.vatKrw * appliedKrw) / d.billedKrw) : 0;
        if (appliedKrw > 0) await applyDeposits(event, r, d.visitId, appliedKrw, appliedVatKrw);
        // A deposit larger than the bill: the rest goes back (the fees due stay withheld).
        await refundDeposit(event, r.reservationId, creditKrw - appliedKrw, 'Deposit above the final bill');
      }
    }
    const dueKrw = d.billedKrw - appliedKrw;
    if (dueKrw > 0) {
      await requestPayment(
        deps,
        {
          paymentId: billPaymentId(d.visitId, d.amendment),
          clinicId: v.clinicId,
          patientId: v.patientId,
          purpose: 'bill',
          visitId: d.visitId,
          amountKrw: dueKrw,
          vatKrw: d.vatKrw - appliedVatKrw,
        },
        followUpMetadata(event, 'request-bill'),
      );
    }
    if (completionError) throw completionError;
  }

  /** Whether the hold placed by `held` (a SlotHeld) was confirmed or released later in its day stream. */
  async function settledAfter(held: RecordedEvent, holdId: string): Promise<boolean> {
    const later = await deps.store.readStream(held.streamId, { fromRevision: held.revision + 1 });
    return later.some((e) => (e.type === 'HoldConfirmed' || e.type === 'SlotReleased') && (e.data as { holdId?: unknown }).holdId === holdId);
  }

  /** Handles one event; throws when it should be retried (or parked, for a DomainError). */
  async function react(event: RecordedEvent): Promise<void> {
    if (!(PROCESS_MANAGER_EVENT_TYPES as readonly string[]).includes(event.type)) return;
    const e = upcastAny({ type: event.type, schemaVersion: event.schemaVersion, data: event.data });
    switch (e.type) {
      case 'SlotHeld': {
        const d = e.data;
        await sql`
          insert into pm_pending_holds (stream_id, hold_id, clinic_id, day, reservation_id, expires_at)
          values (${event.streamId}, ${d.holdId}, ${d.clinicId}, ${d.day}, ${d.reservationId}, ${new Date(d.expiresAt).toISOString()}::timestamptz)
          on conflict (stream_id, hold_id) do nothing`;
        // A SlotHeld redelivered (after a worker was killed, in any order) may come after its hold's
        // HoldConfirmed or SlotReleased was handled and deleted the row: the insert above put back a row
        // for a hold that no longer expires. The day stream says whether it was settled since; only
        // events after this one can say so (a hold id is held once), so only the stream's tail is read.
        // Insert first, look second: a settlement appended after the look is handled after the insert
        // and deletes the row; one appended before it is seen here. No order of handling leaves a row.
        if (await settledAfter(event, d.holdId)) {
          await sql`delete from pm_pending_holds where stream_id = ${event.streamId} and hold_id = ${d.holdId}`;
        }
        return;
      }
      case 'HoldConfirmed':
      case 'SlotReleased':
        await sql`delete from pm_pending_holds where stream_id = ${event.streamId} and hold_id = ${e.data.holdId}`;
        return;
      case 'ReservationRequested':
        return onReservationRequested(event, e.data);
      case 'ReservationRescheduled': {
        // The rescheduling command does both; this finishes them if it crashed half-way.
        const d = e.data;
        const r = await loadReservation(d.reservationId);
        if (r && r.holdId === d.holdId && (r.status === 'requested' || r.status === 'confirmed')) {
          try {
            await confirmHold(deps, { clinicId: r.clinicId, day: d.day, holdId: d.holdId, reservationId: d.reservationId }, followUpMetadata(event, 'confirm-hold'));
          } catch (error) {
            if (!(error instanceof NotFoundError) || !error.details.released) throw error;
          }
        }
        if (r && d.previousHoldId !== d.holdId) {
          await releaseHold(deps, { clinicId: r.clinicId, day: d.previousDay, holdId: d.previousHoldId, reason: 'rescheduled' }, followUpMetadata(event, 'release-hold'));
        }
        return;
      }
      case 'ReservationCancelled': {
        const d = e.data;
        const r = await loadReservation(d.reservationId);
        if (!r) throw new NotFoundError('reservation', { reservationId: d.reservationId });
        await releaseHold(deps, { clinicId: r.clinicId, day: d.day, holdId: d.holdId, reason: 'cancelled' }, followUpMetadata(event, 'release-hold'));
        await refundDeposit(event, d.reservationId, d.refundDueKrw, d.late ? `Cancellation refund (late fee ${d.feeKrw} KRW withheld)` : 'Cancellation refund');
        return;
      }
      case 'ReservationRejected': {
        const d = e.data;
        const r = await loadReservation(d.reservationId);
        if (!r) throw new NotFoundError('reservation', { reservationId: d.reservationId });
        await releaseHold(deps, { clinicId: r.clinicId, day: r.day, holdId: r.holdId, reason: 'rejected' }, followUpMetadata(event, 'release-hold'));
        await refundDeposit(event, d.reservationId, d.refundDueKrw, 'Reservation rejected by the clinic');
        return;
      }
      case 'NoShowRecorded':
        // The slot's time has passed: nothing to release. The frozen policy decided what is forfeited.
        return refundDeposit(event, e.data.reservationId, e.data.refundDueKrw, 'No-show: deposit not forfeited under the policy');
      case 'PaymentRequested': {
        const d = e.data;
        if (d.purpose !== 'deposit' || !d.reservationId) return;
        const requestedAt = new Date(event.metadata.occurredAt);
        await sql`
          insert into pm_deposit_payments (payment_id, reservation_id, requested_at)
          values (${d.paymentId}, ${d.reservationId}, ${requestedAt.toISOString()}::timestamptz)
          on conflict (payment_id) do nothing`;
        await trackPayment(sql, { paymentId: d.paymentId, orderId: orderIdOf(d.paymentId), requestedAt, nextCheckAt: new Date(requestedAt.getTime() + paymentCheckDelayMs) });
        return;
      }
      case 'PaymentCaptured':
        return onPaymentCaptured(event, e.data);
      case 'PaymentFailed':
        return onPaymentFailed(event, e.data);
      case 'PatientDischarged':
        return onPatientDischarged(event, e.data);
      default:
        return;
    }
  }

  return { react, refundDeposit };
}
