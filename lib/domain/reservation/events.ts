import { z } from 'zod';
import { BookingKind, BookingMode, CancellationPolicy, Id } from '../clinic/values';
import { PersonalField } from '../patient/personal';
import { eventFactory, eventSchema, makeUpcaster, type Upcasters } from '../shared/events';
import { Krw } from '../shared/money';
import { DayKey, Instant } from '../shared/time';

/** consult-first: book a consultation, no deposit; pay-and-book: pay the treatment's deposit to book. */
export const ReservationKind = BookingKind;
export type ReservationKind = z.infer<typeof ReservationKind>;

export const CancelledBy = z.enum(['patient', 'staff']);
export type CancelledBy = z.infer<typeof CancelledBy>;

/**
 * v2 added `kind`. v1 events read as "pay-and-book" when they carried a deposit, else "consult-first".
 * v3 moved the free-text `note` into `personal` (the patient's encrypted personal data: `{ note }`).
 
 * Everything the reservation's later rules depend on is frozen here: price, deposit, duration,
 * booking mode and the clinic's cancellation policy at booking time.
 */
export const ReservationRequested = eventSchema(
  'ReservationRequested',
  3,
  z.object({
    reservationId: Id,
    clinicId: Id,
    patientId: Id,
    treatmentId: Id,
    treatmentName: z.string(),
    kind: ReservationKind,
    startsAt: Instant,
    endsAt: Instant,
    /** The clinic day (Asia/Seoul) and hold: the schedule stream is schedule-<clinicId>-<day>. */
    day: DayKey,
    holdId: Id,
    priceKrw: Krw,
    /** Deposit to pay before an instant booking confirms itself (0 for consult-first). */
    depositDueKrw: Krw,
    bookingMode: BookingMode,
    policy: CancellationPolicy,
    /** The patient's note `{ note }`, encrypted under their key (erased with them); absent without a note. */
    personal: PersonalField.optional(),
  }),
);

export const ReservationConfirmed = eventSchema(
  'ReservationConfirmed',
  1,
  z.object({
    reservationId: Id,
    /** staff: confirmed by clinic staff; system: an instant booking whose deposit is settled. */
    by: z.enum(['staff', 'system']),
    staffId: Id.optional(),
  }),
);

export const ReservationRejected = eventSchema(
  'ReservationRejected',
  1,
  z.object({ reservationId: Id, staffId: Id, reason: z.string().min(1), refundDueKrw: Krw }),
);

export const ReservationDepositPaid = eventSchema(
  'ReservationDepositPaid',
  1,
  z.object({ reservationId: Id, paymentId: Id, amountKrw: Krw, depositPaidKrw: Krw }),
);

/** v2 added `needsClinicConfirmation` (v1 moves never sent a booking back to the clinic). */
export const ReservationRescheduled = eventSchema(
  'ReservationRescheduled',
  2,
  z.object({
    reservationId: Id,
    by: CancelledBy,
    staffId: Id.optional(),
    previousStartsAt: Instant,
    previousDay: DayKey,
    previousHoldId: Id,
    startsAt: Instant,
    endsAt: Instant,
    day: DayKey,
    holdId: Id,
    /** The frozen late fee when a patient moves a booking inside the free-cancellation window, else 0. */
    lateFeeKrw: Krw,
    /**
     * A patient moved a booking the clinic had confirmed (booking mode clinic-confirm): it is
     * `requested` again until the clinic confirms the new time.
     */
    needsClinicConfirmation: z.boolean(),
  }),
);

export const ReservationCancelled = eventSchema(
  'ReservationCancelled',
  1,
  z.object({
    reservationId: Id,
    by: CancelledBy,
    staffId: Id.optional(),
    reason: z.string().min(1).max(1000),
    /** Inside the frozen free-cancellation window (patient cancellations only). */
    late: z.boolean(),
    /** The frozen late-cancellation fee if late, else 0. */
    feeKrw: Krw,
    /** Deposit paid minus every fee due (this one and late reschedules), never below 0. */
    refundDueKrw: Krw,
    day: DayKey,
    holdId: Id,
  }),
);

export const NoShowRecorded = eventSchema(
  'NoShowRecorded',
  1,
  z.object({ reservationId: Id, staffId: Id, depositForfeitedKrw: Krw, refundDueKrw: Krw }),
);

export const ReservationCheckedIn = eventSchema(
  'ReservationCheckedIn',
  1,
  z.object({ reservationId: Id, visitId: Id, at: Instant }),
);

export const ReservationCompleted = eventSchema('ReservationCompleted', 1, z.object({ reservationId: Id, visitId: Id }));

export const ReservationEvent = z.discriminatedUnion('type', [
  ReservationRequested,
  ReservationConfirmed,
  ReservationRejected,
  ReservationDepositPaid,
  ReservationRescheduled,
  ReservationCancelled,
  NoShowRecorded,
  ReservationCheckedIn,
  ReservationCompleted,
]);
export type ReservationEvent = z.infer<typeof ReservationEvent>;

export const RESERVATION_EVENT_VERSIONS = {
  ReservationRequested: 3,
  ReservationConfirmed: 1,
  ReservationRejected: 1,
  ReservationDepositPaid: 1,
  ReservationRescheduled: 2,
  ReservationCancelled: 1,
  NoShowRecorded: 1,
  ReservationCheckedIn: 1,
  ReservationCompleted: 1,
} as const satisfies Record<ReservationEvent['type'], number>;

export const reservationEvent = eventFactory<ReservationEvent>(RESERVATION_EVENT_VERSIONS);

export const reservationUpcasters: Upcasters = {
  ReservationRequested: {
    // v1 → v2: `kind` did not exist; a booking that asked for a deposit was a pay-and-book. Neither
    // did `bookingMode` (added to treatments with TreatmentListed v2): the clinic confirmed every
    // booking then, as TreatmentListed's own v1 → v2 says.
    1: (data) => ({
      kind: typeof data.depositDueKrw === 'number' && data.depositDueKrw > 0 ? 'pay-and-book' : 'consult-first',
      bookingMode: 'clinic-confirm',
      ...data,
    }),
    // v2 → v3: the note was plain data; it now lives in the personal field. (A v2 note stays
    // plaintext in the log, which is immutable; readers treat it as the patient's personal data and
    // the read models drop it when the patient is erased.)
    2: ({ note, ...data }) => (typeof note === 'string' ? { ...data, personal: { kind: 'plain', value: { note } } } : data),
  },
  ReservationRescheduled: {
    // v1 → v2: before this rule a move kept the reservation's status.
    1: (data) => ({ needsClinicConfirmation: false, ...data }),
  },
};

export const upcastReservationEvent = makeUpcaster<ReservationEvent>(
  ReservationEvent,
  RESERVATION_EVENT_VERSIONS,
  reservationUpcasters,
);
