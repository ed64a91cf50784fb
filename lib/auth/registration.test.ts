import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEventStore } from '../eventstore';
import { commandDepsFor } from '../runtime/command-deps';
import { createTestDatabase, storedEvents } from '../testing/db';
import { birthDateError, EmailAlreadyRegistered, registerPatient, registrationSchema } from './registration';
import { signInWithPassword } from './sign-in';

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
  afterAll(() => store.close());

  it('creates an account that can sign in, a patient record with encrypted personal data, and the consent', async () => {
    const user = await registerPatient(t.db, deps, registrationSchema.parse(valid), origin);
    expect(user).toMatchObject({ role: 'patient', clinicId: null, email: 'minji@example.com' });
    expect(user.position).not.toBeNull();

    const result = await signInWithPassword(t.db, { email: 'MINJI@example.com', password: valid.password }, origin);
    expect(result).toMatchObject({ ok: true, user: { id: user.id, role: 'patient' } });
    const events = await t.sql`select type from security_events where user_id = ${user.id} order by id`;
    expect(events.map((e) => e.type)).toEqual(['registered', 'sign_in']);

    const stream = await store.readStream(`patient-${user.id}`);
    expect(stream.map((e) => e.type)).toEqual(['PatientRegistered', 'ConsentGiven']);
    expect(stream[0]?.metadata).toMatchObject({ actor: { id: user.id, role: 'patient' }, ip: origin.ip, userAgent: origin.userAgent });
    expect(JSON.stringify(stream[0]?.data)).not.toContain('010-1234-5678');
  });

  it('refuses an e-mail that already has an account, whatever its case, and records nothing', async () => {
    const before = await storedEvents(t.sql);
    await expect(registerPatient(t.db, deps, registrationSchema.parse({ ...valid, email: 'MINJI@EXAMPLE.COM' }), origin)).rejects.toBeInstanceOf(EmailAlreadyRegistered);
    const [row] = await t.sql`select count(*)::int as count from users`;
    expect(row?.count).toBe(1);
    expect(await storedEvents(t.sql)).toEqual(before);
  });
});
