/**
 * Running the clinic (issue 9, item 5), given/when/then: every change records the value it replaced
 * (opening hours, slot configuration and cancellation policy gained theirs in v2; older events upcast
 * with "not recorded"), a treatment's details change, holidays and one-off closures, stage thresholds.
 */
import { describe, expect, it } from 'vitest';
import { schedule } from '../index';
import { spec } from '../shared/testing';
import { BookingOnClosedDayError, ClosureInPastError, ConsultDurationMissingError, TreatmentNotFoundError, TreatmentUnlistedError } from './errors';
import { clinicEvent as ev, upcastClinicEvent } from './events';
import { BOTOX, clinicHistory, clinicState, monday, OPENING_HOURS, POLICY, tuesday } from './fixtures';
import { checkBookable, clinicSettingsOf, closureOn, slotStartsOn } from './rules';
import { clinicDecider } from './index';

const { given } = spec(clinicDecider);
const now = new Date('2025-03-01T00:00:00Z'); // Saturday 09:00 Seoul

describe('changes record the values they replace', () => {
  it('given the week’s hours, when new hours are set, then the event carries the old ones too', () => {
    const hours = OPENING_HOURS.filter((h) => h.weekday !== 6);
    given(clinicHistory).when({ type: 'SetOpeningHours', openingHours: hours }, { now }).then([ev('OpeningHoursSet', { openingHours: hours, previousOpeningHours: OPENING_HOURS })]);
  });

  it('given 30-minute slots for 2, when 20-minute slots for 3 are set, then the event carries 30 and 2 as the previous values', () => {
    given(clinicHistory)
      .when({ type: 'SetSlotConfiguration', slotLengthMinutes: 20, slotCapacity: 3 }, { now })
      .then([ev('SlotConfigurationSet', { slotLengthMinutes: 20, slotCapacity: 3, previousSlotLengthMinutes: 30, previousSlotCapacity: 2 })]);
  });

  it('given a policy, when another is set, then the event carries the previous policy; the same one again changes nothing', () => {
    const policy = { ...POLICY, freeCancellationHours: 48 };
    given(clinicHistory).when({ type: 'SetCancellationPolicy', policy }, { now }).then([ev('CancellationPolicySet', { policy, previousPolicy: POLICY })]);
    given(clinicHistory).when({ type: 'SetCancellationPolicy', policy: POLICY }, { now }).then([]);
  });

  it('given v1 events (written before previous values were kept), when read, then they upcast to v2 with previous values "not recorded" (null), and still evolve the state', () => {
    const hours = upcastClinicEvent({ type: 'OpeningHoursSet', schemaVersion: 1, data: { openingHours: OPENING_HOURS.slice(0, 2) } });
    const slots = upcastClinicEvent({ type: 'SlotConfigurationSet', schemaVersion: 1, data: { slotLengthMinutes: 20, slotCapacity: 4 } });
    const policy = upcastClinicEvent({ type: 'CancellationPolicySet', schemaVersion: 1, data: { policy: { ...POLICY, minimumNoticeHours: 6 } } });
    expect(hours).toEqual(ev('OpeningHoursSet', { openingHours: OPENING_HOURS.slice(0, 2), previousOpeningHours: null }));
    expect(slots).toEqual(ev('SlotConfigurationSet', { slotLengthMinutes: 20, slotCapacity: 4, previousSlotLengthMinutes: null, previousSlotCapacity: null }));
    expect(policy).toEqual(ev('CancellationPolicySet', { policy: { ...POLICY, minimumNoticeHours: 6 }, previousPolicy: null }));
    const s = clinicState([...clinicHistory, hours, slots, policy]);
    expect([s.openingHours, s.slotLengthMinutes, s.slotCapacity, s.policy.minimumNoticeHours]).toEqual([OPENING_HOURS.slice(0, 2), 20, 4, 6]);
    // The current versions pass through unchanged.
    expect(upcastClinicEvent(hours)).toEqual(hours);
  });
});

