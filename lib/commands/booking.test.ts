import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { readStreamOrEmpty } from '../testing/streams';
import { reservation, schedule, streams } from '../domain';
import { monday, tuesday } from '../domain/clinic/fixtures';
import type { ActiveReservation } from '../domain/reservation';
import { SlotOverCapacityError } from '../domain/schedule';
import { DomainError } from '../domain/shared/errors';
import { comparePositions, createEventStore } from '../eventstore';
import { createTestDatabase, storedEvents } from '../testing/db';
import type { CommandDeps } from './deps';
import { ConcurrencyConflict, HoldExpiredError } from './errors';
import { loadStream } from './handle';
import { commandMetadata } from './metadata';
import { bookReservation, cancelReservation, checkInReservation, rescheduleReservation } from './reservation';
import { expireHolds, holdSlots } from './schedule';
import { loadClinic } from './deps';
import { manualClock, meta, patientActor, registerTestClinic } from './testing';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 16 });
afterAll(() => store.close());
// Sunday 2025-03-02 09:00 in Seoul: Monday's and Tuesday's slots are bookable and outside the 24 h window.
const clock = manualClock('2025-03-02T00:00:00Z');
const deps: CommandDeps = { store, clock };

const uid = () => randomBytes(5).toString('hex');

const read = (streamId: string) => readStreamOrEmpty(store, streamId);

async function newClinic(slotCapacity = 2): Promise<string> {
  const clinicId = `c-${uid()}`;
  await registerTestClinic(deps, clinicId, { slotCapacity });
  return clinicId;
}

const booking = (clinicId: string, startsAt = monday('11:00'), treatmentId = 'tx-consult') => {
  const patientId = `p-${uid()}`;
  return {
    input: { reservationId: `r-${uid()}`, clinicId, patientId, treatmentId, kind: 'consult-first' as const, startsAt },
    meta: commandMetadata({ actor: patientActor(patientId), clinicId, ip: '203.0.113.7', userAgent: 'vitest' }),
  };
};

