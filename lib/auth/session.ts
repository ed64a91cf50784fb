import { sql } from 'drizzle-orm';
import { db } from '../db/client';
import { users } from '../db/schema';
import { requestOrigin, type RequestOrigin } from '../runtime/request-origin';
import { revokeAllSessions, setClinicManager, type ClinicManagerChange } from './accounts';
import { safeCallback } from './callback';
import type { SessionUser } from './roles';
import { recordSecurityEvent } from './security-log';

export type { RequestOrigin };

/** Where a request came from (the web server pinned the address), for security events and command metadata. */
export function originOf(headers: Pick<Headers, 'get'>): RequestOrigin {
  return requestOrigin(headers);
}

/** Where the account that just signed in goes: the page it asked for if safe (lib/auth/callback.ts), else its home. */
export async function landingAfterSignIn(email: string, callbackUrl: unknown): Promise<string> {
  const [user] = await db()
    .select({ role: users.role, clinicId: users.clinicId })
    .from(users)
    .where(sql`lower(${users.email}) = ${email.trim().toLowerCase()}`)
    .limit(1);
  return user ? safeCallback(callbackUrl, user) : '/';
}

export async function recordSignOut(user: SessionUser, origin: RequestOrigin): Promise<void> {
  await recordSecurityEvent(db(), { type: 'sign_out', userId: user.id, email: user.email, origin });
}

/** Ends every session of the account (this one too); the caller then signs this browser out. */
export async function signOutEverywhere(user: SessionUser, origin: RequestOrigin): Promise<void> {
  await revokeAllSessions(db(), user.id, origin);
}

/** An admin makes a staff account its clinic's manager, or takes the flag away (the caller checked the admin). */
export async function changeClinicManager(admin: SessionUser, userId: string, clinicManager: boolean, origin: RequestOrigin): Promise<ClinicManagerChange> {
  if (admin.role !== 'admin') throw new Error('only an admin changes the clinic-manager flag');
  return setClinicManager(db(), userId, { clinicManager, by: { id: admin.id } }, origin);
}

/**
 * The site's public origin, for links in e-mails: AUTH_URL (required outside the embedded start, so a
 * client-chosen Host header can never put another site into a verification link), else this request's host.
 */
export function appBaseUrl(headers: Pick<Headers, 'get'>): string {
  const configured = process.env.AUTH_URL?.trim();
  if (configured) return new URL(configured).origin;
  return `${headers.get('x-forwarded-proto') === 'https' ? 'https' : 'http'}://${headers.get('host') ?? 'localhost'}`;
}
