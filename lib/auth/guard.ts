import { cache } from 'react';
import { eq } from 'drizzle-orm';
import { forbidden, redirect } from 'next/navigation';
import { db } from '../db/client';
import { users, type Role } from '../db/schema';
import { auth } from './index';
import type { SessionUser } from './roles';

/**
 * The signed-in user as the database knows them now (not as the token remembers them),
 * so a deactivated account or a changed role takes effect on the next request.
 * Cached for the duration of one request.
 */
export const currentUser = cache(async (): Promise<SessionUser | null> => {
  const session = await auth();
  const id = session?.user?.id;
  if (!id) return null;
  const [row] = await db().select().from(users).where(eq(users.id, id)).limit(1);
  if (!row || !row.active) return null;
  return { id: row.id, email: row.email, name: row.name, role: row.role, clinicId: row.clinicId };
});

/**
 * The one authorisation check every page, server action and query calls.
 * Not signed in: redirect to sign-in. Wrong role, or staff of another clinic: 403.
 */
export async function requireUser(options: { roles: readonly Role[]; clinicId?: string; callbackUrl?: string }): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect(options.callbackUrl ? `/signin?callbackUrl=${encodeURIComponent(options.callbackUrl)}` : '/signin');
  if (!options.roles.includes(user.role)) forbidden();
  if (options.clinicId !== undefined && user.role === 'staff' && user.clinicId !== options.clinicId) forbidden();
  return user;
}
