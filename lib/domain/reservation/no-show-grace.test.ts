/** RecordNoShow honours the clinic's grace period (`noShowGraceMinutes`) in the decider, so every path does (given/when/then). */
import { describe, it } from 'vitest';
import { NoShowBeforeGraceError } from '../clinic/errors';
import { clinicEvent } from '../clinic/events';
import { CLINIC_ID, clinicHistory, clinicState, POLICY, BOTOX } from '../clinic/fixtures';
import { spec } from '../shared/testing';
import { NoShowBeforeStartError, reservationDecider, reservationEvent as ev } from './index';

const { given } = spec(reservationDecider);
const at = (iso: string, clinic = clinicState()) => ({ now: new Date(iso), clinic });

// A confirmed, paid booking at Monday 11:00 Seoul (02:00 UTC).
const booked = [
  ev('ReservationRequested', {
    reservationId: 'r1', clinicId: CLINIC_ID, patientId: 'p1', treatmentId: BOTOX.treatmentId, treatmentName: BOTOX.name, kind: 'pay-and-book',
    startsAt: '2025-03-03T02:00:00.000Z', endsAt: '2025-03-03T02:30:00.000Z', day: '2025-03-03', holdId: 'h1',
    priceKrw: BOTOX.priceKrw, depositDueKrw: BOTOX.depositKrw, bookingMode: 'instant', policy: POLICY,
  }),
  ev('ReservationDepositPaid', { reservationId: 'r1', paymentId: 'pay1', amountKrw: 50_000, depositPaidKrw: 50_000 }),
  ev('ReservationConfirmed', { reservationId: 'r1', by: 'system' }),
];
const noShow = ev('NoShowRecorded', { reservationId: 'r1', staffId: 's1', depositForfeitedKrw: 50_000, refundDueKrw: 0 });
const command = { type: 'RecordNoShow' as const, staffId: 's1' };

describe('no-show grace period in the reservation decider', () => {
  it('given a confirmed booking, when staff record a no-show 5 minutes after the start (default grace 15), then it is refused', () => {
    given(booked)
      .when(command, at('2025-03-03T02:05:00Z'))
      .thenThrows(NoShowBeforeGraceError, { code: 'reservation.no_show_within_grace' });
    given(booked).when(command, at('2025-03-03T02:14:59Z')).thenThrows(NoShowBeforeGraceError);
  });

  it('given a confirmed booking, when the grace is over (exactly 15 minutes), then the no-show is recorded', () => {
    given(booked).when(command, at('2025-03-03T02:15:00Z')).then([noShow]);
  });

  it("given a clinic whose grace is 30 minutes, then 20 minutes after the start is still within it", () => {
    const thirty = clinicState([
      ...clinicHistory,
      clinicEvent('ClinicSettingsChanged', {
        bookingHorizonDays: 90, previousBookingHorizonDays: 90, paymentDeadlineMinutes: 30, previousPaymentDeadlineMinutes: 30,
        noShowGraceMinutes: 30, previousNoShowGraceMinutes: 15,
      }),
    ]);
    given(booked).when(command, at('2025-03-03T02:20:00Z', thirty)).thenThrows(NoShowBeforeGraceError);
    given(booked).when(command, at('2025-03-03T02:30:00Z', thirty)).then([noShow]);
  });

  it('before the start it is still the start error; recorded already, a retry is answered with nothing (no grace check)', () => {
    given(booked).when(command, at('2025-03-03T01:59:00Z')).thenThrows(NoShowBeforeStartError);
    given([...booked, noShow]).when(command, at('2025-03-03T02:01:00Z')).then([]);
  });

  it('without the clinic in its context the decider refuses to decide (the handler must load it)', () => {
    given(booked).when(command, { now: new Date('2025-03-03T03:00:00Z') }).thenThrows(Error);
  });
});