describe("a listed treatment's details change", () => {
  it('given Botox (30 min, both kinds, taxable), when its duration, kinds and tax category change, then only the changed details are recorded, with their previous values', () => {
    given(clinicHistory)
      .when({ type: 'ChangeTreatmentDetails', treatmentId: 'tx-botox', durationMinutes: 45, bookingKinds: ['pay-and-book'], taxCategory: 'exempt', name: BOTOX.name }, { now })
      .thenState((s, events) => {
        expect(events).toEqual([
          ev('TreatmentDetailsChanged', {
            treatmentId: 'tx-botox',
            details: { durationMinutes: 45, bookingKinds: ['pay-and-book'], taxCategory: 'exempt' },
            previous: { durationMinutes: 30, bookingKinds: ['consult-first', 'pay-and-book'], taxCategory: 'taxable' },
          }),
        ]);
        const t = s.status === 'registered' ? s.treatments['tx-botox'] : undefined;
        expect(t).toMatchObject({ durationMinutes: 45, bookingKinds: ['pay-and-book'], taxCategory: 'exempt', priceKrw: BOTOX.priceKrw, listed: true });
      });
  });

  it('given a treatment without an English name, when one is given and then cleared (null), then each change records the other as previous', () => {
    const named = ev('TreatmentDetailsChanged', { treatmentId: 'tx-botox', details: { nameEn: 'Botox' }, previous: { nameEn: null } });
    given(clinicHistory).when({ type: 'ChangeTreatmentDetails', treatmentId: 'tx-botox', nameEn: 'Botox' }, { now }).then([named]);
    given([...clinicHistory, named])
      .when({ type: 'ChangeTreatmentDetails', treatmentId: 'tx-botox', nameEn: null }, { now })
      .thenState((s, events) => {
        expect(events).toEqual([ev('TreatmentDetailsChanged', { treatmentId: 'tx-botox', details: { nameEn: null }, previous: { nameEn: 'Botox' } })]);
        expect(s.status === 'registered' && 'nameEn' in s.treatments['tx-botox']!).toBe(false);
      });
  });

  it('given a treatment, when the same details are sent, then nothing is recorded; with nothing to change, the command is refused by its schema', () => {
    given(clinicHistory).when({ type: 'ChangeTreatmentDetails', treatmentId: 'tx-botox', durationMinutes: 30, taxCategory: 'taxable' }, { now }).then([]);
    expect(() => given(clinicHistory).when({ type: 'ChangeTreatmentDetails', treatmentId: 'tx-botox' }, { now }).then([])).toThrow();
  });

  it('given a treatment, when consult first would be allowed without a consultation length, then it is refused', () => {
    given(clinicHistory)
      .when({ type: 'ChangeTreatmentDetails', treatmentId: 'tx-botox', consultDurationMinutes: null }, { now })
      .thenThrows(ConsultDurationMissingError, { code: 'treatment.consult_duration_missing' });
    // Pay and book only, the consultation length may go.
    given(clinicHistory).when({ type: 'ChangeTreatmentDetails', treatmentId: 'tx-botox', bookingKinds: ['pay-and-book'], consultDurationMinutes: null }, { now }).then([
      ev('TreatmentDetailsChanged', {
        treatmentId: 'tx-botox',
        details: { bookingKinds: ['pay-and-book'], consultDurationMinutes: null },
        previous: { bookingKinds: ['consult-first', 'pay-and-book'], consultDurationMinutes: 30 },
      }),
    ]);
  });

  it('given an unknown or unlisted treatment, when its details change, then it is refused', () => {
    given(clinicHistory).when({ type: 'ChangeTreatmentDetails', treatmentId: 'tx-nope', durationMinutes: 45 }, { now }).thenThrows(TreatmentNotFoundError);
    given([...clinicHistory, ev('TreatmentUnlisted', { treatmentId: 'tx-botox' })])
      .when({ type: 'ChangeTreatmentDetails', treatmentId: 'tx-botox', durationMinutes: 45 }, { now })
      .thenThrows(TreatmentUnlistedError, { code: 'treatment.unlisted' });
  });

  it('given a changed duration, then bookings take the new duration (existing reservations keep their frozen terms)', () => {
    const s = clinicState([...clinicHistory, ev('TreatmentDetailsChanged', { treatmentId: 'tx-botox', details: { durationMinutes: 60 }, previous: { durationMinutes: 30 } })]);
    expect(checkBookable(s, monday('12:00'), s.treatments['tx-botox']!.durationMinutes, now).slots).toEqual(['12:00', '12:30']);
  });
});

