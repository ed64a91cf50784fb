/** Issue 9's billing rule: a deposit captured after check-in is credited to the visit (given/when/then). */
import { describe, expect, it } from 'vitest';
import { clinicState, POLICY, ULTHERA } from '../clinic/fixtures';
import { spec } from '../shared/testing';
import { depositCreditKrw, reservationDecider, reservationEvent as ev, ReservationClosedError, type ActiveReservation } from './index';

const { given } = spec(reservationDecider);
const ctx = { now: new Date('2025-03-03T01:58:00Z'), clinic: clinicState() };

// A clinic-confirm booking the clinic confirmed before its deposit was paid.
const requested = ev('ReservationRequested', {
  reservationId: 'r1', clinicId: 'c1', patientId: 'p1', treatmentId: ULTHERA.treatmentId, treatmentName: ULTHERA.name, kind: 'pay-and-book',
  startsAt: '2025-03-03T02:00:00.000Z', endsAt: '2025-03-03T03:30:00.000Z', day: '2025-03-03', holdId: 'h1',
  priceKrw: ULTHERA.priceKrw, depositDueKrw: 200_000, bookingMode: 'clinic-confirm', policy: POLICY,
});
const confirmed = ev('ReservationConfirmed', { reservationId: 'r1', by: 'staff', staffId: 's1' });
const checkedIn = ev('ReservationCheckedIn', { reservationId: 'r1', visitId: 'v1', at: '2025-03-03T01:55:00.000Z' });
const completed = ev('ReservationCompleted', { reservationId: 'r1', visitId: 'v1' });
const pay = { type: 'RecordDepositPaid' as const, paymentId: 'pay1', amountKrw: 200_000 };

describe('a deposit captured after check-in', () => {
  it('given a checked-in reservation, when its deposit is recorded, then it counts towards the bill (it was refused before)', () => {
    given([requested, confirmed, checkedIn])
      .when(pay, ctx)
      .thenState((s, events) => {
        expect(events).toEqual([ev('ReservationDepositPaid', { reservationId: 'r1', paymentId: 'pay1', amountKrw: 200_000, depositPaidKrw: 200_000 })]);
        expect(s.status).toBe('checked-in');
        expect(depositCreditKrw(s as ActiveReservation)).toBe(200_000);
      });
  });

  it('given a completed reservation, then it is closed: the late-deposit refund applies instead', () => {
    given([requested, confirmed, checkedIn, completed]).when(pay, ctx).thenThrows(ReservationClosedError, { code: 'reservation.closed' });
  });
});
