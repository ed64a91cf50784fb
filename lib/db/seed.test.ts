import { afterAll, describe, expect, it } from 'vitest';
import { createEventStore, type EventStore } from '../eventstore';
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
    // Medical care is VAT-exempt, the cosmetic procedures taxable (the default).
    const taxes = await t.sql<{ id: string; tax: string }[]>`
      select data->>'treatmentId' as id, data->>'taxCategory' as tax from es_events where type = 'TreatmentListed' order by 1`;
    expect(taxes.filter((r) => r.tax === 'exempt').map((r) => r.id)).toEqual(['gangnam-glow-eczema-care', 'hongdae-bloom-wart-cryo']);
    expect(taxes.every((r) => r.tax === 'exempt' || r.tax === 'taxable')).toBe(true);
  });

  it('an interrupted seed runs again without duplicating anything', async () => {
    // A database of its own, and a store that dies part-way: the second patient's registration is
    // appended, then the "process" fails before the seed goes on (users inserted, some streams written).
    const fresh = await createTestDatabase();
    const freshStore = await createEventStore({ databaseUrl: fresh.url, hmacKey: 'seed-test-hmac-key-0123456789' });
    afterAll(() => freshStore.close());
    const key = Buffer.alloc(32, 7).toString('base64');
    let patientAppends = 0;
    const dying: EventStore = Object.create(freshStore, {
      append: {
        value: async (...args: Parameters<EventStore['append']>) => {
          const written = await freshStore.append(...args);
          if (args[0].startsWith('patient-') && ++patientAppends === 3) throw new Error('killed part-way through the seed');
          return written;
        },
      },
    });
    await expect(seedDemoData(fresh.db, commandDepsFor(fresh.sql, dying, key))).rejects.toThrow('killed part-way');
    const partial = await storedEvents(fresh.sql);
    const patients = demoAccounts.filter((a) => a.patient);
    const expected = demoClinics.reduce((n, c) => n + 1 + c.treatments.length, 0) + 2 * patients.length;
    expect(partial.count).toBeGreaterThan(0);
    expect(partial.count).toBeLessThan(expected);
    expect(await fresh.sql`select name from seed_runs`).toEqual([]);

    expect(await seedDemoData(fresh.db, commandDepsFor(fresh.sql, freshStore, key))).toBe(true);
    expect((await storedEvents(fresh.sql)).count).toBe(expected);
    expect(await fresh.sql`select name from seed_runs`).toHaveLength(1);
    const [{ users }] = (await fresh.sql`select count(*)::int as users from users`) as unknown as [{ users: number }];
    expect(users).toBe(demoAccounts.length);
    for (const account of patients) {
      const [row] = await fresh.sql`select id from users where email = ${account.email}`;
      expect((await freshStore.readStream(`patient-${row!.id}`)).map((e) => e.type), account.email).toEqual(['PatientRegistered', 'ConsentGiven']);
    }
    expect(await seedDemoData(fresh.db, commandDepsFor(fresh.sql, freshStore, key))).toBe(false);
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
