import { asc } from 'drizzle-orm';
import { erasedEmailOf } from '../auth/accounts';
import { requireUser } from '../auth/guard';
import { db } from '../db/client';
import { users } from '../db/schema';
import { recordPersonalDataAccess } from '../privacy/access-log';

/** Every account with its role, clinic and manager flag, for administrators. Never includes password hashes. */
export async function listAccounts() {
  const user = await requireUser({ roles: ['admin'], callbackUrl: '/admin' });
  const accounts = await db()
    .select({ id: users.id, name: users.name, email: users.email, role: users.role, clinicId: users.clinicId, clinicManager: users.clinicManager, active: users.active })
    .from(users)
    .orderBy(asc(users.role), asc(users.email));
  // Access log: names and e-mails of every account are personal data (one entry per listing, before it is returned).
  await recordPersonalDataAccess({ user, action: 'view', resource: 'account-list', detail: { accounts: accounts.length } });
  // An erased patient's account keeps only its id (lib/auth/accounts.ts#scrubErasedAccount).
  return accounts.map((a) => ({ ...a, erased: a.email === erasedEmailOf(a.id) }));
}
