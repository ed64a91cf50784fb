import { checkBookable, slotStartsOn, type ClinicBookingFacts } from '../clinic/rules';
import { AlreadyExistsError, NotFoundError } from '../shared/errors';
import { iso, minutesOfDay, plusMinutes, type DayKey, type LocalTime } from '../shared/time';
import type { ScheduleCommand } from './commands';
import { SlotOverCapacityError, WrongScheduleError } from './errors';
import { scheduleEvent as ev, type ScheduleEvent } from './events';
import { heldCount, holdOf, holdsInOrder, holdValues, isLive, releaseOf, type ScheduleState } from './state';

export const DEFAULT_HOLD_TTL_MINUTES = 15;

export interface ScheduleContext {
  readonly now: Date;
  /** Needed by PlaceHold only: the clinic's opening hours, slot length and capacity, minimum notice. */
  readonly clinic?: ClinicBookingFacts;
  /** How long an unconfirmed hold lives (default DEFAULT_HOLD_TTL_MINUTES). */
  readonly holdTtlMinutes?: number;
}

function expiredHolds(state: ScheduleState, now: Date): ScheduleEvent[] {
  // Usually none: only then are the holds put in order (the events name them as they were taken).
  let any = false;
  for (const h of holdValues(state)) if (!isLive(h, now)) any = true;
  if (!any) return [];
  return holdsInOrder(state)
    .filter((h) => !isLive(h, now))
    .map((h) => ev('SlotReleased', { holdId: h.holdId, reservationId: h.reservationId, slots: [...h.slots], reason: 'expired' }));
}

export function decideSchedule(command: ScheduleCommand, state: ScheduleState, context: ScheduleContext): ScheduleEvent[] {
  const { now } = context;
  switch (command.type) {
    case 'PlaceHold': {
      const existing = holdOf(state, command.holdId);
      if (existing) {
        if (existing.reservationId === command.reservationId && iso(existing.startsAt) === iso(command.startsAt)) return [];
        throw new AlreadyExistsError('hold', { holdId: command.holdId });
      }
      if (releaseOf(state, command.holdId)) throw new AlreadyExistsError('hold', { holdId: command.holdId, released: true });
      if ((state.clinicId !== null && state.clinicId !== command.clinicId) || (state.day !== null && state.day !== command.day)) {
        throw new WrongScheduleError({ stream: { clinicId: state.clinicId, day: state.day }, clinicId: command.clinicId, day: command.day });
      }
      if (!context.clinic) throw new Error('PlaceHold needs context.clinic');
      const clinic = context.clinic;
      const notice = command.minimumNoticeHours === undefined ? clinic : { ...clinic, policy: { ...clinic.policy, minimumNoticeHours: command.minimumNoticeHours } };
      const placement = checkBookable(notice, command.startsAt, command.durationMinutes, now);
      if (placement.day !== command.day) {
        throw new WrongScheduleError({ day: command.day, startsOn: placement.day });
      }
      const replaced = command.replacesHoldId ? holdOf(state, command.replacesHoldId) : undefined;
      if (command.replacesHoldId && (!replaced || replaced.reservationId !== command.reservationId)) {
        throw new NotFoundError('hold', { holdId: command.replacesHoldId, reservationId: command.reservationId });
      }
      for (const slot of placement.slots) {
        const held = heldCount(state, minutesOfDay(slot), clinic.slotLengthMinutes, now, command.replacesHoldId);
        if (held >= clinic.slotCapacity) {
          throw new SlotOverCapacityError({ day: command.day, slot, capacity: clinic.slotCapacity, held });
        }
      }
      const expiresAt = plusMinutes(now, context.holdTtlMinutes ?? DEFAULT_HOLD_TTL_MINUTES);
      return [
        ...expiredHolds(state, now).filter((e) => e.data.holdId !== command.replacesHoldId),
        ev('SlotHeld', {
          clinicId: command.clinicId,
          day: command.day,
          holdId: command.holdId,
          reservationId: command.reservationId,
          startsAt: iso(placement.startsAt),
          endsAt: iso(placement.endsAt),
          slots: placement.slots,
          slotLengthMinutes: clinic.slotLengthMinutes,
          expiresAt: iso(expiresAt),
        }),
        ...(replaced
          ? [ev('SlotReleased', { holdId: replaced.holdId, reservationId: replaced.reservationId, slots: [...replaced.slots], reason: 'rescheduled' as const })]
          : []),
      ];
    }
    case 'ConfirmHold': {
      // A hold past its expiry is still confirmable until its release is recorded: nobody else
      // has taken its capacity, since taking capacity records the release first.
      const h = holdOf(state, command.holdId);
      if (!h || h.reservationId !== command.reservationId) {
        throw new NotFoundError('hold', { holdId: command.holdId, reservationId: command.reservationId, released: releaseOf(state, command.holdId) ?? null });
      }
      return h.confirmed ? [] : [ev('HoldConfirmed', { holdId: h.holdId, reservationId: h.reservationId })];
    }
    case 'ReleaseHold': {
      if (releaseOf(state, command.holdId)) return [];
      const h = holdOf(state, command.holdId);
      if (!h) throw new NotFoundError('hold', { holdId: command.holdId });
      return [ev('SlotReleased', { holdId: h.holdId, reservationId: h.reservationId, slots: [...h.slots], reason: command.reason })];
    }
    case 'ExpireHolds':
      return expiredHolds(state, now);
  }
}

export interface SlotAvailability {
  readonly slot: LocalTime;
  readonly capacity: number;
  readonly held: number;
  readonly free: number;
}

/** Free capacity per slot of the clinic day (for the read side and tests). */
export function availability(state: ScheduleState, clinic: ClinicBookingFacts, day: DayKey, now: Date): SlotAvailability[] {
  return slotStartsOn(clinic, day).map((slot) => {
    const held = heldCount(state, minutesOfDay(slot), clinic.slotLengthMinutes, now);
    return { slot, capacity: clinic.slotCapacity, held, free: Math.max(0, clinic.slotCapacity - held) };
  });
}
