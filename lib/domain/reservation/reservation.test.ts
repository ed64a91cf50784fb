import { describe, expect, it } from 'vitest';
import {
  BookingInPastError,
  BookingInsideMinimumNoticeError,
  BookingOutsideOpeningHoursError,
  TreatmentUnlistedError,
} from '../clinic/errors';
import { clinicEvent } from '../clinic/events';
import { BOTOX, CLINIC_ID, clinicHistory, clinicState, monday, POLICY, tuesday, ULTHERA } from '../clinic/fixtures';
import { AlreadyExistsError, InvalidTransitionError, NotFoundError } from '../shared/errors';
import { spec } from '../shared/testing';
import {
  ClinicMismatchError,
  NoShowBeforeStartError,
  ReservationClosedError,
  reservationDecider,
  depositCreditKrw,
  lateDepositRefundKrw,
  reservationEvent as ev,
  upcastReservationEvent,
  type ActiveReservation,
  type ReservationCommand,
  type ReservationContext,
  type ReservationEvent,
} from './index';

const { given } = spec(reservationDecider);
const clinic = clinicState();
/** Saturday 2025-03-01 09:00 Seoul: two days before Monday's bookings. */
const now = new Date('2025-03-01T00:00:00Z');
const ctx: ReservationContext = { now, clinic };
const at = (iso: string, extra: Partial<ReservationContext> = {}): ReservationContext => ({ ...ctx, now: new Date(iso), ...extra });

const request = (extra: Partial<Extract<ReservationCommand, { type: 'RequestReservation' }>> = {}): ReservationCommand => ({
  type: 'RequestReservation',
  reservationId: 'r1',
  clinicId: CLINIC_ID,
  patientId: 'p1',
  treatmentId: BOTOX.treatmentId,
  kind: 'pay-and-book',
  startsAt: monday('11:00'),
  holdId: 'h1',
  ...extra,
});

const requested = (extra: Partial<Extract<ReservationEvent, { type: 'ReservationRequested' }>['data']> = {}) =>
  ev('ReservationRequested', {
    reservationId: 'r1',
    clinicId: CLINIC_ID,
    patientId: 'p1',
    treatmentId: BOTOX.treatmentId,
    treatmentName: BOTOX.name,
    kind: 'pay-and-book',
    startsAt: '2025-03-03T02:00:00.000Z',
    endsAt: '2025-03-03T02:30:00.000Z',
    day: '2025-03-03',
    holdId: 'h1',
    priceKrw: BOTOX.priceKrw,
    depositDueKrw: BOTOX.depositKrw,
    bookingMode: 'instant',
    policy: POLICY,
    ...extra,
  });
const depositPaid = ev('ReservationDepositPaid', { reservationId: 'r1', paymentId: 'pay1', amountKrw: 50_000, depositPaidKrw: 50_000 });
const systemConfirmed = ev('ReservationConfirmed', { reservationId: 'r1', by: 'system' });
const booked = [requested(), depositPaid, systemConfirmed];
const cancelledByPatient = ev('ReservationCancelled', {
  reservationId: 'r1',
  by: 'patient',
  reason: 'changed my mind',
  late: false,
  feeKrw: 0,
  refundDueKrw: 50_000,
  day: '2025-03-03',
  holdId: 'h1',
});
const checkedIn = ev('ReservationCheckedIn', { reservationId: 'r1', visitId: 'v1', at: '2025-03-03T01:55:00.000Z' });
const completed = ev('ReservationCompleted', { reservationId: 'r1', visitId: 'v1' });

