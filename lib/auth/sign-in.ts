import { and, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, DbOrTx } from '../db/client';
import { securityEvents, users } from '../db/schema';
import { dummyPasswordHash, verifyPassword } from './password';
import type { SessionUser } from './roles';
import type { RequestOrigin } from '../runtime/request-origin';
import { recordSecurityEvent } from './security-log';
import { withPseudonym } from '../privacy/pseudonym';

/**
 * Sign-in throttling. Failures are counted per account AND client address, so a stranger's wrong
 * passwords slow down the stranger, not the account's owner at home: after `perPair` failures from one
 * address, each further try from there waits a growing delay (30 s, 1 min, 2 min … up to 15 min).
 * Guesses spread over many addresses meet two more limits: `perIp` failures from one address over all
 * accounts (password spraying), and `perAccount` failures on one account over all addresses, which
 * refuses only addresses the account has not signed in from lately (`knownAddressDays`), so even a
 * botnet cannot lock the owner out of their usual place.
 */
export const throttlePolicy = {
  windowMinutes: 15,
  perPair: 5,
  firstDelaySeconds: 30,
  maxDelaySeconds: 15 * 60,
  perIp: 20,
  perAccount: 20,
  knownAddressDays: 30,
} as const;

export const signInSchema = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email({ error: 'emailInvalid' })),
  password: z.string().min(1, { error: 'passwordRequired' }).max(200, { error: 'passwordTooLong' }),
});
export type SignInInput = z.infer<typeof signInSchema>;

export type SignInResult =
  | { ok: true; user: SessionUser & { sessionVersion: number } }
  | { ok: false; reason: 'invalid' | 'unverified' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/** The delay after `failures` from one address on one account: none up to perPair, then doubling. */
export function pairDelaySeconds(failures: number): number {
  if (failures < throttlePolicy.perPair) return 0;
  return Math.min(throttlePolicy.maxDelaySeconds, throttlePolicy.firstDelaySeconds * 2 ** (failures - throttlePolicy.perPair));
}

/** Seconds until this address may try this account again, or 0 if it may try now. */
export async function throttleDelay(db: DbOrTx, email: string, ip: string, now: Date): Promise<number> {
  const windowMs = throttlePolicy.windowMinutes * 60_000;
  const since = new Date(now.getTime() - windowMs);
  const secondsUntil = (at: Date) => Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 1000));
  // Rows of an erased patient carry pseudonyms instead (lib/privacy/pseudonym.ts): they still count.
  const emails = withPseudonym('email', email);
  const ips = withPseudonym('ip', ip);
  // A successful sign-in clears the account's earlier failures.
  const [lastSuccess] = await db
    .select({ at: sql<Date | null>`max(${securityEvents.occurredAt})` })
    .from(securityEvents)
    .where(and(inArray(securityEvents.email, emails), eq(securityEvents.type, 'sign_in'), gt(securityEvents.occurredAt, since)));
  const accountSince = lastSuccess?.at && new Date(lastSuccess.at) > since ? new Date(lastSuccess.at) : since;
  const failed = (...conditions: SQL[]) =>
    db
      .select({ at: securityEvents.occurredAt })
      .from(securityEvents)
      .where(and(eq(securityEvents.type, 'sign_in_failed'), ...conditions))
      .orderBy(sql`${securityEvents.occurredAt} desc`);

  // This address on this account: a growing delay after the last failure.
  const pair = await failed(inArray(securityEvents.email, emails), inArray(securityEvents.ip, ips), gt(securityEvents.occurredAt, accountSince));
  const pairWait = pair.length > 0 ? pairDelaySeconds(pair.length) : 0;
  const pairUntil = (pair[0]?.at.getTime() ?? 0) + pairWait * 1000;
  const waits = [pairUntil > now.getTime() ? secondsUntil(new Date(pairUntil)) : 0];

  // Blocked until the oldest of the last `limit` failures leaves the window.
  const windowFull = (rows: { at: Date }[], limit: number) =>
    rows.length < limit ? 0 : secondsUntil(new Date(rows[limit - 1]!.at.getTime() + windowMs));
  // This address on every account (spraying).
  waits.push(windowFull(await failed(inArray(securityEvents.ip, ips), gt(securityEvents.occurredAt, since)).limit(throttlePolicy.perIp), throttlePolicy.perIp));
  // Every address on this account, except addresses the owner signed in from lately.
  const accountWait = windowFull(
    await failed(inArray(securityEvents.email, emails), gt(securityEvents.occurredAt, accountSince)).limit(throttlePolicy.perAccount),
    throttlePolicy.perAccount,
  );
  if (accountWait > 0) {
    const [known] = await db
      .select({ id: securityEvents.id })
      .from(securityEvents)
      .where(
        and(
          inArray(securityEvents.email, emails),
          inArray(securityEvents.ip, ips),
          eq(securityEvents.type, 'sign_in'),
          gt(securityEvents.occurredAt, new Date(now.getTime() - throttlePolicy.knownAddressDays * 86_400_000)),
        ),
      )
      .limit(1);
    if (!known) waits.push(accountWait);
  }
  return Math.max(...waits);
}

/**
 * Checks an e-mail and password, with rate limiting per account and per IP,
 * and records the outcome as a security event.
 */
export async function signInWithPassword(db: Db, input: SignInInput, origin: RequestOrigin, now = new Date()): Promise<SignInResult> {
  const email = input.email.trim().toLowerCase();
  const ip = origin.ip ?? 'unknown';
  // One attempt per address and per account at a time: the counts, the password check and the record
  // of the outcome happen under both locks, so parallel guesses can slip under neither the per-account
  // limits nor the per-address one (spraying many accounts at once). Always the address first, so two
  // attempts never wait on each other's second lock.
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(1, hashtext(${ip}))`);
    await tx.execute(sql`select pg_advisory_xact_lock(2, hashtext(${email}))`);
    const retryAfterSeconds = await throttleDelay(tx, email, ip, now);
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

    if (!user.emailVerifiedAt) {
      // The right password, but the address was never confirmed: say so (only the password's owner learns it).
      await recordSecurityEvent(tx, { type: 'sign_in_failed', userId: user.id, email, origin, at: now, detail: { reason: 'unverified_email' } });
      return { ok: false, reason: 'unverified' } as const;
    }

    await recordSecurityEvent(tx, { type: 'sign_in', userId: user.id, email, origin, at: now, detail: { role: user.role } });
    return {
      ok: true,
      user: { id: user.id, email: user.email, name: user.name, role: user.role, clinicId: user.clinicId, isClinicManager: user.role === 'staff' && user.clinicManager, sessionVersion: user.sessionVersion },
    } as const;
  });
}
