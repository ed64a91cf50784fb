import { requireBookableTreatment } from '../clinic/decide';
import { assertNoShowGraceOver, bookingTerms, checkBookable } from '../clinic/rules';
import type { RegisteredClinic } from '../clinic/state';
import { AlreadyExistsError, InvalidTransitionError, NotFoundError } from '../shared/errors';
import { plain } from '../patient/personal';
import { iso, isBefore, minutesBetween } from '../shared/time';
import type { ReservationCommand } from './commands';
import { ClinicMismatchError, NoShowBeforeStartError, ReservationClosedError, StartPassedError } from './errors';
import { reservationEvent as ev, type ReservationEvent } from './events';
import { CLOSED_STATUSES, type ActiveReservation, type ReservationState, type ReservationStatus } from './state';

export interface ReservationContext {
  readonly now: Date;
  /**
   * The clinic catalogue (clinic-<clinicId> folded), needed by RequestReservation (treatment, price,
   * deposit, booking mode, policy, opening hours), RescheduleReservation (opening hours, slots) and
   * RecordNoShow (the grace period, `noShowGraceMinutes`).
   */
  readonly clinic?: RegisteredClinic;
}

function active(state: ReservationState): ActiveReservation {
  if (state.status === 'none') throw new NotFoundError('reservation');
  return state as ActiveReservation;
}

/** Refuses unless the reservation is in one of `allowed`; closed reservations get ReservationClosedError. */
function requireStatus(r: ActiveReservation, action: string, allowed: readonly ReservationStatus[]): void {
  if (allowed.includes(r.status)) return;
  const details = { reservationId: r.reservationId, status: r.status, action };
  if (CLOSED_STATUSES.includes(r.status)) throw new ReservationClosedError(details);
  throw new InvalidTransitionError('reservation', action, r.status, { reservationId: r.reservationId });
}

function requireClinic(context: ReservationContext, clinicId: string): RegisteredClinic {
  if (!context.clinic) throw new Error('this reservation command needs context.clinic');
  if (context.clinic.clinicId !== clinicId) {
    throw new ClinicMismatchError({ clinicId, contextClinicId: context.clinic.clinicId });
  }
  return context.clinic;
}

/**
 * A patient's cancel or reschedule needs the start still ahead: once it has passed, the patient did
 * not come, and that is the clinic's no-show to record under the frozen policy (which may forfeit
 * the deposit), not a late cancellation that refunds part of it. Staff may still cancel.
 */
function requireStartAhead(r: ActiveReservation, by: 'patient' | 'staff', action: string, now: Date): void {
  if (by === 'patient' && !isBefore(now, r.startsAt)) {
    throw new StartPassedError({ reservationId: r.reservationId, startsAt: r.startsAt, now: iso(now), action });
  }
}

/** Inside the frozen free-cancellation window: less than freeCancellationHours before the start. */
export function isLate(r: Pick<ActiveReservation, 'startsAt' | 'policy'>, now: Date): boolean {
  return minutesBetween(now, r.startsAt) < r.policy.freeCancellationHours * 60;
}

/** What the patient gets back of the deposit after the fees due: max(0, paid − fees). */
export function refundDue(depositPaidKrw: number, feesDueKrw: number): number {
  return Math.max(0, depositPaidKrw - feesDueKrw);
}

/**
 * The part of the deposit credited against the bill at discharge: the fees due (late reschedules)
 * are withheld from it, max(0, deposit paid − fees due). The bill is then treatments − this.
 */
export function depositCreditKrw(r: Pick<ActiveReservation, 'depositPaidKrw' | 'feesDueKrw'>): number {
  return refundDue(r.depositPaidKrw, r.feesDueKrw);
}

/**
 * What to give back of deposit money captured after the reservation closed (the patient paid while
 * it was being cancelled, rejected…; RecordDepositPaid refuses a closed reservation, so `r` does not
 * count it). The frozen policy decides, as it did when the reservation closed: the fees still due
 * once the deposit recorded before closing covered what it could (`feesDueKrw` is 0 after a staff
 * cancellation or a rejection: waived) are withheld; a no-show under a forfeiting policy forfeits it all.
 */
