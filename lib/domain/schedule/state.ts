import { minutesOfDay, type LocalTime } from '../shared/time';
import type { ReleaseReason, ScheduleEvent } from './events';

export interface Hold {
  readonly holdId: string;
  readonly reservationId: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly slots: readonly LocalTime[];
  readonly slotLengthMinutes: number;
  readonly expiresAt: string;
  readonly confirmed: boolean;
}

export interface ScheduleState {
  readonly clinicId: string | null;
  readonly day: string | null;
  /** Holds currently occupying capacity. */
  readonly holds: Readonly<Record<string, Hold>>;
  /** Holds released, and why (kept for idempotent retries). */
  readonly released: Readonly<Record<string, ReleaseReason>>;
}

export const initialScheduleState = (): ScheduleState => ({ clinicId: null, day: null, holds: {}, released: {} });

export function evolveSchedule(state: ScheduleState, event: ScheduleEvent): ScheduleState {
  switch (event.type) {
    case 'SlotHeld': {
      const { clinicId, day, ...h } = event.data;
      return { ...state, clinicId, day, holds: { ...state.holds, [h.holdId]: { ...h, confirmed: false } } };
    }
    case 'HoldConfirmed': {
      const h = state.holds[event.data.holdId];
      if (!h) return state;
      return { ...state, holds: { ...state.holds, [h.holdId]: { ...h, confirmed: true } } };
    }
    case 'SlotReleased': {
      const { [event.data.holdId]: _gone, ...holds } = state.holds;
      return { ...state, holds, released: { ...state.released, [event.data.holdId]: event.data.reason } };
    }
  }
}

/** An unconfirmed hold past its expiry no longer counts, even before its release is recorded. */
export function isLive(hold: Hold, now: Date): boolean {
  return hold.confirmed || now.getTime() < new Date(hold.expiresAt).getTime();
}

/** The [from, to) local minute range a hold occupies. */
export function occupiedRange(hold: Pick<Hold, 'slots' | 'slotLengthMinutes'>): [number, number] {
  const first = minutesOfDay(hold.slots[0] ?? '00:00');
  return [first, first + hold.slots.length * hold.slotLengthMinutes];
}

/** How many live holds overlap the slot [start, start + length) (local minutes). */
export function heldCount(
  state: ScheduleState,
  slotStart: number,
  slotLength: number,
  now: Date,
  excludeHoldId?: string,
): number {
  let n = 0;
  for (const h of Object.values(state.holds)) {
    if (h.holdId === excludeHoldId || !isLive(h, now)) continue;
    const [from, to] = occupiedRange(h);
    if (from < slotStart + slotLength && slotStart < to) n += 1;
  }
  return n;
}
