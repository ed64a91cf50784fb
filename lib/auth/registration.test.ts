import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEventStore } from '../eventstore';
import { commandDepsFor } from '../runtime/command-deps';
import { createTestDatabase, storedEvents } from '../testing/db';
import { unsentEmailTo } from './outbox';
import { birthDateError, registrationSchema, registrationThrottle, requestRegistration, verificationHours, verifyEmail } from './registration';
import { signInWithPassword } from './sign-in';
import { readOrigin } from '../privacy/origin';

// The security log's pseudonyms (lib/privacy/pseudonym.ts) are keyed by the master key, as in every deployment.
process.env.PERSONAL_DATA_MASTER_KEY ??= Buffer.alloc(32, 7).toString('base64');

const origin = { ip: '203.0.113.7', userAgent: 'vitest' };
const valid = {
  name: '김민지',
  email: ' Minji@Example.com ',
  password: 'a-good-password-42',
  confirmPassword: 'a-good-password-42',
  phone: '01012345678',
  birthDate: '1994-03-12',
  consent: 'on',
};

describe('registration input', () => {
  it('normalises the e-mail and the phone number', () => {
    const parsed = registrationSchema.parse(valid);
    expect(parsed.email).toBe('minji@example.com');
    expect(parsed.phone).toBe('010-1234-5678');
  });

  it('reports every problem at once, each on its field', () => {
    const result = registrationSchema.safeParse({ name: 'x', email: 'nope', password: 'short', confirmPassword: 'other', phone: '12345', birthDate: '1994-13-40' });
    expect(result.success).toBe(false);
    expect(z.flattenError(result.error!).fieldErrors).toEqual({
      name: ['nameTooShort'],
      email: ['emailInvalid'],
      password: ['passwordTooShort', 'passwordNeedsDigit'],
      confirmPassword: ['passwordsDiffer'],
      phone: ['phoneInvalid'],
      birthDate: ['birthDateInvalid'],
      consent: ['consentRequired'],
    });
  });

  it('refuses birth dates in the future and children under 14', () => {
    const today = new Date('2026-11-25T12:00:00+09:00');
    expect(birthDateError('2027-01-01', today)).toBe('birthDateInFuture');
    expect(birthDateError('2012-11-26', today)).toBe('birthDateUnderMinimumAge');
    expect(birthDateError('2012-11-25', today)).toBeNull();
  });
});

describe('registering a patient', async () => {
  const t = await createTestDatabase();
  const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'registration-test-hmac-key' });
  const deps = commandDepsFor(t.sql, store, Buffer.alloc(32, 3).toString('base64'));
  const baseUrl = 'https://yeyak.example';
  afterAll(() => store.close());
  let n = 0;
  const fresh = () => ({ ip: `203.0.113.${++n}`, userAgent: 'vitest' });
  const register = (input: typeof valid, from = fresh()) => requestRegistration(t.db, deps, registrationSchema.parse(input), from, { baseUrl });
  const verifyLinkFor = async (email: string) => {
    const mail = (await unsentEmailTo(t.db, email)).filter((m) => m.template === 'verify-email');
    return mail.at(-1)?.payload.verifyUrl;
  };

  it('creates an unverified account, the patient record with encrypted personal data and the consent, and e-mails a link', async () => {
    expect(await register(valid, origin)).toEqual({ status: 'sent' });
    const [user] = await t.sql`select id, email, email_verified_at from users where email = 'minji@example.com'`;
    expect(user?.email_verified_at).toBeNull();
    const stream = await store.readStream(`patient-${user!.id}`);
    expect(stream.map((e) => e.type)).toEqual(['PatientRegistered', 'ConsentGiven']);
    // The patient's IP and user agent are sealed under their key (lib/privacy/origin.ts), not in plaintext.
    expect(stream[0]?.metadata).toMatchObject({ actor: { id: user!.id, role: 'patient' }, ip: null, userAgent: null });
    expect(await readOrigin(deps.privacy, stream[0]!.metadata)).toMatchObject({ status: 'available', ip: origin.ip, userAgent: origin.userAgent });
    expect(JSON.stringify(stream[0]?.data)).not.toContain('010-1234-5678');

    // Until the link is opened the account cannot sign in, even with the right password.
    expect(await signInWithPassword(t.db, { email: 'minji@example.com', password: valid.password }, origin)).toEqual({ ok: false, reason: 'unverified' });
    const link = await verifyLinkFor('minji@example.com');
    expect(link).toMatch(/^https:\/\/yeyak\.example\/register\/verify\?token=[A-Za-z0-9_-]{43}$/);
    const token = new URL(link!).searchParams.get('token')!;
    expect(await verifyEmail(t.db, token, origin)).toBe(true);
    expect(await verifyEmail(t.db, token, origin)).toBe(false); // once only
    const result = await signInWithPassword(t.db, { email: 'MINJI@example.com', password: valid.password }, origin);
    expect(result).toMatchObject({ ok: true, user: { id: user!.id, role: 'patient' } });
    const events = await t.sql`select type from security_events where user_id = ${user!.id} order by id`;
    expect(events.map((e) => e.type)).toEqual(['registration_requested', 'registered', 'sign_in_failed', 'email_verified', 'sign_in']);
  });

  it('answers a taken e-mail exactly as a new one, creates nothing, and tells only the mailbox', async () => {
    const before = await storedEvents(t.sql);
    const answerTaken = await register({ ...valid, name: '다른 사람', email: 'MINJI@EXAMPLE.COM' });
    const answerNew = await register({ ...valid, email: 'someone-new@example.com' });
    expect(answerTaken).toEqual(answerNew);
    const [row] = await t.sql`select count(*)::int as count from users where lower(email) = 'minji@example.com'`;
    expect(row?.count).toBe(1);
    const mail = await unsentEmailTo(t.db, 'minji@example.com');
    expect(mail.map((m) => m.template)).toEqual(['verify-email', 'already-registered']);
    expect(mail[1]?.payload).toEqual({ signInUrl: 'https://yeyak.example/signin' });
    // Only the new address's patient was recorded.
    expect((await storedEvents(t.sql)).count - before.count).toBe(2);
  });

  it('an expired or unknown link does nothing', async () => {
    await register({ ...valid, email: 'late@example.com' });
    const token = new URL((await verifyLinkFor('late@example.com'))!).searchParams.get('token')!;
    expect(await verifyEmail(t.db, token, origin, new Date(Date.now() + (verificationHours + 1) * 3_600_000))).toBe(false);
    expect(await verifyEmail(t.db, 'x'.repeat(43), origin)).toBe(false);
    const [user] = await t.sql`select email_verified_at from users where email = 'late@example.com'`;
    expect(user?.email_verified_at).toBeNull();
  });

  it('is throttled per address, also for requests arriving at once, and answers the same for taken and new e-mails', async () => {
    const from = { ip: '198.51.100.200', userAgent: 'vitest' };
    const answers = await Promise.all(
      Array.from({ length: registrationThrottle.perIp + 3 }, (_, i) => register({ ...valid, email: i % 2 ? 'minji@example.com' : `burst${i}@example.com` }, from)),
    );
    expect(answers.filter((a) => a.status === 'sent')).toHaveLength(registrationThrottle.perIp);
    expect(answers.filter((a) => a.status === 'throttled')).toHaveLength(3);
    // Another address is not affected.
    expect(await register({ ...valid, email: 'elsewhere@example.com' })).toEqual({ status: 'sent' });
  });
});
