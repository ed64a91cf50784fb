import { and, eq, gt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, DbOrTx } from '../db/client';
import { securityEvents, users } from '../db/schema';
import { dummyPasswordHash, verifyPassword } from './password';
import type { SessionUser } from './roles';
import type { RequestOrigin } from '../runtime/request-origin';
import { recordSecurityEvent } from './security-log';

/** Failed sign-ins allowed in a window before further attempts are refused. */
export const throttlePolicy = {
  windowMinutes: 15,
  perAccount: 5,
  perIp: 20,
} as const;

export const signInSchema = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email({ error: 'emailInvalid' })),
  password: z.string().min(1, { error: 'passwordRequired' }).max(200, { error: 'passwordTooLong' }),
});
export type SignInInput = z.infer<typeof signInSchema>;

export type SignInResult =
  | { ok: true; user: SessionUser }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/** Seconds until the account or IP may try again, or 0 if it may try now. */
export async function throttleDelay(db: DbOrTx, email: string, ip: string, now: Date): Promise<number> {
  const windowMs = throttlePolicy.windowMinutes * 60_000;
  const since = new Date(now.getTime() - windowMs);
  // A successful sign-in clears the account's earlier failures.
  const [lastSuccess] = await db
    .select({ at: sql<Date>`max(${securityEvents.occurredAt})` })
    .from(securityEvents)
    .where(and(eq(securityEvents.email, email), eq(securityEvents.type, 'sign_in'), gt(securityEvents.occurredAt, since)));
  const accountSince = lastSuccess?.at && new Date(lastSuccess.at) > since ? new Date(lastSuccess.at) : since;

  const failures = async (column: typeof securityEvents.email | typeof securityEvents.ip, value: string, from: Date, limit: number) => {
    const rows = await db
      .select({ at: securityEvents.occurredAt })
      .from(securityEvents)
      .where(and(eq(column, value), eq(securityEvents.type, 'sign_in_failed'), gt(securityEvents.occurredAt, from)))
      .orderBy(sql`${securityEvents.occurredAt} desc`)
      .limit(limit);
    if (rows.length < limit) return 0;
    // Blocked until the oldest of the last `limit` failures leaves the window.
    const oldest = rows[rows.length - 1]!.at;
    return Math.max(1, Math.ceil((oldest.getTime() + windowMs - now.getTime()) / 1000));
  };

  return Math.max(
    await failures(securityEvents.email, email, accountSince, throttlePolicy.perAccount),
    await failures(securityEvents.ip, ip, since, throttlePolicy.perIp),
  );
}

/**
 * Checks an e-mail and password, with rate limiting per account and per IP,
 * and records the outcome as a security event.
 */
export async function signInWithPassword(db: Db, input: SignInInput, origin: RequestOrigin, now = new Date()): Promise<SignInResult> {
  const email = input.email.trim().toLowerCase();
  // One attempt per account at a time: the count, the password check and the record of the outcome
  // happen under the account's lock, so parallel guesses cannot all slip under the limit.
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`sign-in:${email}`}))`);
    const retryAfterSeconds = await throttleDelay(tx, email, origin.ip ?? 'unknown', now);
    if (retryAfterSeconds > 0) {
      await recordSecurityEvent(tx, { type: 'sign_in_throttled', email, origin, at: now, detail: { retryAfterSeconds } });
      return { ok: false, reason: 'throttled', retryAfterSeconds } as const;
    }

    const [user] = await tx
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = ${email}`)
      .limit(1);
    const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), input.password);

    if (!user || !passwordOk || !user.active) {
      await recordSecurityEvent(tx, {
        type: 'sign_in_failed',
        userId: user?.id ?? null,
        email,
        origin,
        at: now,
        detail: { reason: !user ? 'unknown_account' : !user.active ? 'inactive_account' : 'wrong_password' },
      });
      return { ok: false, reason: 'invalid' } as const;
    }

    await recordSecurityEvent(tx, { type: 'sign_in', userId: user.id, email, origin, at: now, detail: { role: user.role } });
    return { ok: true, user: { id: user.id, email: user.email, name: user.name, role: user.role, clinicId: user.clinicId } } as const;
  });
}