describe('reservation', () => {
  describe('request', () => {
    it('pay and book freezes price, deposit, duration, booking mode and the cancellation policy', () => {
      given([]).when(request(), ctx).then([requested()]);
    });

    it('the frozen policy survives later policy changes of the clinic', () => {
      const stricter = clinicState([...clinicHistory, clinicEvent('CancellationPolicySet', { policy: { ...POLICY, lateCancellationFeeKrw: 99_000 }, previousPolicy: POLICY })]);
      given([requested()])
        .when({ type: 'CancelReservation', by: 'patient', reason: 'sick' }, at(monday('09:00'), { clinic: stricter }))
        .then([{ ...cancelledByPatient, data: { ...cancelledByPatient.data, reason: 'sick', late: true, feeKrw: 30_000, refundDueKrw: 0 } }]);
    });

    it('consult first on an instant treatment needs no deposit and is confirmed at once', () => {
      given([])
        .when(request({ kind: 'consult-first' }), ctx)
        .then([requested({ kind: 'consult-first', depositDueKrw: 0 }), systemConfirmed]);
    });

    it('a clinic-confirm treatment waits for staff', () => {
      given([])
        .when(request({ treatmentId: ULTHERA.treatmentId, kind: 'consult-first', startsAt: monday('15:00') }), ctx)
        .thenState((s) => expect(s.status).toBe('requested'));
    });

    it('no booking in the past, inside the minimum notice, or outside opening hours', () => {
      given([]).when(request(), at(monday('11:30'))).thenThrows(BookingInPastError, { code: 'booking.in_past' });
      given([]).when(request(), at(monday('09:30'))).thenThrows(BookingInsideMinimumNoticeError, { code: 'booking.inside_minimum_notice' });
      given([]).when(request({ startsAt: monday('13:30') }), ctx).thenThrows(BookingOutsideOpeningHoursError);
      given([]).when(request({ startsAt: monday('19:00') }), ctx).thenThrows(BookingOutsideOpeningHoursError);
    });

    it('refuses unlisted treatments and another clinic’s context', () => {
      const unlisted = clinicState([...clinicHistory, clinicEvent('TreatmentUnlisted', { treatmentId: BOTOX.treatmentId })]);
      given([]).when(request(), { ...ctx, clinic: unlisted }).thenThrows(TreatmentUnlistedError);
      given([]).when(request({ clinicId: 'other' }), ctx).thenThrows(ClinicMismatchError);
    });

    it('a retried request is a no-op; a different one with the same id is refused', () => {
      given([requested()]).when(request(), ctx).then([]);
      given([requested()]).when(request({ startsAt: monday('11:30') }), ctx).thenThrows(AlreadyExistsError);
    });
  });

  describe('deposit and confirmation', () => {
    it('an instant booking confirms itself when its deposit is paid (once per payment)', () => {
      given([requested()])
        .when({ type: 'RecordDepositPaid', paymentId: 'pay1', amountKrw: 50_000 }, ctx)
        .then([depositPaid, systemConfirmed]);
      given(booked).when({ type: 'RecordDepositPaid', paymentId: 'pay1', amountKrw: 50_000 }, ctx).then([]);
    });

    it('a clinic-confirm booking stays requested after its deposit until staff confirm', () => {
      given([requested({ bookingMode: 'clinic-confirm' })])
        .when({ type: 'RecordDepositPaid', paymentId: 'pay1', amountKrw: 50_000 }, ctx)
        .then([depositPaid]);
      given([requested({ bookingMode: 'clinic-confirm' }), depositPaid])
        .when({ type: 'ConfirmReservation', staffId: 's1' }, ctx)
        .then([ev('ReservationConfirmed', { reservationId: 'r1', by: 'staff', staffId: 's1' })]);
    });

    it('staff reject a request, refunding any deposit paid', () => {
      given([requested({ bookingMode: 'clinic-confirm' }), depositPaid])
        .when({ type: 'RejectReservation', staffId: 's1', reason: 'doctor unavailable' }, ctx)
        .then([ev('ReservationRejected', { reservationId: 'r1', staffId: 's1', reason: 'doctor unavailable', refundDueKrw: 50_000 })]);
      given(booked).when({ type: 'RejectReservation', staffId: 's1', reason: 'x' }, ctx).thenThrows(InvalidTransitionError);
    });

    it('commands on a reservation that does not exist are refused', () => {
      given([]).when({ type: 'ConfirmReservation', staffId: 's1' }, ctx).thenThrows(NotFoundError, { code: 'reservation.not_found' });
    });
  });

  describe('closed reservations', () => {
    const reschedule: ReservationCommand = { type: 'RescheduleReservation', startsAt: monday('15:00'), holdId: 'h2', by: 'patient' };
    const closedHistories: Array<[string, ReservationEvent[]]> = [
      ['cancelled', [...booked, cancelledByPatient]],
      ['completed', [...booked, checkedIn, completed]],
    ];
    for (const [status, history] of closedHistories) {
      it(`a ${status} reservation cannot be rescheduled, confirmed or checked in`, () => {
        for (const cmd of [reschedule, { type: 'ConfirmReservation', staffId: 's1' }, { type: 'CheckInReservation', visitId: 'v9' }] as ReservationCommand[]) {
          given(history).when(cmd, ctx).thenThrows(ReservationClosedError, { code: 'reservation.closed', details: { status } });
        }
      });
    }
    it('cancelling twice is a no-op', () => {
      given([...booked, cancelledByPatient]).when({ type: 'CancelReservation', by: 'patient', reason: 'again' }, ctx).then([]);
    });
  });

  describe('cancellation', () => {
    it('free cancellation before the window refunds the whole deposit', () => {
      given(booked).when({ type: 'CancelReservation', by: 'patient', reason: 'changed my mind' }, ctx).then([cancelledByPatient]);
    });

    it('a late cancellation applies the frozen fee, withheld from the deposit', () => {
      // 2025-03-02 12:00 Seoul is 23h before the start: inside the 24h window.
      given(booked)
        .when({ type: 'CancelReservation', by: 'patient', reason: 'busy' }, at('2025-03-02T12:00:00+09:00'))
        .then([{ ...cancelledByPatient, data: { ...cancelledByPatient.data, reason: 'busy', late: true, feeKrw: 30_000, refundDueKrw: 20_000 } }]);
    });

    it('exactly at the window edge the cancellation is still free', () => {
      given(booked)
        .when({ type: 'CancelReservation', by: 'patient', reason: 'busy' }, at('2025-03-02T11:00:00+09:00'))
        .then([{ ...cancelledByPatient, data: { ...cancelledByPatient.data, reason: 'busy' } }]);
    });

    it('a staff cancellation is never late and refunds everything', () => {
      given(booked)
        .when({ type: 'CancelReservation', by: 'staff', staffId: 's1', reason: 'doctor ill' }, at(monday('10:00')))
        .then([
          ev('ReservationCancelled', {
            reservationId: 'r1', by: 'staff', staffId: 's1', reason: 'doctor ill', late: false, feeKrw: 0, refundDueKrw: 50_000, day: '2025-03-03', holdId: 'h1',
          }),
        ]);
    });
  });

  describe('reschedule', () => {
    it('moves the reservation to a new held slot (possibly another day), naming the old hold to release', () => {
      given(booked)
        .when({ type: 'RescheduleReservation', startsAt: tuesday('15:00'), holdId: 'h2', by: 'patient' }, ctx)
        .then([
          ev('ReservationRescheduled', {
            reservationId: 'r1',
            by: 'patient',
            previousStartsAt: '2025-03-03T02:00:00.000Z',
            previousDay: '2025-03-03',
            previousHoldId: 'h1',
            startsAt: '2025-03-04T06:00:00.000Z',
            endsAt: '2025-03-04T06:30:00.000Z',
            day: '2025-03-04',
            holdId: 'h2',
            lateFeeKrw: 0,
            needsClinicConfirmation: false,
          }),
        ]);
    });

    it('a late reschedule by the patient costs the frozen fee, which a later cancellation adds to', () => {
      const late = at('2025-03-02T18:00:00+09:00');
      given(booked)
        .when({ type: 'RescheduleReservation', startsAt: tuesday('15:00'), holdId: 'h2', by: 'patient' }, late)
        .thenState((s, evs) => {
          expect(evs[0]?.type === 'ReservationRescheduled' && evs[0].data.lateFeeKrw).toBe(30_000);
          expect(s.status !== 'none' && s.feesDueKrw).toBe(30_000);
        });
      const moved = ev('ReservationRescheduled', {
        reservationId: 'r1', by: 'patient', previousStartsAt: '2025-03-03T02:00:00.000Z', previousDay: '2025-03-03', previousHoldId: 'h1',
        startsAt: '2025-03-04T06:00:00.000Z', endsAt: '2025-03-04T06:30:00.000Z', day: '2025-03-04', holdId: 'h2', lateFeeKrw: 30_000, needsClinicConfirmation: false,
      });
      // Cancelling later (late again): both fees are withheld, the refund never goes below zero.
      given([...booked, moved])
        .when({ type: 'CancelReservation', by: 'patient', reason: 'busy' }, at('2025-03-04T09:00:00+09:00'))
        .thenState((_s, [e]) => expect(e?.type === 'ReservationCancelled' && [e.data.feeKrw, e.data.refundDueKrw]).toEqual([30_000, 0]));
      // Cancelling early enough after the move: only the reschedule fee is withheld.
      given([...booked, moved])
        .when({ type: 'CancelReservation', by: 'patient', reason: 'busy' }, at('2025-03-03T09:00:00+09:00'))
        .thenState((_s, [e]) => expect(e?.type === 'ReservationCancelled' && [e.data.feeKrw, e.data.refundDueKrw]).toEqual([0, 20_000]));
    });

    it('the new time obeys the same booking rules', () => {
      given(booked)
        .when({ type: 'RescheduleReservation', startsAt: monday('13:00'), holdId: 'h2', by: 'staff' }, ctx)
        .thenThrows(BookingOutsideOpeningHoursError);
      given(booked)
        .when({ type: 'RescheduleReservation', startsAt: monday('10:00'), holdId: 'h2', by: 'patient' }, at(monday('09:00')))
        .thenThrows(BookingInsideMinimumNoticeError);
    });

    it('a checked-in reservation cannot be rescheduled', () => {
      given([...booked, checkedIn])
        .when({ type: 'RescheduleReservation', startsAt: tuesday('15:00'), holdId: 'h2', by: 'staff' }, ctx)
        .thenThrows(InvalidTransitionError, { code: 'reservation.invalid_transition' });
    });
  });

  describe('no-show, check-in, completion', () => {
    it('a no-show forfeits the deposit', () => {
      given(booked)
        .when({ type: 'RecordNoShow', staffId: 's1' }, at(monday('11:20')))
        .then([ev('NoShowRecorded', { reservationId: 'r1', staffId: 's1', depositForfeitedKrw: 50_000, refundDueKrw: 0 })]);
    });

    it('a policy without forfeiture refunds the deposit on no-show', () => {
      given([requested({ policy: { ...POLICY, noShowForfeitsDeposit: false } }), depositPaid, systemConfirmed])
        .when({ type: 'RecordNoShow', staffId: 's1' }, at(monday('11:20')))
        .then([ev('NoShowRecorded', { reservationId: 'r1', staffId: 's1', depositForfeitedKrw: 0, refundDueKrw: 50_000 })]);
    });

    it('no no-show before the start, nor for an unconfirmed request', () => {
      given(booked).when({ type: 'RecordNoShow', staffId: 's1' }, at(monday('10:59'))).thenThrows(NoShowBeforeStartError);
      given([requested()]).when({ type: 'RecordNoShow', staffId: 's1' }, at(monday('11:20'))).thenThrows(InvalidTransitionError);
    });

    it('a no-show reservation cannot be checked in', () => {
      given([...booked, ev('NoShowRecorded', { reservationId: 'r1', staffId: 's1', depositForfeitedKrw: 50_000, refundDueKrw: 0 })])
        .when({ type: 'CheckInReservation', visitId: 'v1' }, at(monday('11:40')))
        .thenThrows(ReservationClosedError);
    });

    it('checks in a confirmed reservation, then completes it', () => {
      given(booked).when({ type: 'CheckInReservation', visitId: 'v1' }, at(monday('10:55'))).then([checkedIn]);
      given([...booked, checkedIn]).when({ type: 'CheckInReservation', visitId: 'v1' }, ctx).then([]);
      given([...booked, checkedIn]).when({ type: 'CompleteReservation' }, ctx).then([completed]);
      given(booked).when({ type: 'CompleteReservation' }, ctx).thenThrows(InvalidTransitionError);
    });

    it('an unconfirmed request cannot be checked in', () => {
      given([requested()]).when({ type: 'CheckInReservation', visitId: 'v1' }, ctx).thenThrows(InvalidTransitionError);
    });
  });

  describe('fees due are always withheld from the deposit', () => {
    // A patient's late reschedule (Sunday 18:00, Monday 11:00 → Tuesday 15:00): fee 30 000 due.
    const lateMove = ev('ReservationRescheduled', {
      reservationId: 'r1', by: 'patient', previousStartsAt: '2025-03-03T02:00:00.000Z', previousDay: '2025-03-03', previousHoldId: 'h1',
      startsAt: '2025-03-04T06:00:00.000Z', endsAt: '2025-03-04T06:30:00.000Z', day: '2025-03-04', holdId: 'h2', lateFeeKrw: 30_000, needsClinicConfirmation: false,
    });
    const lenient = { ...POLICY, noShowForfeitsDeposit: false };
    const checkedInTuesday = ev('ReservationCheckedIn', { reservationId: 'r1', visitId: 'v1', at: '2025-03-04T05:55:00.000Z' });
    const stateOf = (events: ReservationEvent[]) => given(events).state as ActiveReservation;

    it('a no-show after a late reschedule, policy not forfeiting: the refund withholds the fee', () => {
      given([requested({ policy: lenient }), depositPaid, systemConfirmed, lateMove])
        .when({ type: 'RecordNoShow', staffId: 's1' }, at(tuesday('15:20')))
        .then([ev('NoShowRecorded', { reservationId: 'r1', staffId: 's1', depositForfeitedKrw: 0, refundDueKrw: 20_000 })]);
    });

    it('a no-show after a late reschedule, policy forfeiting: nothing refunded (never below zero)', () => {
      given([...booked, lateMove])
        .when({ type: 'RecordNoShow', staffId: 's1' }, at(tuesday('15:20')))
        .then([ev('NoShowRecorded', { reservationId: 'r1', staffId: 's1', depositForfeitedKrw: 50_000, refundDueKrw: 0 })]);
    });

    it('a no-show whose fees exceed the deposit refunds nothing', () => {
      const secondMove = { ...lateMove, data: { ...lateMove.data, previousStartsAt: lateMove.data.startsAt, previousDay: '2025-03-04', previousHoldId: 'h2', holdId: 'h3' } };
      given([requested({ policy: lenient }), depositPaid, systemConfirmed, lateMove, secondMove])
        .when({ type: 'RecordNoShow', staffId: 's1' }, at(tuesday('15:20')))
        .then([ev('NoShowRecorded', { reservationId: 'r1', staffId: 's1', depositForfeitedKrw: 0, refundDueKrw: 0 })]);
    });

    it('at discharge the deposit credited against the bill is the deposit minus the fees due', () => {
      given([...booked, lateMove, checkedInTuesday])
        .when({ type: 'CompleteReservation' }, at(tuesday('16:00')))
        .thenState((s) => expect(depositCreditKrw(s as ActiveReservation)).toBe(20_000));
      given([...booked, checkedIn])
        .when({ type: 'CompleteReservation' }, at(monday('12:00')))
        .thenState((s) => expect(depositCreditKrw(s as ActiveReservation)).toBe(50_000));
      expect(depositCreditKrw({ depositPaidKrw: 20_000, feesDueKrw: 30_000 })).toBe(0);
    });

    it('a staff cancellation or a rejection waives the fees due', () => {
      given([...booked, lateMove])
        .when({ type: 'CancelReservation', by: 'staff', staffId: 's1', reason: 'doctor ill' }, at(tuesday('09:00')))
        .thenState((s, [e]) => {
          expect(e?.type === 'ReservationCancelled' && e.data.refundDueKrw).toBe(50_000);
          expect(s.status !== 'none' && s.feesDueKrw).toBe(0);
        });
      given([requested({ bookingMode: 'clinic-confirm' }), lateMove])
        .when({ type: 'RejectReservation', staffId: 's1', reason: 'doctor unavailable' }, at(tuesday('09:00')))
        .thenState((s) => expect(s.status !== 'none' && s.feesDueKrw).toBe(0));
    });

    it('a deposit captured after a late patient cancellation is refunded minus the fee', () => {
      const lateCancel = ev('ReservationCancelled', { ...cancelledByPatient.data, late: true, feeKrw: 30_000, refundDueKrw: 0 });
      // Nothing recorded before closing: the whole fee comes out of the late deposit.
      expect(lateDepositRefundKrw(stateOf([requested(), lateCancel]), 50_000)).toBe(20_000);
      // After a late reschedule too: both fees.
      expect(lateDepositRefundKrw(stateOf([requested(), lateMove, { ...lateCancel, data: { ...lateCancel.data, day: '2025-03-04', holdId: 'h2' } }]), 50_000)).toBe(0);
      // A first deposit covered part of the fees already: only the rest is withheld.
      const partial = ev('ReservationDepositPaid', { reservationId: 'r1', paymentId: 'pay1', amountKrw: 10_000, depositPaidKrw: 10_000 });
      expect(lateDepositRefundKrw(stateOf([requested(), partial, lateCancel]), 50_000)).toBe(30_000);
      // A free cancellation withholds nothing.
      expect(lateDepositRefundKrw(stateOf([requested(), cancelledByPatient]), 50_000)).toBe(50_000);
    });

    it('a deposit captured after a staff cancellation or a rejection is refunded in full', () => {
      const staffCancel = ev('ReservationCancelled', { ...cancelledByPatient.data, by: 'staff', staffId: 's1', reason: 'doctor ill', day: '2025-03-04', holdId: 'h2' });
      expect(lateDepositRefundKrw(stateOf([requested(), lateMove, staffCancel]), 50_000)).toBe(50_000);
      const rejected = ev('ReservationRejected', { reservationId: 'r1', staffId: 's1', reason: 'doctor unavailable', refundDueKrw: 0 });
      expect(lateDepositRefundKrw(stateOf([requested({ bookingMode: 'clinic-confirm' }), lateMove, rejected]), 50_000)).toBe(50_000);
    });

    it('a deposit captured after a no-show follows the frozen policy', () => {
      const noShow = ev('NoShowRecorded', { reservationId: 'r1', staffId: 's1', depositForfeitedKrw: 0, refundDueKrw: 0 });
      const staffConfirmed = ev('ReservationConfirmed', { reservationId: 'r1', by: 'staff', staffId: 's1' });
      expect(lateDepositRefundKrw(stateOf([requested(), staffConfirmed, noShow]), 50_000)).toBe(0);
      expect(lateDepositRefundKrw(stateOf([requested({ policy: lenient }), staffConfirmed, lateMove, noShow]), 50_000)).toBe(20_000);
    });
  });

  describe('upcasting', () => {
    it('ReservationRequested v1 (no kind) reads as v2: pay-and-book when it asked a deposit, else consult-first', () => {
      const { kind: _k, ...v1 } = requested().data;
      expect(upcastReservationEvent({ type: 'ReservationRequested', schemaVersion: 1, data: v1 })).toEqual(requested());
      expect(upcastReservationEvent({ type: 'ReservationRequested', schemaVersion: 1, data: { ...v1, depositDueKrw: 0 } }).data).toMatchObject({
        kind: 'consult-first',
      });
    });
  });
});
