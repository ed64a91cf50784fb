import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../testing/db';
import { users } from '../db/schema';
import { hashPassword } from './password';
import { signInWithPassword, throttlePolicy } from './sign-in';

const t = await createTestDatabase();
// The security log's pseudonyms (lib/privacy/pseudonym.ts) are keyed by the master key, as in every deployment.
process.env.PERSONAL_DATA_MASTER_KEY ??= Buffer.alloc(32, 7).toString('base64');
const password = 'correct-horse-42';
const at = (minutes: number) => new Date(Date.UTC(2026, 10, 25, 12, 0) + minutes * 60_000);

beforeAll(async () => {
  const passwordHash = await hashPassword(password);
  await t.db.insert(users).values([
    { id: '01900000-0000-7000-8000-000000000001', email: 'staff@clinic.example', name: 'Staff', role: 'staff', clinicId: null, passwordHash },
    { id: '01900000-0000-7000-8000-000000000002', email: 'gone@clinic.example', name: 'Gone', role: 'patient', passwordHash, active: false },
  ]);
});

describe('signing in with a password', () => {
  it('accepts the right password and records who signed in from where', async () => {
    const result = await signInWithPassword(t.db, { email: 'STAFF@clinic.example', password }, { ip: '198.51.100.1', userAgent: 'ua' }, at(0));
    expect(result).toMatchObject({ ok: true, user: { email: 'staff@clinic.example', role: 'staff' } });
    const [event] = await t.sql`select type, ip, user_agent, email from security_events order by id desc limit 1`;
    expect(event).toEqual({ type: 'sign_in', ip: '198.51.100.1', user_agent: 'ua', email: 'staff@clinic.example' });
  });

  it('refuses a wrong password, an unknown account and an inactive account alike', async () => {
    const origin = { ip: '198.51.100.2', userAgent: null };
    expect(await signInWithPassword(t.db, { email: 'staff@clinic.example', password: 'nope' }, origin, at(1))).toEqual({ ok: false, reason: 'invalid' });
    expect(await signInWithPassword(t.db, { email: 'nobody@clinic.example', password }, origin, at(1))).toEqual({ ok: false, reason: 'invalid' });
    expect(await signInWithPassword(t.db, { email: 'gone@clinic.example', password }, origin, at(1))).toEqual({ ok: false, reason: 'invalid' });
    const rows = await t.sql`select detail->>'reason' as reason from security_events where type = 'sign_in_failed' order by id`;
    expect(rows.map((r) => r.reason)).toEqual(['wrong_password', 'unknown_account', 'inactive_account']);
  });

  it("a stranger's wrong passwords slow the stranger down with growing delays, not the owner elsewhere", async () => {
    const email = 'staff@clinic.example';
    const stranger = { ip: '192.0.2.10', userAgent: null };
    for (let i = 0; i < throttlePolicy.perPair; i++) {
      expect(await signInWithPassword(t.db, { email, password: 'guess' }, stranger, at(10))).toMatchObject({ reason: 'invalid' });
    }
    // The stranger waits 30 s, then (after one more failure) 60 s, then 120 s: growing, not a hard lock.
    const seconds = (r: Awaited<ReturnType<typeof signInWithPassword>>) => (!r.ok && r.reason === 'throttled' ? r.retryAfterSeconds : 0);
    expect(seconds(await signInWithPassword(t.db, { email, password: 'guess' }, stranger, at(10)))).toBe(30);
    const t1 = new Date(at(10).getTime() + 31_000);
    expect(await signInWithPassword(t.db, { email, password: 'guess' }, stranger, t1)).toMatchObject({ reason: 'invalid' });
    expect(seconds(await signInWithPassword(t.db, { email, password: password }, stranger, t1))).toBe(60);
    const t2 = new Date(t1.getTime() + 61_000);
    expect(await signInWithPassword(t.db, { email, password: 'guess' }, stranger, t2)).toMatchObject({ reason: 'invalid' });
    expect(seconds(await signInWithPassword(t.db, { email, password: 'guess' }, stranger, t2))).toBe(120);

    // Meanwhile the owner, from their own address, signs in at once.
    expect(await signInWithPassword(t.db, { email, password }, { ip: '198.51.100.20', userAgent: null }, t2)).toMatchObject({ ok: true });
  });

  it('guesses on one account from many addresses refuse new addresses, never the one the owner uses', async () => {
    const email = 'staff@clinic.example';
    const owner = { ip: '198.51.100.30', userAgent: null };
    expect(await signInWithPassword(t.db, { email, password }, owner, at(20))).toMatchObject({ ok: true });
    for (let i = 0; i < throttlePolicy.perAccount; i++) {
      await signInWithPassword(t.db, { email, password: 'guess' }, { ip: `192.0.2.${100 + i}`, userAgent: null }, at(21));
    }
    expect(await signInWithPassword(t.db, { email, password: 'guess' }, { ip: '192.0.2.250', userAgent: null }, at(22))).toMatchObject({ reason: 'throttled' });
    expect(await signInWithPassword(t.db, { email, password }, owner, at(22))).toMatchObject({ ok: true });
  });

  it('parallel guesses from one address on one account cannot slip under the limit', async () => {
    const email = 'parallel@clinic.example';
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => signInWithPassword(t.db, { email, password: `guess-${i}` }, { ip: '192.0.2.77', userAgent: null }, at(50))),
    );
    expect(results.filter((r) => !r.ok && r.reason === 'invalid')).toHaveLength(throttlePolicy.perPair);
    expect(results.filter((r) => !r.ok && r.reason === 'throttled')).toHaveLength(12 - throttlePolicy.perPair);
  });

  it('parallel guesses from one address on many accounts (spraying) cannot slip under the per-address limit', async () => {
    const ip = '203.0.113.60';
    const results = await Promise.all(
      Array.from({ length: throttlePolicy.perIp + 10 }, (_, i) =>
        signInWithPassword(t.db, { email: `sprayed${i}@clinic.example`, password: 'Spring2026!' }, { ip, userAgent: null }, at(60)),
      ),
    );
    expect(results.filter((r) => !r.ok && r.reason === 'invalid')).toHaveLength(throttlePolicy.perIp);
    expect(results.filter((r) => !r.ok && r.reason === 'throttled')).toHaveLength(10);
  });

  it('throttles an IP that tries many accounts', async () => {
    const ip = '203.0.113.50';
    for (let i = 0; i < throttlePolicy.perIp; i++) {
      await signInWithPassword(t.db, { email: `spray${i}@clinic.example`, password: 'guess' }, { ip, userAgent: null }, at(100));
    }
    const refused = await signInWithPassword(t.db, { email: 'staff@clinic.example', password }, { ip, userAgent: null }, at(101));
    expect(refused).toMatchObject({ ok: false, reason: 'throttled' });
    // Until the first of those failures (minute 100) leaves the 15-minute window: minute 115.
    expect(refused.ok === false && refused.reason === 'throttled' && refused.retryAfterSeconds).toBe(14 * 60);
    // Another IP is unaffected.
    expect(await signInWithPassword(t.db, { email: 'staff@clinic.example', password }, { ip: '203.0.113.51', userAgent: null }, at(101))).toMatchObject({ ok: true });
  });

  it('a successful sign-in clears the account’s earlier failures', async () => {
    const ip = '198.51.100.77';
    for (let i = 0; i < throttlePolicy.perPair - 1; i++) {
      await signInWithPassword(t.db, { email: 'staff@clinic.example', password: 'guess' }, { ip, userAgent: null }, at(200));
    }
    expect(await signInWithPassword(t.db, { email: 'staff@clinic.example', password }, { ip, userAgent: null }, at(201))).toMatchObject({ ok: true });
    await signInWithPassword(t.db, { email: 'staff@clinic.example', password: 'guess' }, { ip, userAgent: null }, at(202));
    expect(await signInWithPassword(t.db, { email: 'staff@clinic.example', password }, { ip, userAgent: null }, at(203))).toMatchObject({ ok: true });
  });
});
