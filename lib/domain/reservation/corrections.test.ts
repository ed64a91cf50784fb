/**
 * Domain rules corrected by issue 8's review, one describe per rule, in given/when/then shape.
 * (The reservation's original rules are in reservation.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { BookingBeyondHorizonError, BookingKindNotAllowedError } from '../clinic/errors';
import { hasPlaintextPersonal } from '../patient/personal';
import { clinicEvent } from '../clinic/events';
import { BOTOX, CLINIC_ID, clinicHistory, clinicState, monday, POLICY } from '../clinic/fixtures';
import { spec } from '../shared/testing';
import { reservationDecider, reservationEvent as ev, StartPassedError, upcastReservationEvent, type ReservationCommand, type ReservationContext, type ReservationEvent } from './index';

const { given } = spec(reservationDecider);
const clinic = clinicState();
const ctx = (iso: string, extra: Partial<ReservationContext> = {}): ReservationContext => ({ now: new Date(iso), clinic, ...extra });

const requested = (extra: Partial<Extract<ReservationEvent, { type: 'ReservationRequested' }>['data']> = {}) =>
  ev('ReservationRequested', {
    reservationId: 'r1',
    clinicId: CLINIC_ID,
    patientId: 'p1',
    treatmentId: BOTOX.treatmentId,
    treatmentName: BOTOX.name,
    kind: 'pay-and-book',
    startsAt: '2025-03-03T02:00:00.000Z', // Monday 11:00 Seoul
    endsAt: '2025-03-03T02:30:00.000Z',
    day: '2025-03-03',
    holdId: 'h1',
    priceKrw: BOTOX.priceKrw,
    depositDueKrw: 50_000,
    bookingMode: 'instant',
    policy: POLICY,
    ...extra,
  });
const paidAndConfirmed = [
  requested(),
  ev('ReservationDepositPaid', { reservationId: 'r1', paymentId: 'pay1', amountKrw: 50_000, depositPaidKrw: 50_000 }),
  ev('ReservationConfirmed', { reservationId: 'r1', by: 'system' }),
];
const reschedule = (startsAt: string, by: 'patient' | 'staff' = 'patient'): ReservationCommand => ({
  type: 'RescheduleReservation',
  startsAt,
  holdId: 'h2',
  by,
  ...(by === 'staff' ? { staffId: 'staff-1' } : {}),
});

describe('a patient cannot cancel or reschedule once the start has passed', () => {
  it('given a paid, confirmed 11:00 booking, when the patient cancels at 12:00, then it is refused (it is a no-show, which refunds 0)', () => {
    given(paidAndConfirmed)
      .when({ type: 'CancelReservation', by: 'patient', reason: 'overslept' }, ctx(monday('12:00')))
      .thenThrows(StartPassedError, { code: 'reservation.start_passed', details: { action: 'cancel' } });
  });

  it('given the same booking, when the patient cancels exactly at the start, then it is refused', () => {
    given(paidAndConfirmed)
      .when({ type: 'CancelReservation', by: 'patient', reason: 'late' }, ctx(monday('11:00')))
      .thenThrows(StartPassedError, { code: 'reservation.start_passed' });
  });

  it('given the same booking, when the patient reschedules after the start, then it is refused', () => {
    given(paidAndConfirmed)
      .when(reschedule('2025-03-04T16:00:00+09:00'), ctx(monday('11:30')))
      .thenThrows(StartPassedError, { code: 'reservation.start_passed', details: { action: 'reschedule' } });
  });

  it('given the same booking, when the patient cancels a minute before the start, then it is a late cancellation', () => {
    given(paidAndConfirmed)
      .when({ type: 'CancelReservation', by: 'patient', reason: 'sick' }, ctx(monday('10:59')))
      .thenState((s, [e]) => {
        expect(s.status).toBe('cancelled');
        expect(e).toMatchObject({ type: 'ReservationCancelled', data: { late: true, feeKrw: 30_000, refundDueKrw: 20_000 } });
      });
  });

  it('given the same booking, when staff cancel after the start (the clinic could not treat), then it is allowed', () => {
    given(paidAndConfirmed)
      .when({ type: 'CancelReservation', by: 'staff', staffId: 'staff-1', reason: 'laser broken' }, ctx(monday('11:10')))
      .thenState((s) => expect(s.status).toBe('cancelled'));
  });
});

describe('a version-1 ReservationRequested without bookingMode upcasts instead of throwing', () => {
  it('given a v1 event as v1 wrote it (no kind, no bookingMode), when it is read, then it is the current version with the clinic confirming (how every booking worked before booking modes)', () => {
    const { kind: _k, bookingMode: _b, ...v1 } = requested().data;
    const read = upcastReservationEvent({ type: 'ReservationRequested', schemaVersion: 1, data: v1 });
    expect(read).toMatchObject({ type: 'ReservationRequested', data: { kind: 'pay-and-book', bookingMode: 'clinic-confirm', depositDueKrw: 50_000 } });
    expect(read.schemaVersion).toBe(ev('ReservationRequested', requested().data).schemaVersion);
  });

  it('given a v1 event that asked no deposit, when it is read, then it is a consult-first waiting for the clinic, and a reservation folds from it', () => {
    const { kind: _k, bookingMode: _b, ...v1 } = requested({ depositDueKrw: 0 }).data;
    const read = upcastReservationEvent({ type: 'ReservationRequested', schemaVersion: 1, data: v1 });
    given([read])
      .when({ type: 'ConfirmReservation', staffId: 'staff-1' }, ctx(monday('09:00')))
      .then([ev('ReservationConfirmed', { reservationId: 'r1', by: 'staff', staffId: 'staff-1' })]);
  });
});

describe("a patient's reschedule of a clinic-confirmed booking returns it to the clinic for confirmation", () => {
  const clinicConfirmed = [
    requested({ bookingMode: 'clinic-confirm', kind: 'consult-first', depositDueKrw: 0 }),
    ev('ReservationConfirmed', { reservationId: 'r1', by: 'staff', staffId: 'staff-1' }),
  ];
  const sunday9 = ctx('2025-03-02T09:00:00+09:00');

  it('given a booking the clinic confirmed, when the patient moves it, then it waits for the clinic again', () => {
    given(clinicConfirmed)
      .when(reschedule('2025-03-04T16:00:00+09:00'), sunday9)
      .thenState((s, [e]) => {
        expect(e).toMatchObject({ type: 'ReservationRescheduled', data: { by: 'patient', needsClinicConfirmation: true } });
        expect(s.status).toBe('requested');
      });
  });

  it('given the clinic confirms the moved booking, then it is confirmed again', () => {
    given([
      ...clinicConfirmed,
      ev('ReservationRescheduled', {
        reservationId: 'r1',
        by: 'patient',
        previousStartsAt: '2025-03-03T02:00:00.000Z',
        previousDay: '2025-03-03',
        previousHoldId: 'h1',
        startsAt: '2025-03-04T07:00:00.000Z',
        endsAt: '2025-03-04T07:30:00.000Z',
        day: '2025-03-04',
        holdId: 'h2',
        lateFeeKrw: 0,
        needsClinicConfirmation: true,
      }),
    ])
      .when({ type: 'ConfirmReservation', staffId: 'staff-1' }, sunday9)
      .then([ev('ReservationConfirmed', { reservationId: 'r1', by: 'staff', staffId: 'staff-1' })]);
  });

  it('given the same booking, when staff move it, then it stays confirmed', () => {
    given(clinicConfirmed)
      .when(reschedule('2025-03-04T16:00:00+09:00', 'staff'), sunday9)
      .thenState((s, [e]) => {
        expect(e).toMatchObject({ data: { needsClinicConfirmation: false } });
        expect(s.status).toBe('confirmed');
      });
  });

  it('given an instant booking, when the patient moves it, then it stays confirmed', () => {
    given(paidAndConfirmed)
      .when(reschedule('2025-03-04T16:00:00+09:00'), sunday9)
      .thenState((s) => expect(s.status).toBe('confirmed'));
  });

  it('given a v1 ReservationRescheduled (before this rule), when it is read, then it did not need the clinic', () => {
    const { needsClinicConfirmation: _n, ...v1 } = ev('ReservationRescheduled', {
      reservationId: 'r1', by: 'patient', previousStartsAt: '2025-03-03T02:00:00.000Z', previousDay: '2025-03-03', previousHoldId: 'h1',
      startsAt: '2025-03-04T07:00:00.000Z', endsAt: '2025-03-04T07:30:00.000Z', day: '2025-03-04', holdId: 'h2', lateFeeKrw: 0, needsClinicConfirmation: false,
    }).data;
    expect(upcastReservationEvent({ type: 'ReservationRescheduled', schemaVersion: 1, data: v1 }).data).toMatchObject({ needsClinicConfirmation: false });
  });
});

describe('the treatment decides the booking kinds; consult first books only the consultation', () => {
  const laser = { treatmentId: 'tx-laser', name: '레이저 토닝', category: 'laser', priceKrw: 150_000, durationMinutes: 60, depositKrw: 50_000, bookingMode: 'instant' as const };
  const withLaser = (kinds: Array<'consult-first' | 'pay-and-book'>) =>
    clinicState([...clinicHistory, clinicEvent('TreatmentListed', { ...laser, taxCategory: 'taxable', bookingKinds: kinds, ...(kinds.includes('consult-first') ? { consultDurationMinutes: 20 } : {}) })]);
  const book = (kind: 'consult-first' | 'pay-and-book'): ReservationCommand => ({
    type: 'RequestReservation', reservationId: 'r1', clinicId: CLINIC_ID, patientId: 'p1', treatmentId: 'tx-laser', kind, startsAt: monday('11:00'), holdId: 'h1',
  });

  it('given a treatment that takes only pay and book, when a patient asks consult first to skip the deposit, then it is refused', () => {
    given([]).when(book('consult-first'), ctx('2025-03-01T00:00:00Z', { clinic: withLaser(['pay-and-book']) })).thenThrows(BookingKindNotAllowedError, {
      code: 'booking.kind_not_allowed',
      details: { kind: 'consult-first', allowed: ['pay-and-book'] },
    });
  });

  it('given a treatment that allows both, when consult first is booked, then the reservation is the 20-minute consultation, no deposit', () => {
    given([])
      .when(book('consult-first'), ctx('2025-03-01T00:00:00Z', { clinic: withLaser(['consult-first', 'pay-and-book']) }))
      .thenState((_s, [e]) => expect(e).toMatchObject({ data: { kind: 'consult-first', startsAt: '2025-03-03T02:00:00.000Z', endsAt: '2025-03-03T02:20:00.000Z', depositDueKrw: 0 } }));
  });

  it('given the same treatment, when pay and book is booked, then the whole 60-minute treatment is held and the deposit is due', () => {
    given([])
      .when(book('pay-and-book'), ctx('2025-03-01T00:00:00Z', { clinic: withLaser(['consult-first', 'pay-and-book']) }))
      .thenState((_s, [e]) => expect(e).toMatchObject({ data: { endsAt: '2025-03-03T03:00:00.000Z', depositDueKrw: 50_000 } }));
  });
});

describe("the reservation's free-text note is the patient's personal data", () => {
  const withNote = (note: string): ReservationCommand => ({
    type: 'RequestReservation', reservationId: 'r1', clinicId: CLINIC_ID, patientId: 'p1', treatmentId: BOTOX.treatmentId, kind: 'pay-and-book', startsAt: monday('11:00'), holdId: 'h1', note,
  });

  it('given a booking with a note, when it is requested, then the note travels only inside the personal field (for the vault to encrypt), never as plain data', () => {
    given([])
      .when(withNote('아토피가 있어요 (atopic skin)'), ctx('2025-03-01T00:00:00Z'))
      .thenState((_s, [e]) => {
        expect(e!.data).not.toHaveProperty('note');
        expect(e!.data).toMatchObject({ personal: { kind: 'plain', value: { note: '아토피가 있어요 (atopic skin)' } } });
        expect(hasPlaintextPersonal(e!)).toBe(true); // the append path refuses it unless the vault encrypted it
      });
  });

  it('given a booking without a note, then the event has no personal field (nothing to encrypt)', () => {
    const { note: _n, ...command } = withNote('x') as Extract<ReservationCommand, { type: 'RequestReservation' }>;
    given([]).when(command, ctx('2025-03-01T00:00:00Z')).thenState((_s, [e]) => expect(e!.data).not.toHaveProperty('personal'));
  });

  it('given a v2 event that carried the note in plain data, when it is read, then the note is moved into the personal field', () => {
    const { personal: _p, ...v3 } = requested().data as Record<string, unknown>;
    const read = upcastReservationEvent({ type: 'ReservationRequested', schemaVersion: 2, data: { ...v3, note: 'old note' } });
    expect(read.data).not.toHaveProperty('note');
    expect(read.data).toMatchObject({ personal: { kind: 'plain', value: { note: 'old note' } } });
  });

  it('given the note read after the patient was erased, then it reads as erased and the reservation still folds', () => {
    given([requested({ personal: { kind: 'erased' } })])
      .when({ type: 'ConfirmReservation', staffId: 'staff-1' }, ctx('2025-03-01T00:00:00Z'))
      .then([ev('ReservationConfirmed', { reservationId: 'r1', by: 'staff', staffId: 'staff-1' })]);
  });
});

describe('the booking horizon also bounds a move', () => {
  it('given a booking, when the patient moves it to 2035, then it is refused beyond the horizon', () => {
    given(paidAndConfirmed)
      .when(reschedule('2035-03-05T11:00:00+09:00'), ctx('2025-03-01T00:00:00Z'))
      .thenThrows(BookingBeyondHorizonError, { code: 'booking.beyond_horizon', details: { bookingHorizonDays: 90 } });
  });

  it('given a booking, when the patient asks for a new one in 2035, then it is refused', () => {
    given([])
      .when(
        { type: 'RequestReservation', reservationId: 'r1', clinicId: CLINIC_ID, patientId: 'p1', treatmentId: BOTOX.treatmentId, kind: 'pay-and-book', startsAt: '2035-03-05T11:00:00+09:00', holdId: 'h1' },
        ctx('2025-03-01T00:00:00Z'),
      )
      .thenThrows(BookingBeyondHorizonError);
  });
});
