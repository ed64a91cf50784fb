import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, EventSchemaError, NotFoundError } from '../shared/errors';
import { spec } from '../shared/testing';
import {
  BookingInPastError,
  BookingInsideMinimumNoticeError,
  BookingOutsideOpeningHoursError,
  clinicDecider,
  clinicEvent as ev,
  checkBookable,
  DepositExceedsPriceError,
  InvalidOpeningHoursError,
  requireBookableTreatment,
  slotStartsOn,
  SlotNotAlignedError,
  TreatmentNotFoundError,
  TreatmentUnlistedError,
  upcastClinicEvent,
} from './index';
import { BOTOX, CLINIC_ID, clinicHistory, clinicRegistered, clinicState, monday, OPENING_HOURS, POLICY, sunday, ULTHERA } from './fixtures';

const { given } = spec(clinicDecider);
const ctx = { now: new Date('2025-03-01T00:00:00Z') };
const register = {
  type: 'RegisterClinic' as const,
  clinicId: CLINIC_ID,
  name: 'Yeyak Skin Clinic Gangnam',
  openingHours: OPENING_HOURS,
  slotLengthMinutes: 30,
  slotCapacity: 2,
  policy: POLICY,
};

describe('clinic catalogue', () => {
  it('registers a clinic', () => {
    given([]).when(register, ctx).then([clinicRegistered]);
  });

  it('registers a clinic with its bilingual profile, which the state keeps', () => {
    const profile = { nameEn: 'Yeyak Skin Clinic', district: 'Gangnam-gu', address: '서울 강남구 강남대로 1', phone: '02-555-0101' };
    given([]).when({ ...register, profile }, ctx).then([ev('ClinicRegistered', { ...clinicRegistered.data, profile })]);
    given([]).when({ ...register, profile }, ctx).thenState((s) => expect(s.status === 'registered' && s.profile).toEqual(profile));
  });

  it('re-registering with the same content is a no-op; different content is refused', () => {
    given([clinicRegistered]).when(register, ctx).then([]);
    given([clinicRegistered])
      .when({ ...register, name: 'Other' }, ctx)
      .thenThrows(AlreadyExistsError, { code: 'clinic.already_exists' });
  });

  it('refuses overlapping or inverted opening hours', () => {
    given([])
      .when({ ...register, openingHours: [{ weekday: 1, opens: '19:00', closes: '10:00' }] }, ctx)
      .thenThrows(InvalidOpeningHoursError, { code: 'clinic.invalid_opening_hours' });
    given([clinicRegistered])
      .when(
        {
          type: 'SetOpeningHours',
          openingHours: [
            { weekday: 2, opens: '10:00', closes: '14:00' },
            { weekday: 2, opens: '13:00', closes: '18:00' },
          ],
        },
        ctx,
      )
      .thenThrows(InvalidOpeningHoursError);
  });

  it('commands on an unregistered clinic are refused', () => {
    given([]).when({ type: 'ListTreatment', ...BOTOX }, ctx).thenThrows(NotFoundError, { code: 'clinic.not_found' });
  });

  it('lists a treatment with category, VAT-inclusive price, duration, deposit and booking mode', () => {
    given([clinicRegistered]).when({ type: 'ListTreatment', ...BOTOX }, ctx).then([ev('TreatmentListed', BOTOX)]);
  });

  it('refuses a deposit above the price', () => {
    given([clinicRegistered])
      .when({ type: 'ListTreatment', ...BOTOX, depositKrw: 100_000 }, ctx)
      .thenThrows(DepositExceedsPriceError, { details: { priceKrw: 99_000, depositKrw: 100_000 } });
  });

  it('changes a price, recording the previous price and deposit', () => {
    given(clinicHistory)
      .when({ type: 'ChangeTreatmentPrice', treatmentId: 'tx-botox', priceKrw: 89_000 }, ctx)
      .then([
        ev('TreatmentPriceChanged', {
          treatmentId: 'tx-botox',
          previousPriceKrw: 99_000,
          priceKrw: 89_000,
          previousDepositKrw: 50_000,
          depositKrw: 50_000,
          effectiveAt: '2025-03-01T00:00:00.000Z',
        }),
      ]);
  });

  it('a price change that changes nothing yields no event; an unknown treatment is refused', () => {
    given(clinicHistory).when({ type: 'ChangeTreatmentPrice', treatmentId: 'tx-botox', priceKrw: 99_000 }, ctx).then([]);
    given(clinicHistory)
      .when({ type: 'ChangeTreatmentPrice', treatmentId: 'tx-nope', priceKrw: 1 }, ctx)
      .thenThrows(TreatmentNotFoundError, { code: 'treatment.not_found' });
    given(clinicHistory)
      .when({ type: 'ChangeTreatmentPrice', treatmentId: 'tx-botox', priceKrw: 10_000 }, ctx)
      .thenThrows(DepositExceedsPriceError);
  });

  it('unlists a treatment, which then cannot be booked', () => {
    const { state } = given(clinicHistory);
    const after = given([...clinicHistory, ev('TreatmentUnlisted', { treatmentId: 'tx-botox' })]).state;
    expect(state.status === 'registered' && requireBookableTreatment(state, 'tx-botox').name).toBe(BOTOX.name);
    expect(() => after.status === 'registered' && requireBookableTreatment(after, 'tx-botox')).toThrow(TreatmentUnlistedError);
    given(clinicHistory)
      .when({ type: 'UnlistTreatment', treatmentId: 'tx-botox' }, ctx)
      .then([ev('TreatmentUnlisted', { treatmentId: 'tx-botox' })]);
  });

  it('sets slot configuration and cancellation policy', () => {
    given(clinicHistory)
      .when({ type: 'SetSlotConfiguration', slotLengthMinutes: 20, slotCapacity: 3 }, ctx)
      .thenState((s) => expect(s.status === 'registered' && [s.slotLengthMinutes, s.slotCapacity]).toEqual([20, 3]));
    const policy = { ...POLICY, lateCancellationFeeKrw: 20_000 };
    given(clinicHistory)
      .when({ type: 'SetCancellationPolicy', policy }, ctx)
      .then([ev('CancellationPolicySet', { policy, previousPolicy: POLICY })]);
  });

  describe('upcasting', () => {
    it('TreatmentListed v1 (no bookingMode) reads as v2 with bookingMode clinic-confirm', () => {
      const { bookingMode: _, ...v1data } = ULTHERA;
      expect(upcastClinicEvent({ type: 'TreatmentListed', schemaVersion: 1, data: v1data })).toEqual(
        ev('TreatmentListed', { ...ULTHERA, bookingMode: 'clinic-confirm' }),
      );
    });
    it('TreatmentListed v3 (no tax category) reads as v4 taxable; a declared category is kept', () => {
      const { taxCategory: _, ...v3data } = BOTOX;
      expect(upcastClinicEvent({ type: 'TreatmentListed', schemaVersion: 3, data: v3data })).toEqual(ev('TreatmentListed', { ...BOTOX, taxCategory: 'taxable' }));
      given([clinicRegistered])
        .when({ type: 'ListTreatment', ...v3data, treatmentId: 'tx-eczema', taxCategory: 'exempt' }, ctx)
        .then([ev('TreatmentListed', { ...v3data, treatmentId: 'tx-eczema', taxCategory: 'exempt' })]);
      // Not given: taxable.
      given([clinicRegistered]).when({ type: 'ListTreatment', ...v3data }, ctx).then([ev('TreatmentListed', BOTOX)]);
    });
    it('current versions pass through; unknown types and future versions fail loudly', () => {
      expect(upcastClinicEvent(ev('TreatmentListed', BOTOX))).toEqual(ev('TreatmentListed', BOTOX));
      expect(() => upcastClinicEvent({ type: 'Nope', schemaVersion: 1, data: {} })).toThrow(EventSchemaError);
      expect(() => upcastClinicEvent({ type: 'TreatmentListed', schemaVersion: 5, data: BOTOX })).toThrow(EventSchemaError);
      expect(() => upcastClinicEvent({ type: 'TreatmentListed', schemaVersion: 3, data: {} })).toThrow(EventSchemaError);
    });
  });

  describe('booking rules (used by schedule and reservation)', () => {
    const clinic = clinicState();
    const now = new Date(monday('08:00'));

    it('places a 90-minute treatment in three 30-minute slots', () => {
      const p = checkBookable(clinic, monday('15:00'), 90, now);
      expect(p.day).toBe('2025-03-03');
      expect(p.slots).toEqual(['15:00', '15:30', '16:00']);
      expect(p.endsAt.toISOString()).toBe('2025-03-03T07:30:00.000Z');
    });
    it('refuses the past, the minimum notice, closed days, lunch breaks, overruns and off-grid starts', () => {
      expect(() => checkBookable(clinic, monday('07:00'), 30, now)).toThrow(BookingInPastError);
      expect(() => checkBookable(clinic, monday('08:00'), 30, now)).toThrow(BookingInPastError);
      expect(() => checkBookable(clinic, monday('09:30'), 30, new Date(monday('08:00')))).toThrow(BookingInsideMinimumNoticeError);
      expect(() => checkBookable(clinic, monday('10:00'), 30, now)).not.toThrow();
      expect(() => checkBookable(clinic, sunday('11:00'), 30, new Date('2025-03-01T00:00:00Z'))).toThrow(BookingOutsideOpeningHoursError);
      expect(() => checkBookable(clinic, monday('13:00'), 30, now)).toThrow(BookingOutsideOpeningHoursError);
      expect(() => checkBookable(clinic, monday('12:00'), 90, now)).toThrow(BookingOutsideOpeningHoursError);
      expect(() => checkBookable(clinic, monday('18:30'), 30, now)).not.toThrow();
      expect(() => checkBookable(clinic, monday('10:15'), 30, now)).toThrow(SlotNotAlignedError);
    });
    it('lists the slot starts of a day', () => {
      expect(slotStartsOn(clinic, '2025-03-03')).toHaveLength(6 + 10);
      expect(slotStartsOn(clinic, '2025-03-02')).toEqual([]);
    });
  });
});
