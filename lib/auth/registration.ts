import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Db } from '../db/client';
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
    consent: z.literal('on', { error: 'consentRequired' }),
  })
  .refine((v) => v.password === v.confirmPassword, {
    path: ['confirmPassword'],
    error: 'passwordsDiffer',
    // Report a mismatch even while other fields are still invalid, so every error shows at once.
    when: (payload) => typeof (payload.value as { confirmPassword?: unknown })?.confirmPassword === 'string',
  });

export type RegistrationInput = z.infer<typeof registrationSchema>;

export class EmailAlreadyRegistered extends Error {
  constructor(readonly email: string) {
    super(`An account with ${email} already exists`);
    this.name = 'EmailAlreadyRegistered';
  }
}

/** Creates a patient account. Throws EmailAlreadyRegistered if the e-mail is taken. */
export async function registerPatient(db: Db, input: RegistrationInput, origin: RequestOrigin): Promise<SessionUser> {
  const id = uuidv7();
  const passwordHash = await hashPassword(input.password);
  const inserted = await db
    .insert(users)
    .values({ id, email: input.email, name: input.name, passwordHash, role: 'patient' })
    .onConflictDoNothing() // the only unique key besides the new id is lower(email)
    .returning({ id: users.id });
  if (inserted.length === 0) throw new EmailAlreadyRegistered(input.email);
  await recordSecurityEvent(db, { type: 'registered', userId: id, email: input.email, origin });
  return { id, email: input.email, name: input.name, role: 'patient', clinicId: null };
}
