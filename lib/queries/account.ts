/**
 * The signed-in patient's own profile and consents, from the patients read model (the one read model
 * holding personal data, decrypted by the worker). Only the owner reads it: the id is the session's.
 * Once erased, every personal field is null and `erased` is true: pages show "erased", never the
 * account's sign-in name (the users table still holds it until issue 10 scrubs it).
 */
import { eq } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import { db as appDb, type Db } from '../db/client';
import type { patient } from '../domain';
import { rmPatients } from '../projections/schema';

export type ConsentPurpose = patient.ConsentPurpose;
/** The consents a patient may give or withdraw on their account page (personal-data is required: it ends with erasure). */
export const optionalConsentPurposes = ['sensitive-health-data', 'treatment-photos', 'marketing'] as const satisfies readonly ConsentPurpose[];
/** The purposes the account page lists, the required one first. */
export const consentPurposes: readonly ConsentPurpose[] = ['personal-data', ...optionalConsentPurposes];
/** The version of the optional consent texts the account page shows. */
export const consentTextVersion = '2026-01';

export interface Account {
  patientId: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  birthDate: string | null;
  erased: boolean;
  erasedAt: Date | null;
  registeredAt: Date;
  consents: Record<string, { version: string; at: string } | null>;
}

export async function accountOf(db: Db, patientId: string): Promise<Account | null> {
  const [row] = await db.select().from(rmPatients).where(eq(rmPatients.id, patientId)).limit(1);
  if (!row) return null;
  return {
    patientId: row.id,
    name: row.erased ? null : row.name,
    phone: row.erased ? null : row.phone,
    email: row.erased ? null : row.email,
    birthDate: row.erased ? null : row.birthDate,
    erased: row.erased,
    erasedAt: row.erasedAt,
    registeredAt: row.registeredAt,
    consents: row.consents,
  };
}

/** The signed-in patient's account; null while the read model has not got the registration yet. */
export async function myAccount(callbackUrl = '/me/account'): Promise<Account | null> {
  const user = await requireUser({ roles: ['patient'], callbackUrl });
  return accountOf(appDb(), user.id);
}
