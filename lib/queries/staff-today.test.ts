/**
 * Today (`staffToday`) and the access log, against a real database with real commands and the real
 * projection worker: each render that shows patients' decrypted names (requests and arrivals) records
 * one `patient-name` entry naming those patients, before the data is returned; staff of another clinic
 * get 403 and nothing is recorded; a day without patients records nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bookReservation, registerPatient, type CommandDeps } from '@/lib/commands';
import { manualClock, patientMeta, registerTestClinic } from '@/lib/commands/testing';
import { users, type Role } from '@/lib/db/schema';
import { monday } from '@/lib/domain/clinic/fixtures';
import { createEventStore, type EventStore } from '@/lib/eventstore';
import { createPersonalDataVault } from '@/lib/privacy/vault';
import { allProjections } from '@/lib/projections/registry';
import { waitForProjections } from '@/lib/projections/wait';
import { ProjectionWorker } from '@/lib/projections/worker';
import { createTestDatabase } from '@/lib/testing/db';
import { outcome, signInAs, useTestEnvironment, type TestAccount } from '@/lib/testing/next-request';

vi.mock('next/headers', async () => {
  const m = await import('@/lib/testing/next-request');
  return { ...m, headers: async () => new Headers([...(await m.headers()).entries(), ['x-forwarded-for', '203.0.113.9']]) };
});
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const CLINIC = `st-${randomUUID().slice(0, 6)}`;
const OTHER = `${CLINIC}-other`;
const account = (role: Role, clinicId: string | null = null): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@staff-today.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId };
};
const staff = account('staff', CLINIC);
const otherStaff = account('staff', OTHER);
const alice = `p-${randomBytes(4).toString('hex')}`; // a request waiting for the clinic
const bob = `p-${randomBytes(4).toString('hex')}`; // an instant booking: an arrival on Monday
/** Sunday 2025-03-02 09:05 Seoul: the day before Monday's bookings. */
const now = new Date('2025-03-02T00:05:00Z');

let store: EventStore;
let worker: ProjectionWorker;

beforeAll(async () => {
  await t.db.insert(users).values([staff, otherStaff].map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY! });
  const masterKey = process.env.PERSONAL_DATA_MASTER_KEY!;
  const deps: CommandDeps = { store, clock: manualClock('2025-03-02T00:00:00Z'), privacy: createPersonalDataVault(t.sql, masterKey) };
  worker = new ProjectionWorker({ store, database: t, projections: allProjections, log: pino({ level: 'silent' }), decryptor: createPersonalDataVault(t.sql, masterKey), statusIntervalMs: 200 });
  await worker.start();
  await registerTestClinic(deps, CLINIC);
  await registerTestClinic(deps, OTHER);
  await registerPatient(deps, { patientId: alice, name: '김앨리스', phone: '010-1111-2222', email: `${alice}@example.com`, birthDate: '1991-01-01', locale: 'ko' }, patientMeta(alice));
  await registerPatient(deps, { patientId: bob, name: 'Bob Lee', phone: '010-3333-4444', email: `${bob}@example.com`, birthDate: '1985-05-05', locale: 'en' }, patientMeta(bob));
  const book = (pid: string, treatmentId: string, time: string) =>
    bookReservation(deps, { reservationId: `r-${randomBytes(5).toString('hex')}`, clinicId: CLINIC, patientId: pid, treatmentId, kind: 'consult-first', startsAt: monday(time) }, patientMeta(pid, CLINIC));
  await book(alice, 'tx-ulthera', '11:00'); // clinic-confirm: requested
  const last = await book(bob, 'tx-consult', '15:00'); // instant: confirmed
  expect(await waitForProjections(last.position!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');
});
afterAll(async () => {
  await worker?.stop();
  await store?.close();
});

const entries = () => t.sql`select account_id, role, clinic_id, ip, action, resource, patient_ids, detail from access_log order by id`;
const today = async (clinicId: string, day: string) => (await import('./staff')).staffToday(clinicId, day, now);

describe('Today and the access log', () => {
  it('records one patient-name entry per render naming the patients of the requests and arrivals it shows', async () => {
    await signInAs(staff);
    const before = (await entries()).length;
    const data = await today(CLINIC, '2025-03-03');
    expect(data!.desk.requests.map((r) => [r.patientId, r.patientName])).toEqual([[alice, '김앨리스']]);
    expect(data!.desk.arrivals.map((r) => [r.patientId, r.patientName])).toEqual([[bob, 'Bob Lee']]);
    await today(CLINIC, '2025-03-03');
    const added = (await entries()).slice(before);
    expect(added).toHaveLength(2);
    for (const entry of added) {
      expect(entry).toMatchObject({ account_id: staff.id, role: 'staff', clinic_id: CLINIC, ip: '203.0.113.9', action: 'view', resource: 'patient-name', detail: { page: 'today', day: '2025-03-03' } });
      expect([...entry.patient_ids].sort()).toEqual([alice, bob].sort());
    }
  });

  it('a day whose page names nobody records nothing; staff of another clinic get 403 and nothing is recorded', async () => {
    const before = await entries();
    // The other clinic's own day names nobody (this clinic's requests list, from today on, always names Alice).
    await signInAs(otherStaff);
    const empty = await today(OTHER, '2025-03-04');
    expect([...empty!.desk.requests, ...empty!.desk.arrivals]).toEqual([]);
    expect(await outcome(() => today(CLINIC, '2025-03-03'))).toBe('forbidden');
    expect(await entries()).toEqual(before);
  });
});