describe('booking', () => {
  it('holds the slot, records the reservation and confirms the hold; returns the last position written', async () => {
    const clinicId = await newClinic();
    const b = booking(clinicId);
    const result = await bookReservation(deps, b.input, b.meta);
    expect(result.day).toBe('2025-03-03');
    expect(result.duplicate).toBe(false);
    expect(result.reservation.events.map((e) => e.type)).toEqual(['ReservationRequested', 'ReservationConfirmed']); // instant, nothing to pay

    const day = await read(streams.schedule(clinicId, '2025-03-03'));
    expect(day.map((e) => e.type)).toEqual(['SlotHeld', 'HoldConfirmed']);
    expect(day.map((e) => e.metadata.commandId)).toEqual([`${b.meta.commandId}/hold`, `${b.meta.commandId}/confirm`]);
    expect(day.every((e) => e.metadata.correlationId === b.meta.commandId)).toBe(true);
    expect(result.position).toEqual(day[1]!.position);
    const r = await read(streams.reservation(b.input.reservationId));
    expect(r.map((e) => e.metadata.commandId)).toEqual([`${b.meta.commandId}/reserve`, `${b.meta.commandId}/reserve`]);
    expect((r[0]!.data as { holdId: string }).holdId).toBe(result.holdId);
  });

  it('a duplicate command id appends nothing anywhere and returns the first result', async () => {
    const clinicId = await newClinic();
    const b = booking(clinicId);
    const first = await bookReservation(deps, b.input, b.meta);
    const before = await storedEvents(t.sql);
    const again = await bookReservation(deps, b.input, b.meta);
    expect(await storedEvents(t.sql)).toEqual(before);
    expect(again.duplicate).toBe(true);
    expect(again.position).toEqual(first.position);
    expect(again.holdId).toBe(first.holdId);
    expect(again.reservation.events).toEqual(first.reservation.events);
  });

  it('200 concurrent bookings of a slot of capacity 3: exactly 3 reservations, "slot full" for the rest', async () => {
    const clinicId = await newClinic(3);
    // Four "processes" (store instances, 5 connections each): in-process commands on a stream queue up,
    // across processes they race on the expected revision; two of them do not queue at all.
    const stores = await Promise.all(Array.from({ length: 4 }, () => createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 5 })));
    const variants: CommandDeps[] = stores.map((s, i) => ({ store: s, clock, ...(i % 2 === 1 ? { serialize: false, streamCache: false } : {}) }));
    const attempts = Array.from({ length: 200 }, () => booking(clinicId, monday('15:00')));
    const outcomes = await Promise.allSettled(attempts.map((a, i) => bookReservation(variants[i % variants.length]!, a.input, a.meta)));
    await Promise.all(stores.map((s) => s.close()));

    const booked = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(booked).toHaveLength(3);
    expect(refused).toHaveLength(197);
    for (const error of refused) {
      expect(error).toBeInstanceOf(SlotOverCapacityError);
      expect((error as DomainError).code).toBe('schedule.slot_over_capacity');
    }
    expect(refused.some((e) => e instanceof ConcurrencyConflict)).toBe(false);

    // The clinic day: three holds, all confirmed; and exactly three reservation streams.
    const day = await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, '2025-03-03'));
    expect(Object.values(day.state.holds)).toHaveLength(3);
    expect(Object.values(day.state.holds).every((h) => h.confirmed)).toBe(true);
    // Counted in the table itself: readAll may still be held back by transactions of other test files.
    const [requested] = await t.sql`select count(*)::int as n from es_events where type = 'ReservationRequested' and data->>'clinicId' = ${clinicId}`;
    expect(requested!.n).toBe(3);
  });

  it('refuses a booking outside opening hours without holding anything', async () => {
    const clinicId = await newClinic();
    const b = booking(clinicId, monday('13:00'));
    await expect(bookReservation(deps, b.input, b.meta)).rejects.toMatchObject({ code: 'booking.outside_opening_hours' });
    expect(await read(streams.schedule(clinicId, '2025-03-03'))).toEqual([]);
  });

  it('releases the hold at once when the reservation is refused (the reservation id is taken)', async () => {
    const clinicId = await newClinic();
    const first = booking(clinicId);
    await bookReservation(deps, first.input, first.meta);
    // The same patient, a new command reusing their own reservation id.
    const clash = booking(clinicId, monday('11:30'));
    clash.input.reservationId = first.input.reservationId;
    clash.input.patientId = first.input.patientId;
    clash.meta = commandMetadata({ actor: first.meta.actor, clinicId });
    await expect(bookReservation(deps, clash.input, clash.meta)).rejects.toMatchObject({ code: 'reservation.already_exists' });
    const day = await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, '2025-03-03'));
    expect(Object.keys(day.state.holds)).toHaveLength(1);
    expect(Object.values(day.state.released)).toEqual(['cancelled']);
  });

  it('a hold whose reservation was never recorded expires and frees the seat; retrying that booking is refused as expired', async () => {
    const clinicId = await newClinic(1);
    const b = booking(clinicId);
    // The booking crashed after its first step: only the hold exists.
    const facts = await loadClinic(deps, clinicId);
    const { derivedId, subCommand } = await import('./metadata');
    await holdSlots(
      deps,
      facts,
      { clinicId, day: '2025-03-03', holdId: derivedId('hold', b.meta.commandId), reservationId: b.input.reservationId, startsAt: b.input.startsAt, durationMinutes: 30 },
      subCommand(b.meta, 'hold'),
    );
    const other = booking(clinicId);
    await expect(bookReservation(deps, other.input, other.meta)).rejects.toBeInstanceOf(SlotOverCapacityError);

    clock.advanceMinutes(16); // past the 15-minute hold lifetime
    try {
      const expired = await expireHolds(deps, { clinicId, day: '2025-03-03' }, meta());
      expect(expired.events).toMatchObject([{ type: 'SlotReleased', data: { reason: 'expired', reservationId: b.input.reservationId } }]);
      await expect(bookReservation(deps, b.input, b.meta)).rejects.toBeInstanceOf(HoldExpiredError);
      const retried = booking(clinicId);
      await expect(bookReservation(deps, retried.input, retried.meta)).resolves.toMatchObject({ day: '2025-03-03' });
    } finally {
      clock.set('2025-03-02T00:00:00Z');
    }
  });

  it('retrying a booking that crashed between its steps completes it without repeating a step', async () => {
    const clinicId = await newClinic();
    const b = booking(clinicId);
    const facts = await loadClinic(deps, clinicId);
    const { derivedId, subCommand } = await import('./metadata');
    await holdSlots(
      deps,
      facts,
      { clinicId, day: '2025-03-03', holdId: derivedId('hold', b.meta.commandId), reservationId: b.input.reservationId, startsAt: b.input.startsAt, durationMinutes: 30 },
      subCommand(b.meta, 'hold'),
    );
    const result = await bookReservation(deps, b.input, b.meta);
    expect(result.duplicate).toBe(false);
    expect((await read(streams.schedule(clinicId, '2025-03-03'))).map((e) => e.type)).toEqual(['SlotHeld', 'HoldConfirmed']);
  });
});

