import { afterAll, describe, expect, it } from 'vitest';
import { createEventStore } from '../eventstore';
import { commandDepsFor } from '../runtime/command-deps';
import { createTestDatabase, storedEvents } from '../testing/db';
import { demoAccounts, demoClinics } from './demo-data';
import { seedDemoData } from './seed';

describe('demo data', async () => {
  const t = await createTestDatabase();
  const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'seed-test-hmac-key-0123456789' });
  const deps = commandDepsFor(t.sql, store, Buffer.alloc(32, 7).toString('base64'));
  afterAll(() => store.close());

  it('is seeded once through the clinic and patient commands; a second start adds nothing', async () => {
    expect(await seedDemoData(t.db, deps)).toBe(true);
    const afterFirst = await storedEvents(t.sql);
    expect(await seedDemoData(t.db, deps)).toBe(false);
    expect(await storedEvents(t.sql)).toEqual(afterFirst);

    const [counts] = await t.sql`select count(*)::int as users from users`;
    expect(counts).toEqual({ users: demoAccounts.length });
    for (const clinic of demoClinics) {
      const stream = await store.readStream(`clinic-${clinic.id}`);
      expect(stream.map((e) => e.type)).toEqual(['ClinicRegistered', ...clinic.treatments.map(() => 'TreatmentListed')]);
    }
  });

  it('an interrupted seed runs again without duplicating anything', async () => {
    await t.sql`delete from seed_runs`;
    const before = await storedEvents(t.sql);
    expect(await seedDemoData(t.db, deps)).toBe(true);
    expect(await storedEvents(t.sql)).toEqual(before);
  });

  it('keeps patients’ personal data encrypted in their events', async () => {
    const minji = demoAccounts.find((a) => a.email === 'minji@yeyak.example')!;
    const [row] = await t.sql`select id from users where email = ${minji.email}`;
    const [registered] = await store.readStream(`patient-${row!.id}`);
    expect(registered?.type).toBe('PatientRegistered');
    expect(JSON.stringify(registered?.data)).not.toContain(minji.patient!.phone);
    expect((registered?.data as { personal: { kind: string } }).personal.kind).toBe('encrypted');
  });

  it('gives every staff account a clinic, and no one else one', async () => {
    const rows = await t.sql`select role, clinic_id from users`;
    for (const row of rows) expect(row.clinic_id !== null).toBe(row.role === 'staff');
  });
});
