import { z } from 'zod';
import { Id } from '../clinic/values';
import { Krw } from '../shared/money';
import { Instant } from '../shared/time';
import { CancelledBy, ReservationKind } from './events';

/**
 * Record a booking whose slots are already held (PlaceHold on the schedule stream with `holdId`
 * and this reservationId, appended first).
 */
export const RequestReservation = z.object({
  type: z.literal('RequestReservation'),
  reservationId: Id,
  clinicId: Id,
  patientId: Id,
  treatmentId: Id,
  kind: ReservationKind,
  startsAt: Instant,
  holdId: Id,
  note: z.string().max(1000).optional(),
});

export const ConfirmReservation = z.object({ type: z.literal('ConfirmReservation'), staffId: Id });

export const RejectReservation = z.object({
  type: z.literal('RejectReservation'),
  staffId: Id,
  reason: z.string().min(1).max(1000),
});

/** Sent by the payment process manager when the deposit payment is captured. */
export const RecordDepositPaid = z.object({ type: z.literal('RecordDepositPaid'), paymentId: Id, amountKrw: Krw });

/** The new slots are already held (PlaceHold with `holdId`); the old hold is released afterwards. */
export const RescheduleReservation = z.object({
  type: z.literal('RescheduleReservation'),
  startsAt: Instant,
  holdId: Id,
  by: CancelledBy,
  staffId: Id.optional(),
});

export const CancelReservation = z.object({
  type: z.literal('CancelReservation'),
  by: CancelledBy,
  staffId: Id.optional(),
  reason: z.string().min(1).max(1000),
});

export const RecordNoShow = z.object({ type: z.literal('RecordNoShow'), staffId: Id });

export const CheckInReservation = z.object({ type: z.literal('CheckInReservation'), visitId: Id });

export const CompleteReservation = z.object({ type: z.literal('CompleteReservation') });

export const ReservationCommand = z.discriminatedUnion('type', [
  RequestReservation,
  ConfirmReservation,
  RejectReservation,
  RecordDepositPaid,
  RescheduleReservation,
  CancelReservation,
  RecordNoShow,
  CheckInReservation,
  CompleteReservation,
]);
export type ReservationCommand = z.infer<typeof ReservationCommand>;
