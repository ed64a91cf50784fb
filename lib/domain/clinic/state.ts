import type { ClinicEvent } from './events';
import type { DayKey } from '../shared/time';
import { DEFAULT_CLINIC_SETTINGS, type CancellationPolicy, type ClinicProfile, type ClinicSettings, type OpeningHours, type TaxCategory, type TreatmentDetailChanges, type TreatmentDetails } from './values';

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
      /** Booking horizon, payment deadline, no-show grace, stage thresholds (the defaults until ClinicSettingsChanged). */
      readonly settings: ClinicSettings;
      /** Holidays and one-off closures: day → reason. */
      readonly closedDays: Readonly<Record<DayKey, string>>;
      readonly treatments: Readonly<Record<string, Treatment>>;
    };

export type RegisteredClinic = Extract<ClinicState, { status: 'registered' }>;

export const initialClinicState = (): ClinicState => ({ status: 'unregistered' });

export function evolveClinic(state: ClinicState, event: ClinicEvent): ClinicState {
  if (event.type === 'ClinicRegistered') {
    return { status: 'registered', ...event.data, settings: { ...DEFAULT_CLINIC_SETTINGS }, closedDays: {}, treatments: {} };
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
    case 'TreatmentDetailsChanged': {
      const t = state.treatments[event.data.treatmentId];
      if (!t) return state;
      return { ...state, treatments: { ...state.treatments, [t.treatmentId]: withDetails(t, event.data.details) } };
    }
    case 'TreatmentUnlisted': {
      const t = state.treatments[event.data.treatmentId];
      if (!t) return state;
      return { ...state, treatments: { ...state.treatments, [t.treatmentId]: { ...t, listed: false } } };
    }
    case 'OpeningHoursSet':
      return { ...state, openingHours: event.data.openingHours };
    case 'SlotConfigurationSet':
      return { ...state, slotLengthMinutes: event.data.slotLengthMinutes, slotCapacity: event.data.slotCapacity };
    case 'DayClosed':
      return { ...state, closedDays: { ...state.closedDays, [event.data.day]: event.data.reason } };
    case 'DayReopened': {
      const { [event.data.day]: _reopened, ...closedDays } = state.closedDays;
      return { ...state, closedDays };
    }
    case 'CancellationPolicySet':
      return { ...state, policy: event.data.policy };
    case 'ClinicSettingsChanged':
      return {
        ...state,
        settings: {
          bookingHorizonDays: event.data.bookingHorizonDays,
          paymentDeadlineMinutes: event.data.paymentDeadlineMinutes,
          noShowGraceMinutes: event.data.noShowGraceMinutes ?? state.settings.noShowGraceMinutes,
          stageThresholdMinutes: event.data.stageThresholdMinutes ?? state.settings.stageThresholdMinutes,
        },
      };
  }
}

/** A treatment with changed details applied (null clears an optional detail). */
export function withDetails(t: Treatment, details: TreatmentDetailChanges): Treatment {
  const next: Record<string, unknown> = { ...t };
  for (const [key, value] of Object.entries(details)) {
    if (value === undefined) continue;
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next as unknown as Treatment;
}
