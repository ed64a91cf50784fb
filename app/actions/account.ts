'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { changeContact, erasePatientData, giveConsent, withdrawConsent } from '@/lib/commands';
import { scrubErasedAccount } from '@/lib/auth/accounts';
import { registrationSchema } from '@/lib/auth/registration';
import { consentTextVersion, myAccount, optionalConsentPurposes } from '@/lib/queries/account';
import { waitForReadModels } from '@/lib/queries/freshness';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { signOutAction } from './auth';
import { validatedActionWithUser, type FormState } from './validated';

const commandId = z.uuid();
// The same rules as at registration (one home for what a valid phone and e-mail are); empty = unchanged.
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const contactSchema = z.object({
  commandId,
  phone: optional(registrationSchema.shape.phone),
  email: optional(registrationSchema.shape.email),
});

const consentSchema = z.object({
  commandId,
  purpose: z.enum(optionalConsentPurposes),
  decision: z.enum(['give', 'withdraw']),
});

const eraseSchema = z.object({ commandId, confirm: z.literal('on', { error: 'eraseConfirmRequired' }) });

async function settled(position: Parameters<typeof waitForReadModels>[0], ok: string): Promise<FormState> {
  const fresh = await waitForReadModels(position);
  revalidatePath('/me/account');
  revalidatePath('/me');
  return fresh === 'caught-up' ? { ok } : { ok, formError: 'projections.stillProcessing' };
}

/** New phone and/or contact e-mail for the signed-in patient (encrypted in their events). */
export const changeContactAction = validatedActionWithUser({ schema: contactSchema, roles: ['patient'], callbackUrl: '/me/account' }, async (data, { user, meta }) => {
  const current = await myAccount();
  const phone = data.phone !== undefined && data.phone !== current?.phone ? data.phone : undefined;
  const email = data.email !== undefined && data.email !== current?.email ? data.email : undefined;
  if (phone === undefined && email === undefined) return { ok: 'account.contact.unchanged' };
  const result = await changeContact(await appCommandDeps(), { patientId: user.id, ...(phone ? { phone } : {}), ...(email ? { email } : {}) }, meta({ commandId: data.commandId }));
  return settled(result.position, 'account.contact.saved');
});

/** Give or withdraw one of the optional consents (the personal-data consent is withdrawn by erasing). */
export const consentAction = validatedActionWithUser({ schema: consentSchema, roles: ['patient'], callbackUrl: '/me/account' }, async (data, { user, meta }) => {
  const deps = await appCommandDeps();
  const m = meta({ commandId: data.commandId });
  const result =
    data.decision === 'give'
      ? await giveConsent(deps, { patientId: user.id, purpose: data.purpose, version: consentTextVersion }, m)
      : await withdrawConsent(deps, { patientId: user.id, purpose: data.purpose }, m);
  return settled(result.position, data.decision === 'give' ? 'account.consents.given' : 'account.consents.withdrawn');
});

/**
 * Erase the signed-in patient's personal data (crypto-shredding: PatientDataErased, then their key is
 * deleted), scrub the account and the security log (their sessions end there), wait for the read
 * models to drop it, then sign out (the cookie goes; no sign-out is recorded for an account that is
 * gone, which would write their address and IP again).
 */
export const eraseMyDataAction = validatedActionWithUser({ schema: eraseSchema, roles: ['patient'], callbackUrl: '/me/account' }, async (data, { user, meta }) => {
  const result = await erasePatientData(
    await appCommandDeps(),
    { patientId: user.id, requestedBy: 'patient', reason: 'The patient erased their personal data from their account page.' },
    meta({ commandId: data.commandId }),
  );
  await scrubErasedAccount(user.id);
  await waitForReadModels(result.position);
  revalidatePath('/me');
  revalidatePath('/me/account');
  await signOutAction();
  return {};
});
