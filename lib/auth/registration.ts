import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import { differenceInYears } from 'date-fns';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { commandMetadata, giveConsent, registerPatient as registerPatientRecord, type CommandDeps } from '../commands';
import { db as appDb, type Db } from '../db/client';
import { appCommandDeps } from '../runtime/command-deps';
import { emailVerifications, securityEvents, users } from '../db/schema';
import { hashPassword } from './password';
import type { RequestOrigin } from '../runtime/request-origin';
import { queueEmail } from './outbox';
import { recordSecurityEvent } from './security-log';
import { withPseudonym } from '../privacy/pseudonym';

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

/** How many registrations one address may ask for per window, whatever the e-mail addresses. */
export const registrationThrottle = { perIp: 5, windowMinutes: 60 } as const;
/** How long a verification link works. */
export const verificationHours = 48;

export type RegistrationAnswer = { status: 'sent' } | { status: 'throttled'; retryAfterSeconds: number };

function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * Registration that does not tell anyone which e-mail addresses have accounts: whether the address is
 * new or taken, the answer is the same ("we sent you an e-mail"), and only the mailbox's owner learns
 * which it was. New: the account (unverified: it cannot sign in yet), the patient record with its
 * encrypted personal data, the consent, and a verification link in the outbox. Taken: nothing is
 * created; the outbox gets a note to the owner that someone tried to register with their address.
 * Throttled per client address (atomically: attempts from one address take its lock in turn).
 */
export async function requestRegistration(
  db: Db,
  deps: CommandDeps,
  input: RegistrationInput,
  origin: RequestOrigin,
  options: { baseUrl: string; now?: Date },
): Promise<RegistrationAnswer> {
  const now = options.now ?? new Date();
  const ip = origin.ip ?? 'unknown';
  const email = input.email.trim().toLowerCase();
  // Hashed either way, so both answers take the password hash's time.
  const passwordHash = await hashPassword(input.password);
  const id = uuidv7();
  const decided = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(3, hashtext(${ip}))`);
    const since = new Date(now.getTime() - registrationThrottle.windowMinutes * 60_000);
    const recent = await tx
      .select({ at: securityEvents.occurredAt })
      .from(securityEvents)
      .where(and(inArray(securityEvents.ip, withPseudonym('ip', ip)), eq(securityEvents.type, 'registration_requested'), gt(securityEvents.occurredAt, since)))
      .orderBy(sql`${securityEvents.occurredAt} desc`)
      .limit(registrationThrottle.perIp);
    if (recent.length >= registrationThrottle.perIp) {
      const oldest = recent[recent.length - 1]!.at;
      const retryAfterSeconds = Math.max(1, Math.ceil((oldest.getTime() + registrationThrottle.windowMinutes * 60_000 - now.getTime()) / 1000));
      await recordSecurityEvent(tx, { type: 'registration_throttled', email, origin, at: now, detail: { retryAfterSeconds } });
      return { status: 'throttled', retryAfterSeconds } as const;
    }
    const inserted = await tx
      .insert(users)
      .values({ id, email, name: input.name, passwordHash, role: 'patient', emailVerifiedAt: null })
      .onConflictDoNothing() // the only unique key besides the new id is lower(email)
      .returning({ id: users.id });
    const created = inserted.length > 0;
    await recordSecurityEvent(tx, { type: 'registration_requested', userId: created ? id : null, email, origin, at: now });
    if (!created) {
      await queueEmail(tx, { to: email, template: 'already-registered', payload: { signInUrl: new URL('/signin', options.baseUrl).toString() } });
    }
    return { status: created ? 'created' : 'taken' } as const;
  });
  if (decided.status === 'throttled') return decided;
  if (decided.status === 'created') await createPatientRecord(db, deps, id, input, origin, options.baseUrl, now);
  return { status: 'sent' };
}

/** The patient record for a new account, then its verification link; if recording fails, the account goes again. */
async function createPatientRecord(db: Db, deps: CommandDeps, id: string, input: RegistrationInput, origin: RequestOrigin, baseUrl: string, now: Date) {
  const meta = (step: string) => commandMetadata({ actor: { id, role: 'patient' }, ...origin, commandId: `register-${id}/${step}` });
  try {
    await registerPatientRecord(deps, { patientId: id, name: input.name, email: input.email, phone: input.phone, birthDate: input.birthDate }, meta('patient'));
    await giveConsent(deps, { patientId: id, purpose: 'personal-data', version: personalDataConsentVersion }, meta('consent'));
  } catch (error) {
    await db.delete(users).where(eq(users.id, id));
    throw error;
  }
  const token = randomBytes(32).toString('base64url');
  const verifyUrl = new URL('/register/verify', baseUrl);
  verifyUrl.searchParams.set('token', token);
  await db.transaction(async (tx) => {
    await tx.insert(emailVerifications).values({ tokenHash: tokenHash(token), userId: id, expiresAt: new Date(now.getTime() + verificationHours * 3_600_000) });
    await queueEmail(tx, { to: input.email, template: 'verify-email', payload: { verifyUrl: verifyUrl.toString() } });
    await recordSecurityEvent(tx, { type: 'registered', userId: id, email: input.email, origin, at: now });
  });
}

/** Opens a verification link: the account can sign in from now on. False for an unknown, used or expired link. */
export async function verifyEmail(db: Db, token: string, origin: RequestOrigin, now = new Date()): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return false;
  return db.transaction(async (tx) => {
    const [link] = await tx
      .update(emailVerifications)
      .set({ usedAt: now })
      .where(and(eq(emailVerifications.tokenHash, tokenHash(token)), isNull(emailVerifications.usedAt), gt(emailVerifications.expiresAt, now)))
      .returning({ userId: emailVerifications.userId });
    if (!link) return false;
    const [user] = await tx.update(users).set({ emailVerifiedAt: now }).where(eq(users.id, link.userId)).returning({ email: users.email });
    if (!user) return false;
    await recordSecurityEvent(tx, { type: 'email_verified', userId: link.userId, email: user.email, origin, at: now });
    return true;
  });
}

/** requestRegistration on the app's database and command deps (for the registration server action). */
export async function requestPatientRegistration(input: RegistrationInput, origin: RequestOrigin, baseUrl: string): Promise<RegistrationAnswer> {
  return requestRegistration(appDb(), await appCommandDeps(), input, origin, { baseUrl });
}

/** verifyEmail on the app's database. */
export async function verifyEmailLink(token: string, origin: RequestOrigin): Promise<boolean> {
  return verifyEmail(appDb(), token, origin);
}
