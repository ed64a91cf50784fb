import { asc } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import { db } from '../db/client';
import { users } from '../db/schema';

/** Every account with its role and clinic, for administrators. Never includes password hashes. */
export async function listAccounts() {
  await requireUser({ roles: ['admin'], callbackUrl: '/admin' });
  return db()
    .select({ id: users.id, name: users.name, email: users.email, role: users.role, clinicId: users.clinicId, active: users.active })
    .from(users)
    .orderBy(asc(users.role), asc(users.email));
}
