import type { ConsentPurpose, PatientEvent } from './events';
import { ERASED, viewPersonal, type PersonalField, type PersonalView } from './personal';

export interface Consent {
  readonly version: string;
  readonly at: string;
}

export interface ActivePatient {
  readonly status: 'active' | 'erased';
  readonly patientId: string;
  readonly locale: 'ko' | 'en';
  /** Personal fields oldest → newest (registration, then contact changes), in whatever shape was read. */
  readonly personal: readonly PersonalField[];
  readonly consents: Readonly<Partial<Record<ConsentPurpose, Consent>>>;
}

export type PatientState = { readonly status: 'none' } | ActivePatient;

export const initialPatientState = (): PatientState => ({ status: 'none' });

export function evolvePatient(state: PatientState, event: PatientEvent): PatientState {
  if (event.type === 'PatientRegistered') {
    return { status: 'active', patientId: event.data.patientId, locale: event.data.locale, personal: [event.data.personal], consents: {} };
  }
  if (state.status === 'none') return state;
  const p = state as ActivePatient;
  switch (event.type) {
    case 'ContactChanged':
      return { ...p, personal: [...p.personal, event.data.personal] };
    case 'ConsentGiven':
      return { ...p, consents: { ...p.consents, [event.data.purpose]: { version: event.data.version, at: event.data.at } } };
    case 'ConsentWithdrawn': {
      const { [event.data.purpose]: _gone, ...consents } = p.consents;
      return { ...p, consents };
    }
    case 'PatientDataErased':
      return { ...p, status: 'erased', personal: [ERASED], consents: {} };
  }
}

/** The patient's personal data as far as it can be read: "erased" once erased, never an error. */
export function patientPersonal(state: PatientState): PersonalView {
  if (state.status === 'none') return { status: 'erased' };
  const p = state as ActivePatient;
  return p.status === 'erased' ? { status: 'erased' } : viewPersonal(p.personal);
}

export function hasConsent(state: PatientState, purpose: ConsentPurpose): boolean {
  return state.status === 'active' && (state as ActivePatient).consents[purpose] !== undefined;
}
