import type { ClinicEvent } from './events';
import { DEFAULT_CLINIC_SETTINGS, type CancellationPolicy, type ClinicProfile, type ClinicSettings, type OpeningHours, type TaxCategory, type TreatmentDetails } from './values';

export interface Treatment extends TreatmentDetails {
  /** Always known on the state (TreatmentListed v4; older events upcast to taxable). */
  readonly taxCategory: TaxCategory;
  /** False once unlisted: existing reservations keep their frozen terms; no new bookings. */
  readonly listed: boolean;
}

export type ClinicState =
  | { readonly status: 'unregistered' }
  | {
      readonly status: 'registered';
      readonly clinicId: string;
      readonly name: string;
      readonly openingHours: OpeningHours;
      readonly slotLengthMinutes: number;
      readonly slotCapacity: number;
      readonly policy: CancellationPolicy;
      readonly profile?: ClinicProfile;
      /** Booking horizon and payment deadline (the defaults until ClinicSettingsChanged). */
      readonly settings: ClinicSettings;
      readonly treatments: Readonly<Record<string, Treatment>>;
    };

export type RegisteredClinic = Extract<ClinicState, { status: 'registered' }>;

export const initialClinicState = (): ClinicState => ({ status: 'unregistered' });

export function evolveClinic(state: ClinicState, event: ClinicEvent): ClinicState {
  if (event.type === 'ClinicRegistered') {
    return { status: 'registered', ...event.data, settings: { ...DEFAULT_CLINIC_SETTINGS }, treatments: {} };
  }
  if (state.status !== 'registered') return state;
  switch (event.type) {
    case 'TreatmentListed':
      return {
        ...state,
        treatments: { ...state.treatments, [event.data.treatmentId]: { ...event.data, listed: true } },
      };
    case 'TreatmentPriceChanged': {
      const t = state.treatments[event.data.treatmentId];
      if (!t) return state;
      return {
        ...state,
        treatments: {
          ...state.treatments,
          [t.treatmentId]: { ...t, priceKrw: event.data.priceKrw, depositKrw: event.data.depositKrw },
        },
      };
    }
    case 'TreatmentUnlisted': {
      const t = state.treatments[event.data.treatmentId];
      if (!t) return state;
      return { ...state, treatments: { ...state.treatments, [t.treatmentId]: { ...t, listed: false } } };
    }
    case 'OpeningHoursSet':
      return { ...state, openingHours: event.data.openingHours };
    case 'SlotConfigurationSet':
      return { ...state, ...event.data };
    case 'CancellationPolicySet':
      return { ...state, policy: event.data.policy };
    case 'ClinicSettingsChanged':
      return {
        ...state,
        settings: {
          bookingHorizonDays: event.data.bookingHorizonDays,
          paymentDeadlineMinutes: event.data.paymentDeadlineMinutes,
          noShowGraceMinutes: event.data.noShowGraceMinutes ?? state.settings.noShowGraceMinutes,
        },
      };
  }
}
