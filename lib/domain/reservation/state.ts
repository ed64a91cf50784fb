import type { BookingMode, CancellationPolicy } from '../clinic/values';
import type { ReservationEvent, ReservationKind } from './events';

export type ReservationStatus =
  | 'requested'
  | 'confirmed'
  | 'checked-in'
  | 'completed'
  | 'cancelled'
  | 'rejected'
  | 'no-show';

/** Statuses after which nothing may change. */
export const CLOSED_STATUSES: readonly ReservationStatus[] = ['completed', 'cancelled', 'rejected', 'no-show'];

export interface ActiveReservation {
  readonly status: ReservationStatus;
  readonly reservationId: string;
  readonly clinicId: string;
  readonly patientId: string;
  readonly treatmentId: string;
  readonly treatmentName: string;
  readonly kind: ReservationKind;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly day: string;
  readonly holdId: string;
  readonly priceKrw: number;
  readonly depositDueKrw: number;
  readonly bookingMode: BookingMode;
  /** Frozen at booking time; later policy changes of the clinic do not apply. */
  readonly policy: CancellationPolicy;
  readonly depositPaidKrw: number;
  readonly paymentIds: readonly string[];
  /**
   * Late fees due so far (late reschedules, late cancellation), withheld from the deposit. A staff
   * cancellation or a rejection waives them (back to 0): the whole deposit is refunded then.
   */
  readonly feesDueKrw: number;
  readonly visitId: string | null;
}

export type ReservationState = { readonly status: 'none' } | ActiveReservation;

export const initialReservationState = (): ReservationState => ({ status: 'none' });

export function evolveReservation(state: ReservationState, event: ReservationEvent): ReservationState {
  if (event.type === 'ReservationRequested') {
    const { personal: _personal, ...d } = event.data;
    return { status: 'requested', ...d, depositPaidKrw: 0, paymentIds: [], feesDueKrw: 0, visitId: null };
  }
  if (state.status === 'none') return state;
  const s = state as ActiveReservation;
  switch (event.type) {
    case 'ReservationConfirmed':
      return { ...s, status: 'confirmed' };
    case 'ReservationRejected':
      return { ...s, status: 'rejected', feesDueKrw: 0 };
    case 'ReservationDepositPaid':
      return { ...s, depositPaidKrw: event.data.depositPaidKrw, paymentIds: [...s.paymentIds, event.data.paymentId] };
    case 'ReservationRescheduled':
      return {
        ...s,
        ...(event.data.needsClinicConfirmation ? { status: 'requested' as const } : {}),
        startsAt: event.data.startsAt,
        endsAt: event.data.endsAt,
        day: event.data.day,
        holdId: event.data.holdId,
        feesDueKrw: s.feesDueKrw + event.data.lateFeeKrw,
      };
    case 'ReservationCancelled':
      return { ...s, status: 'cancelled', feesDueKrw: event.data.by === 'staff' ? 0 : s.feesDueKrw + event.data.feeKrw };
    case 'NoShowRecorded':
      return { ...s, status: 'no-show' };
    case 'ReservationCheckedIn':
      return { ...s, status: 'checked-in', visitId: event.data.visitId };
    case 'ReservationCompleted':
      return { ...s, status: 'completed' };
  }
}