export function lateDepositRefundKrw(
  r: Pick<ActiveReservation, 'status' | 'depositPaidKrw' | 'feesDueKrw' | 'policy'>,
  amountKrw: number,
): number {
  if (r.status === 'no-show' && r.policy.noShowForfeitsDeposit) return 0;
  const feesStillDue = Math.max(0, r.feesDueKrw - r.depositPaidKrw);
  return refundDue(amountKrw, feesStillDue);
}

export function decideReservation(
  command: ReservationCommand,
  state: ReservationState,
  context: ReservationContext,
): ReservationEvent[] {
  const { now } = context;
  if (command.type === 'RequestReservation') {
    if (state.status !== 'none') {
      const r = state as ActiveReservation;
      if (r.holdId === command.holdId && r.treatmentId === command.treatmentId && iso(r.startsAt) === iso(command.startsAt)) {
        return []; // retried request
      }
      throw new AlreadyExistsError('reservation', { reservationId: command.reservationId });
    }
    const clinic = requireClinic(context, command.clinicId);
    const treatment = requireBookableTreatment(clinic, command.treatmentId);
    const { durationMinutes, depositDueKrw } = bookingTerms(treatment, command.kind);
    const placement = checkBookable(clinic, command.startsAt, durationMinutes, now);
    const requested = ev('ReservationRequested', {
      reservationId: command.reservationId,
      clinicId: clinic.clinicId,
      patientId: command.patientId,
      treatmentId: treatment.treatmentId,
      treatmentName: treatment.name,
      kind: command.kind,
      startsAt: iso(placement.startsAt),
      endsAt: iso(placement.endsAt),
      day: placement.day,
      holdId: command.holdId,
      priceKrw: treatment.priceKrw,
      depositDueKrw,
      bookingMode: treatment.bookingMode,
      policy: clinic.policy,
      // The note can hold health details: it is the patient's personal data (the vault encrypts it).
      ...(command.note === undefined ? {} : { personal: plain({ note: command.note }) }),
    });
    // An instant booking with nothing to pay is confirmed at once.
    if (treatment.bookingMode === 'instant' && depositDueKrw === 0) {
      return [requested, ev('ReservationConfirmed', { reservationId: command.reservationId, by: 'system' })];
    }
    return [requested];
  }

  const r = active(state);
  const id = r.reservationId;
  switch (command.type) {
    case 'ConfirmReservation': {
      if (r.status === 'confirmed') return [];
      requireStatus(r, 'confirm', ['requested']);
      return [ev('ReservationConfirmed', { reservationId: id, by: 'staff', staffId: command.staffId })];
    }
    case 'RejectReservation': {
      if (r.status === 'rejected') return [];
      requireStatus(r, 'reject', ['requested']);
      return [
        ev('ReservationRejected', {
          reservationId: id,
          staffId: command.staffId,
          reason: command.reason,
          refundDueKrw: r.depositPaidKrw,
        }),
      ];
    }
    case 'RecordDepositPaid': {
      if (r.paymentIds.includes(command.paymentId)) return [];
      // Checked in: a deposit captured while the patient is already at the clinic still counts (credited at discharge).
      requireStatus(r, 'pay the deposit of', ['requested', 'confirmed', 'checked-in']);
      const depositPaidKrw = r.depositPaidKrw + command.amountKrw;
      const paid = ev('ReservationDepositPaid', {
        reservationId: id,
        paymentId: command.paymentId,
        amountKrw: command.amountKrw,
        depositPaidKrw,
      });
      if (r.status === 'requested' && r.bookingMode === 'instant' && depositPaidKrw >= r.depositDueKrw) {
        return [paid, ev('ReservationConfirmed', { reservationId: id, by: 'system' })];
      }
      return [paid];
    }
    case 'RescheduleReservation': {
      requireStatus(r, 'reschedule', ['requested', 'confirmed']);
      if (iso(command.startsAt) === iso(r.startsAt)) return [];
      requireStartAhead(r, command.by, 'reschedule', now);
      const clinic = requireClinic(context, r.clinicId);
      // The frozen policy's minimum notice applies; the clinic's current hours and slots place it.
      const duration = minutesBetween(r.startsAt, r.endsAt);
      const placement = checkBookable(
        { ...clinic, policy: { minimumNoticeHours: r.policy.minimumNoticeHours } },
        command.startsAt,
        duration,
        now,
      );
      const late = command.by === 'patient' && isLate(r, now);
      // The clinic agreed to the old time, not the new one: a patient's move goes back to it.
      const needsClinicConfirmation = command.by === 'patient' && r.bookingMode === 'clinic-confirm' && r.status === 'confirmed';
      return [
        ev('ReservationRescheduled', {
          reservationId: id,
          by: command.by,
          ...(command.staffId === undefined ? {} : { staffId: command.staffId }),
          previousStartsAt: r.startsAt,
          previousDay: r.day,
          previousHoldId: r.holdId,
          startsAt: iso(placement.startsAt),
          endsAt: iso(placement.endsAt),
          day: placement.day,
          holdId: command.holdId,
          lateFeeKrw: late ? r.policy.lateCancellationFeeKrw : 0,
          needsClinicConfirmation,
        }),
      ];
    }
    case 'CancelReservation': {
      if (r.status === 'cancelled') return [];
      requireStatus(r, 'cancel', ['requested', 'confirmed']);
      requireStartAhead(r, command.by, 'cancel', now);
      const late = command.by === 'patient' && isLate(r, now);
      const feeKrw = late ? r.policy.lateCancellationFeeKrw : 0;
      // A staff cancellation waives the fees: the clinic gives the whole deposit back.
      const feesDue = command.by === 'staff' ? 0 : r.feesDueKrw + feeKrw;
      return [
        ev('ReservationCancelled', {
          reservationId: id,
          by: command.by,
          ...(command.staffId === undefined ? {} : { staffId: command.staffId }),
          reason: command.reason,
          late,
          feeKrw,
          refundDueKrw: refundDue(r.depositPaidKrw, feesDue),
          day: r.day,
          holdId: r.holdId,
        }),
      ];
    }
    case 'RecordNoShow': {
      if (r.status === 'no-show') return [];
      requireStatus(r, 'record a no-show for', ['confirmed']);
      if (isBefore(now, r.startsAt)) {
        throw new NoShowBeforeStartError({ reservationId: id, startsAt: r.startsAt, now: iso(now) });
      }
      // A patient a few minutes late is not a no-show yet: the clinic's grace period, on every path.
      assertNoShowGraceOver(requireClinic(context, r.clinicId), r.startsAt, now);
      const depositForfeitedKrw = r.policy.noShowForfeitsDeposit ? r.depositPaidKrw : 0;
      return [
        ev('NoShowRecorded', {
          reservationId: id,
          staffId: command.staffId,
          depositForfeitedKrw,
          // Fees due (late reschedules) are withheld too: max(0, paid − fees − forfeited).
          refundDueKrw: Math.max(0, r.depositPaidKrw - r.feesDueKrw - depositForfeitedKrw),
        }),
      ];
    }
    case 'CheckInReservation': {
      if (r.status === 'checked-in' && r.visitId === command.visitId) return [];
      requireStatus(r, 'check in', ['confirmed']);
      return [ev('ReservationCheckedIn', { reservationId: id, visitId: command.visitId, at: iso(now) })];
    }
    case 'CompleteReservation': {
      if (r.status === 'completed') return [];
      requireStatus(r, 'complete', ['checked-in']);
      if (r.visitId === null) throw new InvalidTransitionError('reservation', 'complete', r.status);
      return [ev('ReservationCompleted', { reservationId: id, visitId: r.visitId })];
    }
  }
}
