import { eq, inArray, or, sql } from 'drizzle-orm';
import { db as appDb, type Db } from '../db/client';
import { emailOutbox, emailVerifications, securityEvents, users, type Role } from '../db/schema';
import { pseudonym } from '../privacy/pseudonym';
import type { RequestOrigin } from '../runtime/request-origin';
import { hashPassword, verifyPassword } from './password';
import { recordSecurityEvent } from './security-log';

/**
 * Account changes that must end the account's sessions: each bumps users.session_version in the same
 * statement, so every session issued before (whatever its cookie still says) is refused at its next
 * request by currentUser() (lib/auth/guard.ts), and records a security event.
 */
const bump = { sessionVersion: sql`${users.sessionVersion} + 1` };

/** "Sign out everywhere": ends every session of the account, this one included. */
export async function revokeAllSessions(db: Db, userId: string, origin: RequestOrigin): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx.update(users).set(bump).where(eq(users.id, userId)).returning({ email: users.email, sessionVersion: users.sessionVersion });
    if (!row) return;
    await recordSecurityEvent(tx, { type: 'sessions_revoked', userId, email: row.email, origin, detail: { sessionVersion: row.sessionVersion } });
  });
}

export class WrongCurrentPassword extends Error {
  override readonly name = 'WrongCurrentPassword';
}

/** Changes the password (the current one must be right) and ends every session. */
export async function changePassword(db: Db, userId: string, input: { currentPassword: string; newPassword: string }, origin: RequestOrigin): Promise<void> {
  const [user] = await db.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!user || !(await verifyPassword(user.passwordHash, input.currentPassword))) throw new WrongCurrentPassword('The current password is wrong');
  const passwordHash = await hashPassword(input.newPassword);
  await db.transaction(async (tx) => {
    await tx.update(users).set({ ...bump, passwordHash }).where(eq(users.id, userId));
    await recordSecurityEvent(tx, { type: 'password_changed', userId, email: user.email, origin });
  });
}

/** Gives the account another role (and clinic, for staff); its sessions end, so the new role counts from the next sign-in. */
export async function changeRole(
  db: Db,
  userId: string,
  change: { role: Role; clinicId: string | null; by: { id: string } },
  origin: RequestOrigin,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [before] = await tx.select({ role: users.role, clinicId: users.clinicId, email: users.email }).from(users).where(eq(users.id, userId)).for('update');
    if (!before) return;
    const clinicId = change.role === 'staff' ? change.clinicId : null;
    // Managing one clinic does not carry over to another role or clinic: an admin grants it again.
    const keepsClinic = before.role === change.role && before.clinicId === clinicId;
    await tx
      .update(users)
      .set({ ...bump, role: change.role, clinicId, ...(keepsClinic ? {} : { clinicManager: false }) })
      .where(eq(users.id, userId));
    await recordSecurityEvent(tx, {
      type: 'role_changed',
      userId,
      email: before.email,
      origin,
      detail: { from: before.role, to: change.role, fromClinic: before.clinicId, toClinic: change.clinicId, by: change.by.id },
    });
  });
}

export type ClinicManagerChange = 'changed' | 'unchanged' | 'not-staff' | 'not-found';

/**
 * Sets or clears the clinic-manager flag of a staff account (admins only: the caller checks). The
 * sessions go on: requireUser reads the flag from the row on every request, so the change counts from
 * the account's next request. Recorded as a 'role_changed' security event with {clinicManager, by}.
 */
