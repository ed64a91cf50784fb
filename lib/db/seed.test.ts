import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../testing/db';
import { demoAccounts, demoClinics } from './demo-data';
import { seedDemoData } from './seed';

describe('demo data', async () => {
  const t = await createTestDatabase();

  it('is seeded once: a second start finds it and adds nothing', async () => {
    expect(await seedDemoData(t.db)).toBe(true);
    expect(await seedDemoData(t.db)).toBe(false);
    const [{ users }] = await t.sql`select count(*)::int as users from users`;
    const [{ clinics }] = await t.sql`select count(*)::int as clinics from clinics`;
    expect(users).toBe(demoAccounts.length);
    expect(clinics).toBe(demoClinics.length);
  });

  it('gives every staff account a clinic, and no one else one', async () => {
    const rows = await t.sql`select role, clinic_id from users`;
    for (const row of rows) expect(row.clinic_id !== null).toBe(row.role === 'staff');
  });
});
