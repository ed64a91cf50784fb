import { cache } from 'react';
import { eq } from 'drizzle-orm';
import { redirect } from 'next/navigation';
import { db } from '../db/client';
import { users, type Role } from '../db/schema';
import { auth } from './index';
import { refuse } from './refusals';
import type { SessionUser } from './roles';

/**
 * The session as the database sees it now (not as the token remembers it), so a deactivated account,
 * a changed role or revoked sessions take effect on the next request. `refused`: a session cookie
 * exists but no longer counts (its cookie must be cleared: /signin/ended). Cached for one request.
 */
export const sessionState = cache(async (): Promise<{ user: SessionUser | null; refused: boolean }> => {
  const session = await auth();
  const id = session?.user?.id;
  if (!id) return { user: null, refused: false };
  const [row] = await db().select().from(users).where(eq(users.id, id)).limit(1);
  // Revoked: signed out everywhere, password or role changed, or deactivated since this session began.
  if (!row || !row.active || row.sessionVersion !== (session.sessionVersion ?? 0)) return { user: null, refused: true };
  return {
    user: { id: row.id, email: row.email, name: row.name, role: row.role, clinicId: row.clinicId, isClinicManager: row.role === 'staff' && row.clinicManager },
    refused: false,
  };
});

/** The signed-in user, or null (also when the session was revoked). */
export async function currentUser(): Promise<SessionUser | null> {
  return (await sessionState()).user;
}

/**
 * The one authorisation check every page, server action and query calls.
 * Not signed in: redirect to sign-in. Wrong role, or staff of another clinic: 403.
 */
export async function requireUser(options: { roles: readonly Role[]; clinicId?: string; callbackUrl?: string }): Promise<SessionUser> {
  const { user, refused } = await sessionState();
  if (!user) {
    const query = options.callbackUrl ? `?callbackUrl=${encodeURIComponent(options.callbackUrl)}` : '';
    // A refused session still has its cookie, which would send the user from /signin back here: clear it first.
    redirect(refused ? `/signin/ended${query}` : `/signin${query}`);
  }
  if (!options.roles.includes(user.role)) await refuse(user, { required: options.roles, ...(options.callbackUrl ? { at: options.callbackUrl } : {}) });
  if (options.clinicId !== undefined && user.role === 'staff' && user.clinicId !== options.clinicId) await refuse(user, { otherClinic: options.clinicId, ...(options.callbackUrl ? { at: options.callbackUrl } : {}) });
  return user;
}
