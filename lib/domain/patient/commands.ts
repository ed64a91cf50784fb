import { z } from 'zod';
import { Id } from '../clinic/values';
import { ConsentPurpose } from './events';
import { PersonalData } from './personal';

/** Commands carry plaintext; the events decide emits carry it as { kind: 'plain' } for the command layer to encrypt. */
export const RegisterPatient = z.object({
  type: z.literal('RegisterPatient'),
  patientId: Id,
  name: z.string().min(1).max(200),
  phone: PersonalData.shape.phone.unwrap(),
  birthDate: z.iso.date(),
  email: PersonalData.shape.email,
  locale: z.enum(['ko', 'en']).optional(),
});

export const ChangeContact = z
  .object({ type: z.literal('ChangeContact'), phone: PersonalData.shape.phone, email: PersonalData.shape.email })
  .refine((c) => c.phone !== undefined || c.email !== undefined, 'a new phone or email');

export const GiveConsent = z.object({ type: z.literal('GiveConsent'), purpose: ConsentPurpose, version: z.string().min(1).max(50) });

export const WithdrawConsent = z.object({ type: z.literal('WithdrawConsent'), purpose: ConsentPurpose });

export const ErasePatientData = z.object({
  type: z.literal('ErasePatientData'),
  requestedBy: z.enum(['patient', 'staff', 'admin']),
  reason: z.string().min(1).max(1000),
});

export const PatientCommand = z.discriminatedUnion('type', [
  RegisterPatient,
  ChangeContact,
  GiveConsent,
  WithdrawConsent,
  ErasePatientData,
]);
export type PatientCommand = z.infer<typeof PatientCommand>;
