import { z } from 'zod';
import { Id } from '../clinic/values';
import { eventFactory, eventSchema, makeUpcaster } from '../shared/events';
import { DayKey, Instant, LocalTime } from '../shared/time';

export const ReleaseReason = z.enum(['expired', 'cancelled', 'rejected', 'rescheduled', 'staff']);
export type ReleaseReason = z.infer<typeof ReleaseReason>;

/**
 * A reservation holds the slots its treatment needs on one clinic day. `expiresAt` is set until the
 * reservation is recorded (HoldConfirmed); a hold never confirmed is released as `expired`.
 */
export const SlotHeld = eventSchema(
  'SlotHeld',
  1,
  z.object({
    clinicId: Id,
    day: DayKey,
    holdId: Id,
    reservationId: Id,
    startsAt: Instant,
    endsAt: Instant,
    /** Local HH:mm starts of the slots occupied, each `slotLengthMinutes` long. */
    slots: z.array(LocalTime).min(1),
    slotLengthMinutes: z.number().int().positive(),
    expiresAt: Instant,
  }),
);

/** The reservation was recorded: the hold no longer expires. */
export const HoldConfirmed = eventSchema('HoldConfirmed', 1, z.object({ holdId: Id, reservationId: Id }));

export const SlotReleased = eventSchema(
  'SlotReleased',
  1,
  z.object({ holdId: Id, reservationId: Id, slots: z.array(LocalTime), reason: ReleaseReason }),
);

export const ScheduleEvent = z.discriminatedUnion('type', [SlotHeld, HoldConfirmed, SlotReleased]);
export type ScheduleEvent = z.infer<typeof ScheduleEvent>;

export const SCHEDULE_EVENT_VERSIONS = { SlotHeld: 1, HoldConfirmed: 1, SlotReleased: 1 } as const satisfies Record<
  ScheduleEvent['type'],
  number
>;

export const scheduleEvent = eventFactory<ScheduleEvent>(SCHEDULE_EVENT_VERSIONS);

export const upcastScheduleEvent = makeUpcaster<ScheduleEvent>(ScheduleEvent, SCHEDULE_EVENT_VERSIONS);
