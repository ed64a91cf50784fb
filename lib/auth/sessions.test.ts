/**
 * Revocable sessions and session expiry, through the real Auth.js session cookie and the real
 * currentUser()/requireUser() (only the request headers Next.js would provide are supplied).
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase } from '../testing/db';
import { users } from '../db/schema';
import { hashPassword } from './password';

const request = vi.hoisted(() => ({ cookie: '' }));
vi.mock('next/headers', () => ({
  headers: async () => new Headers({ host: 'localhost:3000', 'x-forwarded-proto': 'http', 'user-agent': 'vitest', cookie: request.cookie }),
  cookies: async () => ({ get: () => undefined, getAll: () => [], has: () => false }),
}));

const t = await createTestDatabase();
process.env.DATABASE_URL = t.url;
process.env.AUTH_SECRET = 'sessions-test-auth-secret-0123456789abcdef';
process.env.__NEXT_EXPERIMENTAL_AUTH_INTERRUPTS = 'true';
// The security log's pseudonyms (lib/privacy/pseudonym.ts) are keyed by the master key, as in every deployment.
process.env.PERSONAL_DATA_MASTER_KEY ??= Buffer.alloc(32, 7).toString('base64');

const { encode } = await import('next-auth/jwt');
const { currentUser, requireUser } = await import('./guard');
const { changePassword, changeRole, deactivateAccount, revokeAllSessions, setClinicManager } = await import('./accounts');
const { authConfig } = await import('./config');
const { signInWithPassword } = await import('./sign-in');

const origin = { ip: '198.51.100.9', userAgent: 'vitest' };
const password = 'correct-horse-42';

async function newAccount(role: 'patient' | 'staff' = 'patient') {
  const id = randomUUID();
  const email = `${id.slice(0, 8)}@sessions.example`;
  await t.db.insert(users).values({ id, email, name: 'S', role, clinicId: role === 'staff' ? 'c1' : null, passwordHash: await hashPassword(password) });
  return { id, email };
}

/** The cookie Auth.js sets at sign-in: the jwt callback's claims, for `maxAge` seconds. */
async function sessionCookieFor(email: string, maxAge = authConfig.session.maxAge) {
  const result = await signInWithPassword(t.db, { email, password }, origin);
  if (!result.ok) throw new Error(`sign-in refused: ${result.reason}`);
  const token = await authConfig.callbacks.jwt({ token: {}, user: result.user } as never);
  return `authjs.session-token=${await encode({ token, secret: process.env.AUTH_SECRET!, salt: 'authjs.session-token', maxAge })}`;
}

const redirectOf = async (call: () => Promise<unknown>) => {
  try {
    await call();
    return 'allowed';
  } catch (error) {
    return String((error as { digest?: string }).digest ?? error).split(';')[2] ?? String(error);
  }
};

