import { eq } from 'drizzle-orm';
import { differenceInYears } from 'date-fns';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { commandMetadata, giveConsent, registerPatient as registerPatientRecord, type CommandDeps } from '../commands';
import { db as appDb, type Db } from '../db/client';
import { appCommandDeps } from '../runtime/command-deps';
import type { Position } from '../eventstore';
import { users } from '../db/schema';
import { hashPassword } from './password';
import type { SessionUser } from './roles';
import type { RequestOrigin } from '../runtime/request-origin';
import { recordSecurityEvent } from './security-log';

/** Error messages are i18n keys under `errors.` so the form shows them in the reader's language. */
export const registrationSchema = z
  .object({
    name: z.string().trim().min(2, { error: 'nameTooShort' }).max(50, { error: 'nameTooLong' }),
    email: z.string().trim().toLowerCase().pipe(z.email({ error: 'emailInvalid' })),
    password: z
      .string()
      .min(10, { error: 'passwordTooShort' })
      .max(200, { error: 'passwordTooLong' })
      .regex(/[A-Za-z]/, { error: 'passwordNeedsLetter' })
      .regex(/[0-9]/, { error: 'passwordNeedsDigit' }),
    confirmPassword: z.string(),
    /** Korean mobile numbers (010-1234-5678), stored with dashes. */
    phone: z
      .string()
      .trim()
      .regex(/^01[016789]-?\d{3,4}-?\d{4}$/, { error: 'phoneInvalid' })
      .transform((p) => p.replace(/^(\d{3})-?(\d{3,4})-?(\d{4})$/, '$1-$2-$3')),
    birthDate: z.iso.date({ error: 'birthDateInvalid' }),
    consent: z.literal('on', { error: 'consentRequired' }),
  })
  .refine((v) => v.password === v.confirmPassword, {
    path: ['confirmPassword'],
    error: 'passwordsDiffer',
    // Report a mismatch even while other fields are still invalid, so every error shows at once.
    when: (payload) => typeof (payload.value as { confirmPassword?: unknown })?.confirmPassword === 'string',
  });

export type RegistrationInput = z.infer<typeof registrationSchema>;

/** The version of the consent text the registration form shows. */
export const personalDataConsentVersion = '2026-01';
/** PIPA: children under 14 need a legal guardian's consent, which this form cannot take. */
export const minimumAge = 14;

/** Age check against `today`, kept out of the schema so the schema stays free of the clock. */
export function birthDateError(birthDate: string, today: Date): 'birthDateInFuture' | 'birthDateUnderMinimumAge' | null {
  const born = new Date(`${birthDate}T00:00:00+09:00`);
  if (born > today) return 'birthDateInFuture';
  if (differenceInYears(today, born) < minimumAge) return 'birthDateUnderMinimumAge';
  return null;
}

export class EmailAlreadyRegistered extends Error {
  constructor(readonly email: string) {
    super(`An account with ${email} already exists`);
    this.name = 'EmailAlreadyRegistered';
  }
}

/**
 * Creates a patient: the sign-in account, then the patient record (its personal data encrypted in
 * the patient's events) and the consent given on the form. Throws EmailAlreadyRegistered if the
 * e-mail is taken. If recording the patient fails, the account is removed again, so a retry starts clean.
 */
export async function registerPatient(
  db: Db,
  deps: CommandDeps,
  input: RegistrationInput,
  origin: RequestOrigin,
): Promise<SessionUser & { position: Position | null }> {
  const id = uuidv7();
  const passwordHash = await hashPassword(input.password);
  const inserted = await db
    .insert(users)
    .values({ id, email: input.email, name: input.name, passwordHash, role: 'patient' })
    .onConflictDoNothing() // the only unique key besides the new id is lower(email)
    .returning({ id: users.id });
  if (inserted.length === 0) throw new EmailAlreadyRegistered(input.email);
  const meta = (step: string) => commandMetadata({ actor: { id, role: 'patient' }, ...origin, commandId: `register-${id}/${step}` });
  let position: Position | null;
  try {
    await registerPatientRecord(deps, { patientId: id, name: input.name, email: input.email, phone: input.phone, birthDate: input.birthDate }, meta('patient'));
    ({ position } = await giveConsent(deps, { patientId: id, purpose: 'personal-data', version: personalDataConsentVersion }, meta('consent')));
  } catch (error) {
    await db.delete(users).where(eq(users.id, id));
    throw error;
  }
  await recordSecurityEvent(db, { type: 'registered', userId: id, email: input.email, origin });
  return { id, email: input.email, name: input.name, role: 'patient', clinicId: null, position };
}

/** registerPatient on the app's database and command deps (for the registration server action). */
export async function registerPatientAccount(input: RegistrationInput, origin: RequestOrigin): Promise<SessionUser & { position: Position | null }> {
  return registerPatient(appDb(), await appCommandDeps(), input, origin);
}
