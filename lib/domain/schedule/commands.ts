import { z } from 'zod';
import { Id } from '../clinic/values';
import { DayKey, Instant } from '../shared/time';
import { ReleaseReason } from './events';

/**
 * Hold the slots for a treatment. `replacesHoldId` (same day only) holds the new slots and releases
 * the old hold in one append — a reschedule within the day that may overlap its own old slots. For a
 * reschedule to another day, hold on the new day's stream first, then ReleaseHold on the old one.
 */
export const PlaceHold = z.object({
  type: z.literal('PlaceHold'),
  clinicId: Id,
  day: DayKey,
  holdId: Id,
  reservationId: Id,
  startsAt: Instant,
  durationMinutes: z.number().int().min(1).max(24 * 60),
  replacesHoldId: Id.optional(),
  /**
   * A reschedule's notice: the minimum notice frozen in the reservation, which the clinic's current
   * policy must not override (the reservation allowed the move). A new booking omits it.
   */
  minimumNoticeHours: z.number().int().min(0).max(24 * 30).optional(),
});

export const ConfirmHold = z.object({ type: z.literal('ConfirmHold'), holdId: Id, reservationId: Id });

export const ReleaseHold = z.object({
  type: z.literal('ReleaseHold'),
  holdId: Id,
  reason: ReleaseReason.exclude(['expired']),
});

/** Release every unconfirmed hold whose expiry has passed (a sweeper sends it). */
export const ExpireHolds = z.object({ type: z.literal('ExpireHolds') });

export const ScheduleCommand = z.discriminatedUnion('type', [PlaceHold, ConfirmHold, ReleaseHold, ExpireHolds]);
export type ScheduleCommand = z.infer<typeof ScheduleCommand>;