describe('holidays and one-off closures', () => {
  const closed = ev('DayClosed', { day: '2025-03-03', reason: '삼일절 대체공휴일' });

  it('given an open Monday, when it is closed with a reason, then it is recorded; closing it again for the same reason changes nothing', () => {
    given(clinicHistory).when({ type: 'CloseDay', day: '2025-03-03', reason: '삼일절 대체공휴일' }, { now }).then([closed]);
    given([...clinicHistory, closed]).when({ type: 'CloseDay', day: '2025-03-03', reason: '삼일절 대체공휴일' }, { now }).then([]);
  });

  it('given a closed day, when it is closed for another reason, then the event carries the previous reason', () => {
    given([...clinicHistory, closed])
      .when({ type: 'CloseDay', day: '2025-03-03', reason: 'Staff training' }, { now })
      .then([ev('DayClosed', { day: '2025-03-03', reason: 'Staff training', previousReason: '삼일절 대체공휴일' })]);
  });

  it('given a closed day, then no slot is offered on it, a booking or a hold on it is refused with booking.clinic_closed, and the next day is untouched', () => {
    const s = clinicState([...clinicHistory, closed]);
    expect(closureOn(s, '2025-03-03')).toBe('삼일절 대체공휴일');
    expect(slotStartsOn(s, '2025-03-03')).toEqual([]);
    expect(slotStartsOn(s, '2025-03-04')).toHaveLength(16);
    let caught: unknown;
    try {
      checkBookable(s, monday('11:00'), 30, now);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BookingOnClosedDayError);
    expect(caught).toMatchObject({ code: 'booking.clinic_closed', details: { day: '2025-03-03', reason: '삼일절 대체공휴일' } });
    expect(checkBookable(s, tuesday('11:00'), 30, now).day).toBe('2025-03-04');
    // The schedule's decider refuses the hold too (it places the booking with the same rule).
    const hold = { type: 'PlaceHold' as const, clinicId: s.clinicId, day: '2025-03-03', holdId: 'h-1', reservationId: 'r-1', startsAt: monday('11:00'), durationMinutes: 30 };
    expect(() => schedule.scheduleDecider.decide(hold, schedule.scheduleDecider.initialState(), { now, clinic: s })).toThrow(BookingOnClosedDayError);
    expect(schedule.availability(schedule.scheduleDecider.initialState(), s, '2025-03-03', now)).toEqual([]);
  });

  it('given a closed day, when it is reopened, then the event carries why it was closed and its slots are offered again; reopening an open day changes nothing', () => {
    const reopened = ev('DayReopened', { day: '2025-03-03', previousReason: '삼일절 대체공휴일' });
    given([...clinicHistory, closed]).when({ type: 'ReopenDay', day: '2025-03-03' }, { now }).then([reopened]);
    expect(slotStartsOn(clinicState([...clinicHistory, closed, reopened]), '2025-03-03')).toHaveLength(16);
    given(clinicHistory).when({ type: 'ReopenDay', day: '2025-03-03' }, { now }).then([]);
  });

  it('given today is 2025-03-01 in Seoul, when a past day is closed or reopened, then it is refused; today may be closed', () => {
    given(clinicHistory)
      .when({ type: 'CloseDay', day: '2025-02-28', reason: 'late' }, { now })
      .thenThrows(ClosureInPastError, { code: 'clinic.closure_in_past', details: { day: '2025-02-28', today: '2025-03-01' } });
    given([...clinicHistory, ev('DayClosed', { day: '2025-02-28', reason: 'holiday' })]).when({ type: 'ReopenDay', day: '2025-02-28' }, { now }).thenThrows(ClosureInPastError);
    given(clinicHistory).when({ type: 'CloseDay', day: '2025-03-01', reason: 'Power cut' }, { now }).then([ev('DayClosed', { day: '2025-03-01', reason: 'Power cut' })]);
  });

  it('given a reason that is empty or too long, then the command is refused by its schema', () => {
    expect(() => given(clinicHistory).when({ type: 'CloseDay', day: '2025-03-03', reason: '' }, { now }).then([])).toThrow();
    expect(() => given(clinicHistory).when({ type: 'CloseDay', day: '2025-03-03', reason: 'x'.repeat(201) }, { now }).then([])).toThrow();
  });
});

