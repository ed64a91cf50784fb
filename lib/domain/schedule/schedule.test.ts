import { describe, expect, it } from 'vitest';
import { BookingInPastError, BookingInsideMinimumNoticeError, BookingOutsideOpeningHoursError } from '../clinic/errors';
import { CLINIC_ID, clinicState, monday } from '../clinic/fixtures';
import { AlreadyExistsError, NotFoundError } from '../shared/errors';
import { spec } from '../shared/testing';
import {
  availability,
  scheduleDecider,
  scheduleEvent as ev,
  SlotOverCapacityError,
  WrongScheduleError,
  evolveSchedule,
  initialScheduleState,
  type Hold,
  type ReleaseReason,
  type ScheduleCommand,
  type ScheduleContext,
  type ScheduleEvent,
  type ScheduleState,
} from './index';

const { given } = spec(scheduleDecider);
const clinic = clinicState(); // 30-minute slots, capacity 2, minimum notice 2h
const now = new Date('2025-03-03T00:00:00Z'); // 09:00 in Seoul
const ctx: ScheduleContext = { now, clinic, holdTtlMinutes: 10 };
const DAY = '2025-03-03';

const place = (holdId: string, hhmm: string, durationMinutes = 30, extra: Partial<ScheduleCommand> = {}): ScheduleCommand => ({
  type: 'PlaceHold',
  clinicId: CLINIC_ID,
  day: DAY,
  holdId,
  reservationId: `r-${holdId}`,
  startsAt: monday(hhmm),
  durationMinutes,
  ...extra,
} as ScheduleCommand);

const held = (holdId: string, hhmm: string, slots: string[], expiresAt = '2025-03-03T00:10:00.000Z') =>
  ev('SlotHeld', {
    clinicId: CLINIC_ID,
    day: DAY,
    holdId,
    reservationId: `r-${holdId}`,
    startsAt: new Date(monday(hhmm)).toISOString(),
    endsAt: new Date(new Date(monday(hhmm)).getTime() + slots.length * 30 * 60_000).toISOString(),
    slots,
    slotLengthMinutes: 30,
    expiresAt,
  });
const confirmed = (holdId: string) => ev('HoldConfirmed', { holdId, reservationId: `r-${holdId}` });

