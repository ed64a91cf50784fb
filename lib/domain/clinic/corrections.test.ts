/** Clinic rules added or corrected by issue 8's review (given/when/then). */
import { describe, expect, it } from 'vitest';
import { spec } from '../shared/testing';
import { BookingBeyondHorizonError, BookingKindNotAllowedError, ConsultDurationMissingError } from './errors';
import { clinicEvent as ev, upcastClinicEvent } from './events';
import { BOTOX, clinicHistory, clinicRegistered, clinicState } from './fixtures';
import { bookingTerms, checkBookable, clinicSettingsOf, lastBookableDay } from './rules';
import { clinicDecider, DEFAULT_CLINIC_SETTINGS } from './index';

const { given } = spec(clinicDecider);
const now = new Date('2025-03-01T00:00:00Z'); // Saturday 09:00 Seoul

describe('clinic settings: booking horizon and payment deadline', () => {
  it('given a registered clinic without settings, then the defaults apply (90 days, 30 minutes)', () => {
    const stageThresholdMinutes = { arrived: 15, consultation: 30, procedure: 90, recovery: 60 };
    expect(DEFAULT_CLINIC_SETTINGS).toEqual({ bookingHorizonDays: 90, paymentDeadlineMinutes: 30, noShowGraceMinutes: 15, stageThresholdMinutes });
    expect(clinicSettingsOf(clinicState())).toEqual({ bookingHorizonDays: 90, paymentDeadlineMinutes: 30, noShowGraceMinutes: 15, stageThresholdMinutes });
  });

  it('given a registered clinic, when staff change the horizon, then the event carries the previous values too', () => {
    given(clinicHistory)
      .when({ type: 'ChangeClinicSettings', bookingHorizonDays: 30 }, { now })
      .thenState((s, events) => {
        expect(events).toEqual([
          ev('ClinicSettingsChanged', { bookingHorizonDays: 30, previousBookingHorizonDays: 90, paymentDeadlineMinutes: 30, previousPaymentDeadlineMinutes: 30 }),
        ]);
        expect(clinicSettingsOf(s as never)).toMatchObject({ bookingHorizonDays: 30, paymentDeadlineMinutes: 30, noShowGraceMinutes: 15 });
      });
  });

  it('given a changed payment deadline, when the same settings are sent again, then nothing happens', () => {
    const changed = ev('ClinicSettingsChanged', { bookingHorizonDays: 90, previousBookingHorizonDays: 90, paymentDeadlineMinutes: 45, previousPaymentDeadlineMinutes: 30 });
    given([...clinicHistory, changed]).when({ type: 'ChangeClinicSettings', paymentDeadlineMinutes: 45 }, { now }).then([]);
  });

  it('given a clinic, when settings are out of range or empty, then the command is refused by its schema', () => {
    expect(() => given(clinicHistory).when({ type: 'ChangeClinicSettings', bookingHorizonDays: 0 }, { now }).then([])).toThrow();
    expect(() => given(clinicHistory).when({ type: 'ChangeClinicSettings' }, { now }).then([])).toThrow();
  });
});

describe('bookings beyond the clinic’s booking horizon are refused', () => {
  const clinic = clinicState();

  it('given the default 90-day horizon, when a booking in 2035 is asked, then it is refused', () => {
    expect(() => checkBookable(clinic, '2035-03-05T11:00:00+09:00', 30, now)).toThrow(BookingBeyondHorizonError);
  });

  it('given the default horizon, then the 90th day after today is the last bookable one and the 91st is refused', () => {
    expect(lastBookableDay(now, 90)).toBe('2025-05-30');
    // 2025-05-30 is a Friday (open), 2025-05-31 a Saturday (open 10–15).
    expect(checkBookable(clinic, '2025-05-30T11:00:00+09:00', 30, now).day).toBe('2025-05-30');
    expect(() => checkBookable(clinic, '2025-05-31T11:00:00+09:00', 30, now)).toThrow(BookingBeyondHorizonError);
  });

  it('given a clinic whose horizon is 7 days, when a booking 8 days ahead is asked, then it is refused with the last bookable day', () => {
    const week = clinicState([...clinicHistory, ev('ClinicSettingsChanged', { bookingHorizonDays: 7, previousBookingHorizonDays: 90, paymentDeadlineMinutes: 30, previousPaymentDeadlineMinutes: 30 })]);
    let caught: unknown;
    try {
      checkBookable(week, '2025-03-10T11:00:00+09:00', 30, now);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BookingBeyondHorizonError);
    expect((caught as BookingBeyondHorizonError).code).toBe('booking.beyond_horizon');
    expect((caught as BookingBeyondHorizonError).details).toMatchObject({ bookingHorizonDays: 7, lastBookableDay: '2025-03-08' });
  });

  it('facts built from a read model without settings use the default horizon', () => {
    const { status: _s, ...facts } = clinicState();
    const { settings: _settings, ...withoutSettings } = facts as typeof facts & { settings?: unknown };
    expect(() => checkBookable(withoutSettings, '2035-03-05T11:00:00+09:00', 30, now)).toThrow(BookingBeyondHorizonError);
  });

  it('ClinicRegistered (v1) still reads as it was written', () => {
    expect(upcastClinicEvent(clinicRegistered)).toEqual(clinicRegistered);
  });
});