describe('rescheduling', () => {
  it('another day: holds the new slot first, records the move, then releases the old hold', async () => {
    const clinicId = await newClinic();
    const b = booking(clinicId);
    const booked = await bookReservation(deps, b.input, b.meta);
    const m = commandMetadata({ actor: b.meta.actor, clinicId });
    const moved = await rescheduleReservation(deps, { reservationId: b.input.reservationId, startsAt: tuesday('16:00'), by: 'patient' }, m);
    expect(moved.day).toBe('2025-03-04');
    const tue = await read(streams.schedule(clinicId, '2025-03-04'));
    const mon = await read(streams.schedule(clinicId, '2025-03-03'));
    expect(tue.map((e) => e.type)).toEqual(['SlotHeld', 'HoldConfirmed']);
    expect(mon.map((e) => e.type)).toEqual(['SlotHeld', 'HoldConfirmed', 'SlotReleased']);
    expect(mon[2]!.data).toMatchObject({ holdId: booked.holdId, reason: 'rescheduled' });
    // Hold before release, in the log's order.
    expect(comparePositions(tue[0]!.position, mon[2]!.position)).toBeLessThan(0);
    const r = await loadStream(store, reservation.reservationDecider, streams.reservation(b.input.reservationId));
    expect(r.state).toMatchObject({ day: '2025-03-04', holdId: moved.holdId, feesDueKrw: 0 });
    // Same command id again: nothing more.
    const before = await storedEvents(t.sql);
    await rescheduleReservation(deps, { reservationId: b.input.reservationId, startsAt: tuesday('16:00'), by: 'patient' }, m);
    expect(await storedEvents(t.sql)).toEqual(before);
  });

  it('same day (capacity 1): one append holds the new slot and releases the old, then the new hold is confirmed', async () => {
    const clinicId = await newClinic(1);
    const b = booking(clinicId, monday('11:00'));
    await bookReservation(deps, b.input, b.meta);
    const moved = await rescheduleReservation(deps, { reservationId: b.input.reservationId, startsAt: monday('11:30'), by: 'staff', staffId: 'staff-1' }, meta());
    const mon = await read(streams.schedule(clinicId, '2025-03-03'));
    expect(mon.map((e) => e.type)).toEqual(['SlotHeld', 'HoldConfirmed', 'SlotHeld', 'SlotReleased', 'HoldConfirmed']);
    const day = await loadStream(store, schedule.scheduleDecider, streams.schedule(clinicId, '2025-03-03'));
    expect(Object.keys(day.state.holds)).toEqual([moved.holdId]);
  });

  it('a refused move (cancelled reservation) touches no schedule', async () => {
    const clinicId = await newClinic();
    const b = booking(clinicId);
    await bookReservation(deps, b.input, b.meta);
    await cancelReservation(deps, { reservationId: b.input.reservationId, by: 'patient', reason: 'changed my mind' }, meta());
    await expect(rescheduleReservation(deps, { reservationId: b.input.reservationId, startsAt: tuesday('16:00'), by: 'patient' }, meta())).rejects.toMatchObject({
      code: 'reservation.closed',
    });
    expect(await read(streams.schedule(clinicId, '2025-03-04'))).toEqual([]);
  });

  it('a move into a full slot is refused and the reservation keeps its time', async () => {
    const clinicId = await newClinic(1);
    const a = booking(clinicId, monday('11:00'));
    const b = booking(clinicId, monday('11:30'));
    await bookReservation(deps, a.input, a.meta);
    await bookReservation(deps, b.input, b.meta);
    await expect(rescheduleReservation(deps, { reservationId: a.input.reservationId, startsAt: monday('11:30'), by: 'patient' }, meta())).rejects.toBeInstanceOf(
      SlotOverCapacityError,
    );
    const r = await loadStream(store, reservation.reservationDecider, streams.reservation(a.input.reservationId));
    expect((r.state as ActiveReservation).startsAt).toBe(new Date(monday('11:00')).toISOString());
  });
});

describe('check-in', () => {
  it('checks the reservation in and records the arrival on the visit with the same id', async () => {
    const clinicId = await newClinic();
    const b = booking(clinicId);
    await bookReservation(deps, b.input, b.meta);
    const visitId = `v-${uid()}`;
    const result = await checkInReservation(deps, { reservationId: b.input.reservationId, visitId, staffId: 'staff-1' }, meta());
    expect(result.reservation.events.map((e) => e.type)).toEqual(['ReservationCheckedIn']);
    expect(result.visit.events).toMatchObject([{ type: 'PatientArrived', data: { visitId, clinicId, patientId: b.input.patientId, reservationId: b.input.reservationId } }]);
  });
});