describe('schedule (clinic day)', () => {
  it('holds a free slot, with an expiry from the context', () => {
    given([]).when(place('h1', '11:00'), ctx).then([held('h1', '11:00', ['11:00'])]);
  });

  it('a treatment longer than a slot holds consecutive slots', () => {
    given([])
      .when(place('h1', '15:00', 90), ctx)
      .thenState((s) => expect(s.holds.h1?.slots).toEqual(['15:00', '15:30', '16:00']));
  });

  it('no slot over capacity: a third hold on a slot of capacity 2 is refused', () => {
    given([held('h1', '11:00', ['11:00']), held('h2', '11:00', ['11:00'])])
      .when(place('h3', '11:00'), ctx)
      .thenThrows(SlotOverCapacityError, { code: 'schedule.slot_over_capacity', details: { slot: '11:00', capacity: 2, held: 2 } });
  });

  it('capacity counts overlap with longer holds', () => {
    given([held('h1', '15:00', ['15:00', '15:30', '16:00']), held('h2', '16:00', ['16:00'])])
      .when(place('h3', '15:30', 60), ctx)
      .thenThrows(SlotOverCapacityError, { details: { slot: '16:00' } });
    given([held('h1', '15:00', ['15:00', '15:30', '16:00'])]).when(place('h3', '15:30', 60), ctx).thenState((s) => {
      expect(Object.keys(s.holds)).toEqual(['h1', 'h3']);
    });
  });

  it('an expired, never-confirmed hold frees its capacity: it is released as expired, then the new hold is taken', () => {
    const later: ScheduleContext = { ...ctx, now: new Date('2025-03-03T00:20:00Z') };
    given([held('h1', '11:30', ['11:30']), held('h2', '11:30', ['11:30']), confirmed('h2')])
      .when(place('h3', '11:30'), later)
      .then([
        ev('SlotReleased', { holdId: 'h1', reservationId: 'r-h1', slots: ['11:30'], reason: 'expired' }),
        held('h3', '11:30', ['11:30'], '2025-03-03T00:30:00.000Z'),
      ]);
  });

  it('a confirmed hold never expires', () => {
    const later: ScheduleContext = { ...ctx, now: new Date('2025-03-03T05:00:00Z') };
    given([held('h1', '15:00', ['15:00']), confirmed('h1'), held('h2', '15:00', ['15:00'])])
      .when({ type: 'ExpireHolds' }, later)
      .then([ev('SlotReleased', { holdId: 'h2', reservationId: 'r-h2', slots: ['15:00'], reason: 'expired' })]);
    given([held('h1', '15:00', ['15:00']), confirmed('h1')]).when({ type: 'ExpireHolds' }, later).then([]);
  });

  it('refuses holds in the past, inside the minimum notice, or outside opening hours', () => {
    given([]).when(place('h1', '08:30'), ctx).thenThrows(BookingInPastError);
    given([]).when(place('h1', '10:30'), ctx).thenThrows(BookingInsideMinimumNoticeError);
    given([]).when(place('h1', '13:00'), ctx).thenThrows(BookingOutsideOpeningHoursError);
  });

  it('refuses a hold whose start is on another day than the stream', () => {
    given([])
      .when({ ...place('h1', '11:00'), day: '2025-03-04' } as ScheduleCommand, ctx)
      .thenThrows(WrongScheduleError, { details: { startsOn: DAY } });
  });

  it('placing the same hold again is idempotent; reusing its id for something else is refused', () => {
    given([held('h1', '11:00', ['11:00'])]).when(place('h1', '11:00'), ctx).then([]);
    given([held('h1', '11:00', ['11:00'])]).when(place('h1', '11:30'), ctx).thenThrows(AlreadyExistsError, { code: 'hold.already_exists' });
  });

  it('confirms a hold once the reservation is recorded (idempotent)', () => {
    given([held('h1', '11:00', ['11:00'])])
      .when({ type: 'ConfirmHold', holdId: 'h1', reservationId: 'r-h1' }, ctx)
      .then([confirmed('h1')]);
    given([held('h1', '11:00', ['11:00']), confirmed('h1')])
      .when({ type: 'ConfirmHold', holdId: 'h1', reservationId: 'r-h1' }, ctx)
      .then([]);
    given([])
      .when({ type: 'ConfirmHold', holdId: 'h1', reservationId: 'r-h1' }, ctx)
      .thenThrows(NotFoundError, { code: 'hold.not_found' });
  });

  it('a released (e.g. expired) hold cannot be confirmed', () => {
    given([held('h1', '11:00', ['11:00']), ev('SlotReleased', { holdId: 'h1', reservationId: 'r-h1', slots: ['11:00'], reason: 'expired' })])
      .when({ type: 'ConfirmHold', holdId: 'h1', reservationId: 'r-h1' }, ctx)
      .thenThrows(NotFoundError, { details: { released: 'expired' } });
  });

  it('releases a hold with a reason; releasing again is a no-op', () => {
    const released = ev('SlotReleased', { holdId: 'h1', reservationId: 'r-h1', slots: ['11:00'], reason: 'cancelled' });
    given([held('h1', '11:00', ['11:00'])]).when({ type: 'ReleaseHold', holdId: 'h1', reason: 'cancelled' }, ctx).then([released]);
    given([held('h1', '11:00', ['11:00']), released]).when({ type: 'ReleaseHold', holdId: 'h1', reason: 'cancelled' }, ctx).then([]);
    given([]).when({ type: 'ReleaseHold', holdId: 'h1', reason: 'cancelled' }, ctx).thenThrows(NotFoundError);
  });

  describe('reschedule', () => {
    it('same day: holds the new slot and releases the old one in one decision, even when the slots are full', () => {
      // 11:00 is full (h1 is ours), 11:30 has h2 and h9: moving h1 to 11:00–12:00 must not count h1 against itself.
      given([held('h1', '11:00', ['11:00']), confirmed('h1'), held('h2', '11:00', ['11:00']), confirmed('h2')])
        .when(place('h1b', '11:00', 60, { reservationId: 'r-h1', replacesHoldId: 'h1' }), ctx)
        .then([
          { ...held('h1b', '11:00', ['11:00', '11:30']), data: { ...held('h1b', '11:00', ['11:00', '11:30']).data, reservationId: 'r-h1' } },
          ev('SlotReleased', { holdId: 'h1', reservationId: 'r-h1', slots: ['11:00'], reason: 'rescheduled' }),
        ]);
    });

    it('same day: still refused when the new slot is full with other reservations', () => {
      given([held('h1', '11:00', ['11:00']), held('h2', '15:00', ['15:00']), held('h3', '15:00', ['15:00'])])
        .when(place('h1b', '15:00', 30, { reservationId: 'r-h1', replacesHoldId: 'h1' }), ctx)
        .thenThrows(SlotOverCapacityError);
    });

    it('cannot replace a hold of another reservation', () => {
      given([held('h1', '11:00', ['11:00'])])
        .when(place('h2', '15:00', 30, { reservationId: 'r-other', replacesHoldId: 'h1' }), ctx)
        .thenThrows(NotFoundError);
    });

    // Each day is its own stream, so the order (hold the new day first, release the old last) is the
    // command layer's and is tested there (lib/commands/booking.test.ts, "rescheduling").
    it('another day: the new day holds without a replaced hold; the old day releases with reason rescheduled', () => {
      const tue = { ...ctx };
      given([])
        .when({ ...place('h1b', '11:00'), day: '2025-03-04', startsAt: '2025-03-04T11:00:00+09:00', reservationId: 'r-h1' } as ScheduleCommand, tue)
        .thenState((s) => expect(s.holds.h1b?.reservationId).toBe('r-h1'));
      given([held('h1', '11:00', ['11:00']), confirmed('h1')])
        .when({ type: 'ReleaseHold', holdId: 'h1', reason: 'rescheduled' }, ctx)
        .then([ev('SlotReleased', { holdId: 'h1', reservationId: 'r-h1', slots: ['11:00'], reason: 'rescheduled' })]);
    });
  });

  describe('the day as state: shared maps inside, plain frozen records outside', () => {
    // The evolver as it was, spreading plain records on every event: the reference the state must read as.
    const plainEvolve = (st: { clinicId: string | null; day: string | null; holds: Record<string, Hold>; released: Record<string, ReleaseReason> }, e: ScheduleEvent) => {
      switch (e.type) {
        case 'SlotHeld': {
          const { clinicId, day, ...h } = e.data;
          return { ...st, clinicId, day, holds: { ...st.holds, [h.holdId]: { ...h, confirmed: false } } };
        }
        case 'HoldConfirmed': {
          const h = st.holds[e.data.holdId];
          return h ? { ...st, holds: { ...st.holds, [h.holdId]: { ...h, confirmed: true } } } : st;
        }
        case 'SlotReleased': {
          const { [e.data.holdId]: _gone, ...holds } = st.holds;
          return { ...st, holds, released: { ...st.released, [e.data.holdId]: e.data.reason } };
        }
      }
    };

    it('a long day of holds, confirmations, releases and holds taken again reads exactly as the plain records would, in the same order', () => {
      // Given 600 events over 120 hold ids (a deterministic pseudo-random mix; ids like "7" and "h7" both, as object key order treats integer keys apart),
      let seed = 7;
      const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      const events: ScheduleEvent[] = [];
      for (let i = 0; i < 600; i++) {
        const id = next(2) === 0 ? `h${next(120)}` : String(next(120));
        const kind = next(3);
        if (kind === 0) events.push(held(id, '11:00', ['11:00']));
        else if (kind === 1) events.push(confirmed(id));
        else events.push(ev('SlotReleased', { holdId: id, reservationId: `r-${id}`, slots: ['11:00'], reason: 'cancelled' }));
      }
      // when they are folded by the evolver and by the plain reference, event by event,
      let state: ScheduleState = initialScheduleState();
      let reference = { clinicId: null as string | null, day: null as string | null, holds: {} as Record<string, Hold>, released: {} as Record<string, ReleaseReason> };
      for (const e of events) {
        const before = state;
        const beforeHolds = JSON.stringify(before.holds);
        state = evolveSchedule(state, e);
        reference = plainEvolve(reference, e);
        // then each state equals the reference (keys in the same order), and the earlier state did not change.
        expect(Object.keys(state.holds)).toEqual(Object.keys(reference.holds));
        expect(Object.keys(state.released)).toEqual(Object.keys(reference.released));
        expect(JSON.stringify(before.holds)).toBe(beforeHolds);
      }
      expect(state).toEqual(reference);
    });

    it('is immutable from the outside, and an event leaves every other hold as it was (shared, not copied)', () => {
      given([held('h1', '11:00', ['11:00']), held('h2', '11:30', ['11:30'])])
        .when(place('h3', '15:00'), ctx)
        .thenState((s) => {
          expect(Object.isFrozen(s)).toBe(true);
          expect(Object.isFrozen(s.holds)).toBe(true);
          expect(Object.isFrozen(s.released)).toBe(true);
          expect(() => {
            (s.holds as Record<string, Hold>).h9 = s.holds.h1!;
          }).toThrow(TypeError);
          expect(Object.keys(s.holds)).toEqual(['h1', 'h2', 'h3']);
        });
      const { state } = given([held('h1', '11:00', ['11:00']), held('h2', '11:30', ['11:30'])]);
      const after = evolveSchedule(state, confirmed('h2'));
      expect(after.holds.h1).toBe(state.holds.h1); // the same object: nothing copied for it
      expect(after.holds.h2?.confirmed).toBe(true);
      expect(state.holds.h2?.confirmed).toBe(false);
    });

    it('a state built as plain records (a read model’s, a spread copy) is decided on as the evolver’s own', () => {
      const { state } = given([held('h1', '11:00', ['11:00']), held('h2', '11:00', ['11:00'])]);
      const plain: ScheduleState = { clinicId: state.clinicId, day: state.day, holds: { ...state.holds }, released: {} };
      expect(() => scheduleDecider.decide(place('h3', '11:00'), plain, ctx)).toThrow(SlotOverCapacityError);
      expect(scheduleDecider.decide(place('h3', '11:30'), { ...state }, ctx)).toHaveLength(1);
      expect(evolveSchedule({ ...state }, confirmed('h1')).holds.h1?.confirmed).toBe(true);
    });
  });

  it('reports availability per slot', () => {
    const { state } = given([held('h1', '11:00', ['11:00']), held('h2', '11:00', ['11:00', '11:30'])]);
    const slots = availability(state, clinic, DAY, now);
    expect(slots.find((s) => s.slot === '11:00')).toEqual({ slot: '11:00', capacity: 2, held: 2, free: 0 });
    expect(slots.find((s) => s.slot === '11:30')).toEqual({ slot: '11:30', capacity: 2, held: 1, free: 1 });
    expect(availability(state, clinic, DAY, new Date('2025-03-03T01:00:00Z')).every((s) => s.free === 2)).toBe(true);
  });
});
