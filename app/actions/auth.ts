'use server';

import { sql } from 'drizzle-orm';
import { AuthError, CredentialsSignin } from 'next-auth';
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { z } from 'zod';
import { signIn, signOut } from '@/lib/auth';
import { currentUser } from '@/lib/auth/guard';
import { birthDateError, EmailAlreadyRegistered, registerPatient, registrationSchema } from '@/lib/auth/registration';
import { decideRoute, homeFor, type SessionUser } from '@/lib/auth/roles';
import { recordSecurityEvent } from '@/lib/auth/security-log';
import { waitForProjections } from '@/lib/projections/wait';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { requestOrigin } from '@/lib/runtime/request-origin';
import { signInSchema } from '@/lib/auth/sign-in';
import { db } from '@/lib/db/client';
import { users } from '@/lib/db/schema';

export type FormState = {
  /** i18n key (under `errors.` or `signIn.`) of a message about the whole form. */
  formError?: string;
  formErrorValues?: Record<string, number>;
  /** Field name → i18n keys under `errors.`. */
  fieldErrors?: Record<string, string[]>;
  /** What the user typed (never passwords), so a failed submit loses nothing. */
  values?: Record<string, string>;
};

/** Only the path of a callback is followed (never another host), and only if the user may open it. */
function safeCallback(raw: FormDataEntryValue | null, user: Pick<SessionUser, 'role' | 'clinicId'>): string {
  const home = homeFor(user);
  if (typeof raw !== 'string' || raw === '') return home;
  let target: URL;
  try {
    target = new URL(raw, 'http://same-site');
  } catch {
    return home;
  }
  // Never another site: '/.//evil.example' parses to the path '//evil.example', which a browser follows off-site.
  if (target.origin !== 'http://same-site' || target.pathname.startsWith('//') || target.pathname.includes('\\')) return home;
  if (target.pathname === '/signin' || target.pathname === '/register') return home;
  return decideRoute(target.pathname, user) === 'allow' ? `${target.pathname}${target.search}` : home;
}

export async function signInAction(_prev: FormState, formData: FormData): Promise<FormState> {
  const parsed = signInSchema.safeParse({ email: formData.get('email'), password: formData.get('password') });
  const values = { email: String(formData.get('email') ?? '') };
  if (!parsed.success) return { fieldErrors: z.flattenError(parsed.error).fieldErrors, values };
  try {
    await signIn('credentials', { email: parsed.data.email, password: parsed.data.password, redirect: false });
  } catch (error) {
    if (error instanceof CredentialsSignin) {
      const [kind, seconds] = String(error.code).split(':');
      if (kind === 'throttled') return { formError: 'signIn.throttled', formErrorValues: { minutes: Math.ceil(Number(seconds) / 60) }, values };
      return { formError: 'signIn.invalid', values };
    }
    if (error instanceof AuthError) return { formError: 'errors.unexpected', values };
    throw error;
  }
  const [user] = await db()
    .select({ role: users.role, clinicId: users.clinicId })
    .from(users)
    .where(sql`lower(${users.email}) = ${parsed.data.email}`)
    .limit(1);
  redirect(user ? safeCallback(formData.get('callbackUrl'), user) : '/');
}

export async function registerAction(_prev: FormState, formData: FormData): Promise<FormState> {
  const fields = ['name', 'email', 'password', 'confirmPassword', 'phone', 'birthDate', 'consent'] as const;
  const raw = Object.fromEntries(fields.map((k) => [k, formData.get(k) ?? undefined]));
  const values = {
    name: String(raw.name ?? ''),
    email: String(raw.email ?? ''),
    phone: String(raw.phone ?? ''),
    birthDate: String(raw.birthDate ?? ''),
    consent: raw.consent === 'on' ? 'on' : '',
  };
  const parsed = registrationSchema.safeParse(raw);
  const fieldErrors: Record<string, string[]> = parsed.success ? {} : z.flattenError(parsed.error).fieldErrors;
  const ageError = typeof raw.birthDate === 'string' && !fieldErrors.birthDate ? birthDateError(raw.birthDate, new Date()) : null;
  if (ageError) fieldErrors.birthDate = [ageError];
  if (!parsed.success || ageError) return { formError: 'register.fixErrors', fieldErrors, values };
  let registered;
  try {
    registered = await registerPatient(db(), await appCommandDeps(), parsed.data, requestOrigin(await headers()));
  } catch (error) {
    if (error instanceof EmailAlreadyRegistered) return { formError: 'register.fixErrors', fieldErrors: { email: ['emailTaken'] }, values };
    throw error;
  }
  // Read-your-writes: the patient's pages read the projections, so wait (bounded) until they have the registration.
  const projections = registered.position ? await waitForProjections(registered.position) : 'caught-up';
  await signIn('credentials', { email: parsed.data.email, password: parsed.data.password, redirect: false });
  redirect(projections === 'caught-up' ? '/me' : '/me?processing=1');
}

export async function signOutAction(): Promise<void> {
  const user = await currentUser();
  if (user) {
    await recordSecurityEvent(db(), { type: 'sign_out', userId: user.id, email: user.email, origin: requestOrigin(await headers()) });
  }
  await signOut({ redirectTo: '/signin' });
}
