import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../testing/db';
import { demoAccounts, demoClinics } from './demo-data';
import { seedDemoData } from './seed';

describe('demo data', async () => {
  const t = await createTestDatabase();

  it('is seeded once: a second start finds it and adds nothing', async () => {
    expect(await seedDemoData(t.db)).toBe(true);
    expect(await seedDemoData(t.db)).toBe(false);
    const [counts] = await t.sql`select (select count(*)::int from users) as users, (select count(*)::int from clinics) as clinics`;
    expect(counts).toEqual({ users: demoAccounts.length, clinics: demoClinics.length });
  });

  it('gives every staff account a clinic, and no one else one', async () => {
    const rows = await t.sql`select role, clinic_id from users`;
    for (const row of rows) expect(row.clinic_id !== null).toBe(row.role === 'staff');
  });
});
