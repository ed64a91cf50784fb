import { minutesOfDay, type LocalTime } from '../shared/time';
import { fromRecord, mapEntries, mapGet, mapRemove, mapSet, mapValues, toRecord, type SharedMap } from '../shared/shared-map';
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

/**
 * A clinic day is a hot stream (hundreds of holds, every booking adds and confirms one): the
 * evolver keeps the holds and releases in shared maps (lib/domain/shared/shared-map.ts), so an event
 * copies one small bucket instead of every hold. From the outside a state still reads as plain frozen
 * records (`holds`, `released`, built on first read and kept); the deciders use the maps.
 */
interface ScheduleMaps {
  readonly holds: SharedMap<Hold>;
  readonly released: SharedMap<ReleaseReason>;
}
const MAPS = Symbol('schedule maps');
/** The maps of states not made by the evolver (a literal, a spread copy), built once per state. */
const mapsOfRecords = new WeakMap<ScheduleState, ScheduleMaps>();

function mapsOf(state: ScheduleState): ScheduleMaps {
  const own = (state as { [MAPS]?: ScheduleMaps })[MAPS];
  if (own) return own;
  let built = mapsOfRecords.get(state);
  if (!built) mapsOfRecords.set(state, (built = { holds: fromRecord(state.holds), released: fromRecord(state.released) }));
  return built;
}

function scheduleState(clinicId: string | null, day: string | null, maps: ScheduleMaps): ScheduleState {
  let holds: Readonly<Record<string, Hold>> | undefined;
  let released: Readonly<Record<string, ReleaseReason>> | undefined;
  const state = { clinicId, day } as ScheduleState;
  Object.defineProperty(state, 'holds', { enumerable: true, get: () => (holds ??= toRecord(maps.holds)) });
  Object.defineProperty(state, 'released', { enumerable: true, get: () => (released ??= toRecord(maps.released)) });
  Object.defineProperty(state, MAPS, { value: maps });
  return Object.freeze(state);
}

export function evolveSchedule(state: ScheduleState, event: ScheduleEvent): ScheduleState {
  const maps = mapsOf(state);
  switch (event.type) {
    case 'SlotHeld': {
      const { clinicId, day, ...h } = event.data;
      return scheduleState(clinicId, day, { holds: mapSet(maps.holds, h.holdId, { ...h, confirmed: false }), released: maps.released });
    }
    case 'HoldConfirmed': {
      const h = mapGet(maps.holds, event.data.holdId);
      if (!h) return state;
      return scheduleState(state.clinicId, state.day, { holds: mapSet(maps.holds, h.holdId, { ...h, confirmed: true }), released: maps.released });
    }
    case 'SlotReleased':
      return scheduleState(state.clinicId, state.day, {
        holds: mapRemove(maps.holds, event.data.holdId),
        released: mapSet(maps.released, event.data.holdId, event.data.reason),
      });
  }
}

/** The hold `holdId` occupying capacity, if any (without building the `holds` record). */
export function holdOf(state: ScheduleState, holdId: string): Hold | undefined {
  return mapGet(mapsOf(state).holds, holdId);
}

/** Why the hold `holdId` was released, if it was. */
export function releaseOf(state: ScheduleState, holdId: string): ReleaseReason | undefined {
  return mapGet(mapsOf(state).released, holdId);
}

/** The holds occupying capacity, in no particular order (for counting and tests). */
export function holdValues(state: ScheduleState): Iterable<Hold> {
  return mapValues(mapsOf(state).holds);
}

/** The holds occupying capacity, in the order they were taken (as `Object.values(state.holds)`). */
export function holdsInOrder(state: ScheduleState): Hold[] {
  return mapEntries(mapsOf(state).holds).map(([, h]) => h);
}

/** An unconfirmed hold past its expiry no longer counts, even before its release is recorded. */
export function isLive(hold: Hold, now: Date): boolean {
  return hold.confirmed || now.getTime() < Date.parse(hold.expiresAt);
}

/** The [from, to) local minute range a hold occupies (computed once per hold: holds are immutable). */
const ranges = new WeakMap<object, [number, number]>();
export function occupiedRange(hold: Pick<Hold, 'slots' | 'slotLengthMinutes'>): [number, number] {
  let range = ranges.get(hold);
  if (!range) {
    const first = minutesOfDay(hold.slots[0] ?? '00:00');
    ranges.set(hold, (range = [first, first + hold.slots.length * hold.slotLengthMinutes]));
  }
  return [range[0], range[1]];
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
  for (const h of mapValues(mapsOf(state).holds)) {
    if (h.holdId === excludeHoldId || !isLive(h, now)) continue;
    const [from, to] = occupiedRange(h);
    if (from < slotStart + slotLength && slotStart < to) n += 1;
  }
  return n;
}