describe('each treatment declares the booking kinds it allows; consult first has its own duration', () => {
  const laser = { treatmentId: 'tx-laser', name: '레이저 토닝', category: 'laser', priceKrw: 150_000, durationMinutes: 60, depositKrw: 50_000, bookingMode: 'instant' as const };

  it('given a clinic, when a treatment allowing consult first is listed without a consultation duration, then it is refused', () => {
    given(clinicHistory)
      .when({ type: 'ListTreatment', ...laser, bookingKinds: ['consult-first', 'pay-and-book'] }, { now })
      .thenThrows(ConsultDurationMissingError, { code: 'treatment.consult_duration_missing' });
  });

  it('given a clinic, when a treatment declares its kinds and consultation length, then they are listed with it', () => {
    given(clinicHistory)
      .when({ type: 'ListTreatment', ...laser, bookingKinds: ['consult-first', 'pay-and-book'], consultDurationMinutes: 20 }, { now })
      .then([ev('TreatmentListed', { ...laser, bookingKinds: ['consult-first', 'pay-and-book'], consultDurationMinutes: 20, taxCategory: 'taxable' })]);
  });

  it('given a pay-and-book only treatment with a deposit, when consult first is asked, then it is refused (the deposit cannot be skipped)', () => {
    const t = { ...laser, bookingKinds: ['pay-and-book' as const] };
    expect(() => bookingTerms(t, 'consult-first')).toThrow(BookingKindNotAllowedError);
    expect(bookingTerms(t, 'pay-and-book')).toEqual({ durationMinutes: 60, depositDueKrw: 50_000 });
  });

  it('given a treatment allowing both, when consult first is asked, then only the consultation is booked: its own duration, no deposit', () => {
    expect(bookingTerms({ ...laser, bookingKinds: ['consult-first', 'pay-and-book'], consultDurationMinutes: 20 }, 'consult-first')).toEqual({ durationMinutes: 20, depositDueKrw: 0 });
  });

  it('given a consult-first only treatment, when pay and book is asked, then it is refused', () => {
    expect(() => bookingTerms({ ...laser, bookingKinds: ['consult-first'], consultDurationMinutes: 20 }, 'pay-and-book')).toThrow(BookingKindNotAllowedError);
  });

  it('given a TreatmentListed v2 (before kinds were declared), when it is read, then a treatment with a deposit is pay-and-book only and one without is consult-first only, for its own duration', () => {
    const { bookingKinds: _k, consultDurationMinutes: _c, ...v2 } = BOTOX;
    expect(upcastClinicEvent({ type: 'TreatmentListed', schemaVersion: 2, data: v2 }).data).toMatchObject({ bookingKinds: ['pay-and-book'] });
    expect(upcastClinicEvent({ type: 'TreatmentListed', schemaVersion: 2, data: { ...v2, depositKrw: 0 } }).data).toMatchObject({ bookingKinds: ['consult-first'], consultDurationMinutes: v2.durationMinutes });
    expect(upcastClinicEvent({ type: 'TreatmentListed', schemaVersion: 1, data: (({ bookingMode: _b, ...d }) => d)(v2) }).data).toMatchObject({ bookingMode: 'clinic-confirm', bookingKinds: ['pay-and-book'] });
  });
});
