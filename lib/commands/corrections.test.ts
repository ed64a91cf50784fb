/**
 * Issue 8's domain corrections seen through the command handlers (real event store): what the
 * deciders now refuse or allow must hold across the multi-stream booking and rescheduling too.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { streams } from '../domain';
import { monday, POLICY } from '../domain/clinic/fixtures';
import { createEventStore, StreamNotFound } from '../eventstore';
import { createTestDatabase } from '../testing/db';
import { changeClinicSettings, setCancellationPolicy } from './clinic';
import type { CommandDeps } from './deps';
import { BookingBeyondHorizonError } from '../domain/clinic';
import { bookReservation, confirmReservation, rescheduleReservation } from './reservation';
import { FREE_CONSULT, manualClock, managerMeta, meta, patientMeta, registerTestClinic, staffMeta } from './testing';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 8 });
afterAll(() => store.close());
const clock = manualClock('2025-03-02T00:00:00Z'); // Sunday 09:00 Seoul
const deps: CommandDeps = { store, clock };
const uid = () => randomBytes(5).toString('hex');

async function types(streamId: string): Promise<string[]> {
  try {
    return (await store.readStream(streamId)).map((e) => e.type);
  } catch (e) {
    if (e instanceof StreamNotFound) return [];
    throw e;
  }
}

async function bookConsult(clinicId: string, startsAt: string) {
  const patientId = `p-${uid()}`;
  const reservationId = `r-${uid()}`;
  await bookReservation(deps, { reservationId, clinicId, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt }, patientMeta(patientId, clinicId));
  return { reservationId, patientId };
}

describe('rescheduling keeps the notice frozen in the reservation, on the clinic day too', () => {
  it('given a booking under a 2 h notice and a clinic now asking 72 h, when the patient moves it to 6 h ahead, then the day holds it and the move is recorded', async () => {
    const clinicId = `c-${uid()}`;
    await registerTestClinic(deps, clinicId);
    const { reservationId, patientId } = await bookConsult(clinicId, monday('11:00'));
    await setCancellationPolicy(deps, { clinicId, policy: { ...POLICY, minimumNoticeHours: 72 } }, meta());
    clock.set('2025-03-03T00:00:00Z'); // Monday 09:00: 15:00 is 6 h ahead
    try {
      const moved = await rescheduleReservation(deps, { reservationId, startsAt: monday('15:00'), by: 'patient' }, patientMeta(patientId, clinicId));
      expect(moved.reservation.events.map((e) => e.type)).toEqual(['ReservationRescheduled']);
      expect(await types(streams.schedule(clinicId, '2025-03-03'))).toEqual(['SlotHeld', 'HoldConfirmed', 'SlotHeld', 'SlotReleased', 'HoldConfirmed']);
    } finally {
      clock.set('2025-03-02T00:00:00Z');
    }
  });
});

describe("a patient's reschedule of a clinic-confirmed booking goes back to the clinic", () => {
  it('given a consultation the clinic confirmed, when the patient moves it, then the reservation waits for the clinic, and staff confirm it again', async () => {
    const clinicId = `c-${uid()}`;
    await registerTestClinic(deps, clinicId, { treatments: [{ ...FREE_CONSULT, bookingMode: 'clinic-confirm' }] });
    const { reservationId, patientId } = await bookConsult(clinicId, monday('11:00'));
    const confirmed = await confirmReservation(deps, { reservationId, staffId: 'staff-1' }, staffMeta(clinicId));
    expect(confirmed.state.status).toBe('confirmed');
    const moved = await rescheduleReservation(deps, { reservationId, startsAt: monday('15:00'), by: 'patient' }, patientMeta(patientId, clinicId));
    expect(moved.reservation.state.status).toBe('requested');
    const again = await confirmReservation(deps, { reservationId, staffId: 'staff-1' }, staffMeta(clinicId));
    expect(again.events.map((e) => e.type)).toEqual(['ReservationConfirmed']);
  });
});

describe('the booking horizon through the commands', () => {
  it('given a clinic with a 14-day horizon set by its manager, when a patient books 20 days ahead, then it is refused before any hold; 10 days ahead is booked', async () => {
    const clinicId = `c-${uid()}`;
    await registerTestClinic(deps, clinicId);
    const changed = await changeClinicSettings(deps, { clinicId, bookingHorizonDays: 14 }, managerMeta(clinicId));
    expect(changed.events).toEqual([
      { type: 'ClinicSettingsChanged', schemaVersion: 1, data: { bookingHorizonDays: 14, previousBookingHorizonDays: 90, paymentDeadlineMinutes: 30, previousPaymentDeadlineMinutes: 30 } },
    ]);
    await expect(bookConsult(clinicId, '2025-03-21T11:00:00+09:00')).rejects.toBeInstanceOf(BookingBeyondHorizonError);
    expect(await types(streams.schedule(clinicId, '2025-03-21'))).toEqual([]);
    await expect(bookConsult(clinicId, '2025-03-11T11:00:00+09:00')).resolves.toBeDefined();
  });
});
