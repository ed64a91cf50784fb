import { z } from 'zod';
import { Id } from '../clinic/values';
import { eventFactory, eventSchema, makeUpcaster, type Upcasters } from '../shared/events';
import { Instant } from '../shared/time';
import { PersonalField } from './personal';

/** What a consent is for (PIPA asks for separate consents). */
export const ConsentPurpose = z.enum(['personal-data', 'sensitive-health-data', 'treatment-photos', 'marketing']);
export type ConsentPurpose = z.infer<typeof ConsentPurpose>;

/**
 * v2 wraps personal data in a PersonalField (encryptable). v1 carried name/phone/birthDate as
 * plain top-level fields; it upcasts to `{ personal: { kind: 'plain', value: {...} } }`.
 */
export const PatientRegistered = eventSchema(
  'PatientRegistered',
  2,
  z.object({ patientId: Id, personal: PersonalField, locale: z.enum(['ko', 'en']) }),
);

/** New phone and/or email. */
export const ContactChanged = eventSchema('ContactChanged', 1, z.object({ patientId: Id, personal: PersonalField }));

export const ConsentGiven = eventSchema(
  'ConsentGiven',
  1,
  z.object({ patientId: Id, purpose: ConsentPurpose, /** Version of the consent text agreed to. */ version: z.string().min(1).max(50), at: Instant }),
);

export const ConsentWithdrawn = eventSchema('ConsentWithdrawn', 1, z.object({ patientId: Id, purpose: ConsentPurpose, at: Instant }));

/** The patient's personal data is erased: the command layer deletes the patient's key after appending this. */
export const PatientDataErased = eventSchema(
  'PatientDataErased',
  1,
  z.object({ patientId: Id, requestedBy: z.enum(['patient', 'staff', 'admin']), reason: z.string().min(1).max(1000), at: Instant }),
);

export const PatientEvent = z.discriminatedUnion('type', [
  PatientRegistered,
  ContactChanged,
  ConsentGiven,
  ConsentWithdrawn,
  PatientDataErased,
]);
export type PatientEvent = z.infer<typeof PatientEvent>;

export const PATIENT_EVENT_VERSIONS = {
  PatientRegistered: 2,
  ContactChanged: 1,
  ConsentGiven: 1,
  ConsentWithdrawn: 1,
  PatientDataErased: 1,
} as const satisfies Record<PatientEvent['type'], number>;

export const patientEvent = eventFactory<PatientEvent>(PATIENT_EVENT_VERSIONS);

export const patientUpcasters: Upcasters = {
  PatientRegistered: {
    // v1 → v2: plaintext fields move into a PersonalField; v1 had no locale (Korean UI only).
    1: ({ patientId, name, phone, birthDate, locale }) => ({
      patientId,
      locale: locale ?? 'ko',
      personal: {
        kind: 'plain',
        value: Object.fromEntries(Object.entries({ name, phone, birthDate }).filter(([, v]) => v !== undefined)),
      },
    }),
  },
};

export const upcastPatientEvent = makeUpcaster<PatientEvent>(PatientEvent, PATIENT_EVENT_VERSIONS, patientUpcasters);