describe('stage thresholds (the visit board’s highlight)', () => {
  it('given a clinic without them, then the defaults apply (also to read-model rows with some stages only)', () => {
    expect(clinicSettingsOf(clinicState()).stageThresholdMinutes).toEqual({ arrived: 15, consultation: 30, procedure: 90, recovery: 60 });
    expect(clinicSettingsOf({ settings: { stageThresholdMinutes: { procedure: 120 } } }).stageThresholdMinutes).toEqual({ arrived: 15, consultation: 30, procedure: 120, recovery: 60 });
  });

  it('given the defaults, when one stage changes, then the event carries all four before and after, and the other settings stay', () => {
    given(clinicHistory)
      .when({ type: 'ChangeClinicSettings', stageThresholdMinutes: { procedure: 120 } }, { now })
      .thenState((s, events) => {
        expect(events).toEqual([
          ev('ClinicSettingsChanged', {
            bookingHorizonDays: 90,
            previousBookingHorizonDays: 90,
            paymentDeadlineMinutes: 30,
            previousPaymentDeadlineMinutes: 30,
            stageThresholdMinutes: { arrived: 15, consultation: 30, procedure: 120, recovery: 60 },
            previousStageThresholdMinutes: { arrived: 15, consultation: 30, procedure: 90, recovery: 60 },
          }),
        ]);
        expect(s.status === 'registered' && s.settings).toEqual({ bookingHorizonDays: 90, paymentDeadlineMinutes: 30, noShowGraceMinutes: 15, stageThresholdMinutes: { arrived: 15, consultation: 30, procedure: 120, recovery: 60 } });
      });
  });

  it('given thresholds, when the same ones are sent, then nothing happens; zero minutes is refused by the schema', () => {
    given(clinicHistory).when({ type: 'ChangeClinicSettings', stageThresholdMinutes: { arrived: 15 } }, { now }).then([]);
    expect(() => given(clinicHistory).when({ type: 'ChangeClinicSettings', stageThresholdMinutes: { arrived: 0 } }, { now }).then([])).toThrow();
    expect(() => given(clinicHistory).when({ type: 'ChangeClinicSettings', stageThresholdMinutes: {} }, { now }).then([])).toThrow();
  });

  it('given a settings change without thresholds (older events), then the thresholds stay as they were', () => {
    const custom = ev('ClinicSettingsChanged', {
      bookingHorizonDays: 90,
      previousBookingHorizonDays: 90,
      paymentDeadlineMinutes: 30,
      previousPaymentDeadlineMinutes: 30,
      stageThresholdMinutes: { arrived: 5, consultation: 30, procedure: 90, recovery: 60 },
      previousStageThresholdMinutes: { arrived: 15, consultation: 30, procedure: 90, recovery: 60 },
    });
    const horizon = ev('ClinicSettingsChanged', { bookingHorizonDays: 30, previousBookingHorizonDays: 90, paymentDeadlineMinutes: 30, previousPaymentDeadlineMinutes: 30 });
    expect(clinicState([...clinicHistory, custom, horizon]).settings.stageThresholdMinutes.arrived).toBe(5);
  });
});
