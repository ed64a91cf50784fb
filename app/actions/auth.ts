'use server';

import { AuthError, CredentialsSignin } from 'next-auth';
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { z } from 'zod';
import { signIn, signOut } from '@/lib/auth';
import { currentUser } from '@/lib/auth/guard';
import { birthDateError, registrationSchema, requestPatientRegistration } from '@/lib/auth/registration';
import { appBaseUrl, landingAfterSignIn, originOf, recordSignOut, signOutEverywhere } from '@/lib/auth/session';
import { signInSchema } from '@/lib/auth/sign-in';
import { formValues, postedForm, unstorableText } from './validated';

export type FormState = {
  /** i18n key (under `errors.` or `signIn.`) of a message about the whole form. */
  formError?: string;
  formErrorValues?: Record<string, number>;
  /** Field name → i18n keys under `errors.`. */
  fieldErrors?: Record<string, string[]>;
  /** What the user typed (never passwords), so a failed submit loses nothing. */
  values?: Record<string, string>;
};

export async function signInAction(_prev: FormState, posted: FormData): Promise<FormState> {
  const formData = postedForm(posted);
  const unstorable = unstorableText(formValues(formData));
  if (unstorable) return unstorable;
  const parsed = signInSchema.safeParse({ email: formData.get('email'), password: formData.get('password') });
  const values = { email: String(formData.get('email') ?? '') };
  if (!parsed.success) return { fieldErrors: z.flattenError(parsed.error).fieldErrors, values };
  try {
    await signIn('credentials', { email: parsed.data.email, password: parsed.data.password, redirect: false });
  } catch (error) {
    if (error instanceof CredentialsSignin) {
      const [kind, seconds] = String(error.code).split(':');
      if (kind === 'throttled') return { formError: 'signIn.throttled', formErrorValues: { minutes: Math.ceil(Number(seconds) / 60) }, values };
      if (kind === 'unverified') return { formError: 'security.unverified', values };
      return { formError: 'signIn.invalid', values };
    }
    if (error instanceof AuthError) return { formError: 'errors.unexpected', values };
    throw error;
  }
  redirect(await landingAfterSignIn(parsed.data.email, formData.get('callbackUrl')));
}

export async function registerAction(_prev: FormState, posted: FormData): Promise<FormState> {
  const formData = postedForm(posted);
  const unstorable = unstorableText(formValues(formData));
  if (unstorable) return unstorable;
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
  const requestHeaders = await headers();
  const answer = await requestPatientRegistration(parsed.data, originOf(requestHeaders), appBaseUrl(requestHeaders));
  if (answer.status === 'throttled') {
    return { formError: 'security.registerThrottled', formErrorValues: { minutes: Math.ceil(answer.retryAfterSeconds / 60) }, values };
  }
  // The same answer whether the address was new or already had an account: see the e-mail.
  redirect('/register/sent');
}

export async function signOutAction(): Promise<void> {
  const user = await currentUser();
  if (user) {
    await recordSignOut(user, originOf(await headers()));
  }
  await signOut({ redirectTo: '/signin' });
}

/** "Sign out everywhere": every session of the account ends at its next request (users.session_version). */
export async function signOutEverywhereAction(): Promise<void> {
  const user = await currentUser();
  if (user) await signOutEverywhere(user, originOf(await headers()));
  await signOut({ redirectTo: '/signin' });
}
