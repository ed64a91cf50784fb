/** The clinic's no-show grace period (issue 9, payments at the desk), given/when/then. */
import { describe, expect, it } from 'vitest';
import { spec } from '../shared/testing';
import { NoShowBeforeGraceError } from './errors';
import { clinicEvent as ev } from './events';
import { clinicHistory, clinicState } from './fixtures';
import { assertNoShowGraceOver, clinicSettingsOf, noShowAllowedFrom } from './rules';
import { clinicDecider } from './index';

const { given } = spec(clinicDecider);
const now = new Date('2025-03-01T00:00:00Z');
const startsAt = '2025-03-03T01:00:00.000Z'; // 10:00 Seoul

describe('no-show grace period', () => {
  it('given a clinic without the setting, then the grace is 15 minutes (also for read-model rows without settings)', () => {
    expect(clinicState().settings.noShowGraceMinutes).toBe(15);
    expect(clinicSettingsOf({}).noShowGraceMinutes).toBe(15);
    expect(noShowAllowedFrom({}, startsAt).toISOString()).toBe('2025-03-03T01:15:00.000Z');
  });

  it('given a clinic, when the grace is set to 30, then the event carries it with the previous 15; the other settings are kept', () => {
    const changed = ev('ClinicSettingsChanged', {
      bookingHorizonDays: 90,
      previousBookingHorizonDays: 90,
      paymentDeadlineMinutes: 30,
      previousPaymentDeadlineMinutes: 30,
      noShowGraceMinutes: 30,
      previousNoShowGraceMinutes: 15,
    });
    given(clinicHistory).when({ type: 'ChangeClinicSettings', noShowGraceMinutes: 30 }, { now }).then([changed]);
    given([...clinicHistory, changed]).when({ type: 'ChangeClinicSettings', noShowGraceMinutes: 30 }, { now }).then([]);
    // A later change of another setting leaves the grace as it was (the event omits it).
    const horizon = ev('ClinicSettingsChanged', { bookingHorizonDays: 30, previousBookingHorizonDays: 90, paymentDeadlineMinutes: 30, previousPaymentDeadlineMinutes: 30 });
    given([...clinicHistory, changed]).when({ type: 'ChangeClinicSettings', bookingHorizonDays: 30 }, { now }).then([horizon]);
    expect(clinicState([...clinicHistory, changed, horizon]).settings).toMatchObject({ bookingHorizonDays: 30, paymentDeadlineMinutes: 30, noShowGraceMinutes: 30 });
  });

  it('given the grace, when a no-show is asked before it is over, then it is refused; at its end it is allowed', () => {
    const clinic = { settings: { noShowGraceMinutes: 15 } };
    expect(() => assertNoShowGraceOver(clinic, startsAt, new Date('2025-03-03T01:14:59Z'))).toThrow(NoShowBeforeGraceError);
    try {
      assertNoShowGraceOver(clinic, startsAt, new Date('2025-03-03T01:05:00Z'));
    } catch (error) {
      expect(error).toMatchObject({ code: 'reservation.no_show_within_grace', details: { noShowGraceMinutes: 15, allowedFrom: '2025-03-03T01:15:00.000Z' } });
    }
    expect(() => assertNoShowGraceOver(clinic, startsAt, new Date('2025-03-03T01:15:00Z'))).not.toThrow();
    expect(() => assertNoShowGraceOver({ settings: { noShowGraceMinutes: 0 } }, startsAt, new Date(startsAt))).not.toThrow();
  });

  it('given a grace out of range, then the command is refused by its schema', () => {
    expect(() => given(clinicHistory).when({ type: 'ChangeClinicSettings', noShowGraceMinutes: -1 }, { now }).then([])).toThrow();
  });
});