export async function setClinicManager(
  db: Db,
  userId: string,
  change: { clinicManager: boolean; by: { id: string } },
  origin: RequestOrigin,
): Promise<ClinicManagerChange> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ role: users.role, clinicId: users.clinicId, email: users.email, clinicManager: users.clinicManager })
      .from(users)
      .where(eq(users.id, userId))
      .for('update');
    if (!before) return 'not-found';
    if (before.role !== 'staff' || !before.clinicId) return 'not-staff';
    if (before.clinicManager === change.clinicManager) return 'unchanged';
    await tx.update(users).set({ clinicManager: change.clinicManager }).where(eq(users.id, userId));
    await recordSecurityEvent(tx, {
      type: 'role_changed',
      userId,
      email: before.email,
      origin,
      detail: { clinicManager: change.clinicManager, clinicId: before.clinicId, by: change.by.id },
    });
    return 'changed';
  });
}

/** Deactivates the account (it can no longer sign in) and ends its sessions. */
export async function deactivateAccount(db: Db, userId: string, by: { id: string }, origin: RequestOrigin): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx.update(users).set({ ...bump, active: false }).where(eq(users.id, userId)).returning({ email: users.email });
    if (!row) return;
    await recordSecurityEvent(tx, { type: 'account_deactivated', userId, email: row.email, origin, detail: { by: by.id } });
  });
}

/** What an erased account's e-mail becomes: unique, and not an address anyone can have (RFC 2606 `.invalid`). */
export const erasedEmailOf = (userId: string) => `erased-${userId}@erased.invalid`;

/**
 * After a patient's personal data is erased (crypto-shredded in the events, dropped from the read
 * models), the account and the security log must not keep it readable either (docs/privacy.md,
 * "Erasure"). In one transaction:
 *  - the account row keeps only its id (the pseudonymous id the events and the ledger use), role and
 *    dates: the name is emptied, the e-mail replaced by `erasedEmailOf(id)`, the password hash by a
 *    value no password matches; it is deactivated and its sessions end (session_version bumped);
 *  - its security events, and every event recorded with its e-mail address as typed (failed sign-ins,
 *    also a stranger's), get keyed pseudonyms for the e-mail and IP address (lib/privacy/pseudonym.ts,
 *    so throttling still counts them) and lose the user agent;
 *  - its verification links and every message to its address in the outbox are deleted.
 * Repeatable: a second call finds nothing readable left to change.
 */
export async function scrubErasedAccount(userId: string, db: Db = appDb()): Promise<void> {
  await db.transaction(async (tx) => {
    const [account] = await tx.select({ email: users.email }).from(users).where(eq(users.id, userId)).for('update');
    if (!account) return;
    const email = account.email.toLowerCase();
    const erasedEmail = erasedEmailOf(userId);
    const rows = await tx
      .select({ id: securityEvents.id, email: securityEvents.email, ip: securityEvents.ip })
      .from(securityEvents)
      .where(or(eq(securityEvents.userId, userId), inArray(securityEvents.email, email === erasedEmail ? [] : [email])));
    // One update per distinct (e-mail, IP) pair: a handful for an account.
    const pairs = new Map<string, { email: string | null; ip: string; ids: number[] }>();
    for (const row of rows) {
      const key = `${row.email}\u0000${row.ip}`;
      const pair = pairs.get(key) ?? { email: row.email, ip: row.ip, ids: [] };
      pair.ids.push(row.id);
      pairs.set(key, pair);
    }
    for (const pair of pairs.values()) {
      await tx
        .update(securityEvents)
        .set({
          email: pair.email === null ? null : pseudonym('email', pair.email),
          ip: pair.ip === 'unknown' ? pair.ip : pseudonym('ip', pair.ip),
          userAgent: null,
        })
        .where(inArray(securityEvents.id, pair.ids));
    }
    await tx.delete(emailOutbox).where(sql`lower(${emailOutbox.toEmail}) = ${email}`);
    await tx.delete(emailVerifications).where(eq(emailVerifications.userId, userId));
    await tx
      .update(users)
      .set({ ...bump, name: '', email: erasedEmail, passwordHash: ERASED_PASSWORD_HASH, active: false })
      .where(eq(users.id, userId));
  });
}

/** Not an argon2 hash: verifyPassword is false for every password. */
const ERASED_PASSWORD_HASH = '!erased';
