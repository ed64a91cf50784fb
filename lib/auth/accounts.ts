import { eq, sql } from 'drizzle-orm';
import { db as appDb, type Db } from '../db/client';
import { users, type Role } from '../db/schema';
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

/**
 * After a patient's personal data is erased (crypto-shredded in the events and read models), the
 * account row must not keep their name readable either: the header and /admin show it. The e-mail
 * stays for now, as the sign-in identifier (scrubbing it and pseudonymising security events is
 * issue 10's erasure work); the name is emptied and shown as "erased".
 */
export async function scrubErasedPatientName(userId: string, db: Db = appDb()): Promise<void> {
  await db.update(users).set({ name: '' }).where(eq(users.id, userId));
}
