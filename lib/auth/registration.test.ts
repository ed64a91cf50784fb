import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestDatabase } from '../testing/db';
import { EmailAlreadyRegistered, registerPatient, registrationSchema } from './registration';
import { signInWithPassword } from './sign-in';

const origin = { ip: '203.0.113.7', userAgent: 'vitest' };
const valid = { name: '김민지', email: ' Minji@Example.com ', password: 'a-good-password-42', confirmPassword: 'a-good-password-42', consent: 'on' };

describe('registration input', () => {
  it('normalises the e-mail', () => {
    expect(registrationSchema.parse(valid).email).toBe('minji@example.com');
  });

  it('reports every problem at once, each on its field', () => {
    const result = registrationSchema.safeParse({ name: 'x', email: 'nope', password: 'short', confirmPassword: 'other' });
    expect(result.success).toBe(false);
    expect(z.flattenError(result.error!).fieldErrors).toEqual({
      name: ['nameTooShort'],
      email: ['emailInvalid'],
      password: ['passwordTooShort', 'passwordNeedsDigit'],
      confirmPassword: ['passwordsDiffer'],
      consent: ['consentRequired'],
    });
  });
});

describe('registering a patient', async () => {
  const t = await createTestDatabase();

  it('creates an account that can sign in, and records the registration', async () => {
    const user = await registerPatient(t.db, registrationSchema.parse(valid), origin);
    expect(user).toMatchObject({ role: 'patient', clinicId: null, email: 'minji@example.com' });
    const result = await signInWithPassword(t.db, { email: 'MINJI@example.com', password: valid.password }, origin);
    expect(result).toMatchObject({ ok: true, user: { id: user.id, role: 'patient' } });
    const events = await t.sql`select type from security_events where user_id = ${user.id} order by id`;
    expect(events.map((e) => e.type)).toEqual(['registered', 'sign_in']);
  });

  it('refuses an e-mail that already has an account, whatever its case', async () => {
    await expect(registerPatient(t.db, registrationSchema.parse({ ...valid, email: 'MINJI@EXAMPLE.COM' }), origin)).rejects.toBeInstanceOf(EmailAlreadyRegistered);
    const [row] = await t.sql`select count(*)::int as count from users`;
    expect(row?.count).toBe(1);
  });
});