describe('revocable sessions', () => {
  it('sign out everywhere ends sessions issued before it, in every browser; a new sign-in works', async () => {
    const a = await newAccount();
    const laptop = await sessionCookieFor(a.email);
    const phone = await sessionCookieFor(a.email);
    request.cookie = phone;
    expect((await currentUser())?.id).toBe(a.id);

    await revokeAllSessions(t.db, a.id, origin);
    for (const cookie of [laptop, phone]) {
      request.cookie = cookie;
      expect(await currentUser()).toBeNull();
      // Sent to clear the cookie first, or the proxy would bounce the user between /signin and home.
      expect(await redirectOf(() => requireUser({ roles: ['patient'], callbackUrl: '/me' }))).toBe('/signin/ended?callbackUrl=%2Fme');
    }
    request.cookie = await sessionCookieFor(a.email);
    expect((await currentUser())?.id).toBe(a.id);
    const [event] = await t.sql`select type from security_events where user_id = ${a.id} and type = 'sessions_revoked'`;
    expect(event).toBeDefined();
  });

  it('a password change, a role change and a deactivation each end the sessions', async () => {
    const changes: Array<(id: string) => Promise<void>> = [
      (id) => changePassword(t.db, id, { currentPassword: password, newPassword: 'another-password-43' }, origin),
      (id) => changeRole(t.db, id, { role: 'auditor', clinicId: null, by: { id: 'admin' } }, origin),
      (id) => deactivateAccount(t.db, id, { id: 'admin' }, origin),
    ];
    for (const change of changes) {
      const a = await newAccount('staff');
      request.cookie = await sessionCookieFor(a.email);
      expect((await currentUser())?.id).toBe(a.id);
      await change(a.id);
      expect(await currentUser()).toBeNull();
    }
  });

  it('the clinic-manager flag counts from the next request of a running session, and is recorded', async () => {
    const a = await newAccount('staff');
    request.cookie = await sessionCookieFor(a.email);
    expect((await currentUser())?.isClinicManager).toBe(false);

    expect(await setClinicManager(t.db, a.id, { clinicManager: true, by: { id: 'admin-1' } }, origin)).toBe('changed');
    expect(await currentUser()).toMatchObject({ id: a.id, isClinicManager: true });
    expect(await setClinicManager(t.db, a.id, { clinicManager: true, by: { id: 'admin-1' } }, origin)).toBe('unchanged');
    expect(await setClinicManager(t.db, a.id, { clinicManager: false, by: { id: 'admin-1' } }, origin)).toBe('changed');
    expect(await currentUser()).toMatchObject({ id: a.id, isClinicManager: false });

    const events = await t.sql`select detail from security_events where user_id = ${a.id} and type = 'role_changed' order by id`;
    expect(events.map((e) => e.detail)).toEqual([
      { clinicManager: true, clinicId: 'c1', by: 'admin-1' },
      { clinicManager: false, clinicId: 'c1', by: 'admin-1' },
    ]);
  });

  it('only staff accounts can be clinic managers; moving to another clinic drops the flag', async () => {
    const p = await newAccount('patient');
    expect(await setClinicManager(t.db, p.id, { clinicManager: true, by: { id: 'admin-1' } }, origin)).toBe('not-staff');
    expect(await setClinicManager(t.db, randomUUID(), { clinicManager: true, by: { id: 'admin-1' } }, origin)).toBe('not-found');

    const s = await newAccount('staff');
    await setClinicManager(t.db, s.id, { clinicManager: true, by: { id: 'admin-1' } }, origin);
    await changeRole(t.db, s.id, { role: 'staff', clinicId: 'c2', by: { id: 'admin-1' } }, origin);
    const [row] = await t.db.select({ clinicManager: users.clinicManager }).from(users).where(eq(users.id, s.id));
    expect(row!.clinicManager).toBe(false);
  });

  it('a sign-in without revocation keeps working (the version only moves when asked)', async () => {
    const a = await newAccount();
    request.cookie = await sessionCookieFor(a.email);
    await t.db.update(users).set({ name: 'Renamed' }).where(eq(users.id, a.id));
    expect((await currentUser())?.name).toBe('Renamed');
  });
});

describe('session expiry', () => {
  it('sessions last 8 hours from sign-in, and an expired one is refused', async () => {
    const a = await newAccount();
    const cookie = await sessionCookieFor(a.email);
    const { decode } = await import('next-auth/jwt');
    const claims = await decode({ token: cookie.split('=')[1], secret: process.env.AUTH_SECRET!, salt: 'authjs.session-token' });
    expect(claims!.exp! - claims!.iat!).toBe(8 * 60 * 60);
    request.cookie = cookie;
    expect((await currentUser())?.id).toBe(a.id);
    // Expired a minute ago (Auth.js allows 15 s of clock skew).
    request.cookie = await sessionCookieFor(a.email, -60);
    expect(await currentUser()).toBeNull();
    expect(await redirectOf(() => requireUser({ roles: ['patient'] }))).toBe('/signin');
  });
});
