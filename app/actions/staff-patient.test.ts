/**
 * Staff's view of a patient and "show contact", called directly (no proxy), against a real database
 * with real commands and the real projection worker: the clinic's staff see the patient's
 * reservations and, on demand, the contact, and each read is in the access log (account, IP, patient,
 * action) before it is returned; staff of another clinic get 403, with no entry and no data; a
 * patient who is not the clinic's is a 404. The admin's account list and the visit board's names are
 * recorded too.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bookReservation, commandMetadata, recordArrival, registerPatient, type CommandDeps } from '@/lib/commands';
import { manualClock, patientActor, patientMeta, registerTestClinic, staffMeta } from '@/lib/commands/testing';
import { users, type Role } from '@/lib/db/schema';
import { monday } from '@/lib/domain/clinic/fixtures';
import { createEventStore, type EventStore } from '@/lib/eventstore';
import { createPersonalDataVault } from '@/lib/privacy/vault';
import { allProjections } from '@/lib/projections/registry';
import { waitForProjections } from '@/lib/projections/wait';
import { ProjectionWorker } from '@/lib/projections/worker';
import { createTestDatabase } from '@/lib/testing/db';
import { outcome, signInAs, useTestEnvironment, type TestAccount } from '@/lib/testing/next-request';

// The test request comes from a known client address (scripts/web-server.ts sets X-Forwarded-For to it).
vi.mock('next/headers', async () => {
  const m = await import('@/lib/testing/next-request');
  return { ...m, headers: async () => new Headers([...(await m.headers()).entries(), ['x-forwarded-for', '203.0.113.7']]) };
});
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const CLINIC = `sp-${randomUUID().slice(0, 6)}`;
const OTHER = `${CLINIC}-other`;
const account = (role: Role, clinicId: string | null = null): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@staff-patient.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId };
};
const accounts = { staff: account('staff', CLINIC), otherStaff: account('staff', OTHER), admin: account('admin'), patient: account('patient') };
const patientId = accounts.patient.id;
const stranger = `p-${randomBytes(4).toString('hex')}`; // a patient with a reservation at OTHER only
const person = { name: '한지민 Han Jimin', phone: '010-2468-1357', email: 'jimin.han@example.com', birthDate: '1990-04-02' };
const visitId = `v-${randomBytes(4).toString('hex')}`;

let store: EventStore;
let worker: ProjectionWorker;

beforeAll(async () => {
  await t.db.insert(users).values(Object.values(accounts).map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY! });
  const masterKey = process.env.PERSONAL_DATA_MASTER_KEY!;
  const deps: CommandDeps = { store, clock: manualClock('2025-03-02T00:00:00Z'), privacy: createPersonalDataVault(t.sql, masterKey) };
  worker = new ProjectionWorker({ store, database: t, projections: allProjections, log: pino({ level: 'silent' }), decryptor: createPersonalDataVault(t.sql, masterKey), statusIntervalMs: 200 });
  await worker.start();
  await registerTestClinic(deps, CLINIC);
  await registerTestClinic(deps, OTHER);
  await registerPatient(deps, { patientId, ...person, locale: 'ko' }, patientMeta(patientId));
  await registerPatient(deps, { patientId: stranger, name: '남궁 Stranger', phone: '010-0000-1111', email: 'stranger@example.com', birthDate: '1980-01-01', locale: 'ko' }, patientMeta(stranger));
  const book = (pid: string, clinicId: string) =>
    bookReservation(deps, { reservationId: `r-${randomBytes(5).toString('hex')}`, clinicId, patientId: pid, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('11:00') }, commandMetadata({ actor: patientActor(pid), clinicId }));
  await book(patientId, CLINIC);
  await book(stranger, OTHER);
  const { position } = await recordArrival(deps, { visitId, clinicId: CLINIC, patientId, staffId: accounts.staff.id }, staffMeta(CLINIC, accounts.staff.id));
  expect(await waitForProjections(position!, { sql: t.sql, timeoutMs: 30_000 })).toBe('caught-up');
});
afterAll(async () => {
  await worker?.stop();
  await store?.close();
});

const entries = () => t.sql`select account_id, role, clinic_id, ip, user_agent, action, resource, patient_ids, reason from access_log order by id`;
const form = (fields: Record<string, string>) => {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.set(k, v);
  return data;
};
const reveal = async (clinicId: string, pid: string) => (await import('./staff-patient')).revealContactAction({}, form({ clinicId, patientId: pid }));

describe('show contact', () => {
  it('the clinic’s staff get the phone and e-mail, and the read is in the access log with account, IP, patient and action', async () => {
    await signInAs(accounts.staff);
    const before = (await entries()).length;
    const state = await reveal(CLINIC, patientId);
    expect(state).toEqual({ ok: 'access.contactShown', values: { phone: person.phone, email: person.email } });
    const after = await entries();
    expect(after.slice(before)).toEqual([
      { account_id: accounts.staff.id, role: 'staff', clinic_id: CLINIC, ip: '203.0.113.7', user_agent: 'vitest', action: 'view', resource: 'patient-contact', patient_ids: [patientId], reason: null },
    ]);
  });

  it('when the entry cannot be recorded, the contact is not returned', async () => {
    await signInAs(accounts.staff);
    // A database that refuses the insert (this test database only): the read must fail closed.
    await t.sql.unsafe(`create function refuse_access_log() returns trigger language plpgsql as $$ begin raise exception 'refused for the test'; end $$;
      create trigger refuse_access_log before insert on access_log for each row execute function refuse_access_log();`);
    try {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const state = await reveal(CLINIC, patientId);
      errors.mockRestore();
      expect(state.formError).toBe('errors.unexpected');
      expect(JSON.stringify(state)).not.toContain(person.phone);
      expect(JSON.stringify(state)).not.toContain(person.email);
    } finally {
      await t.sql.unsafe('drop trigger refuse_access_log on access_log; drop function refuse_access_log();');
    }
  });

  it('staff of another clinic get 403, no entry and no data (also for a patient of their own clinic posted with the other clinic id)', async () => {
    await signInAs(accounts.otherStaff);
    const before = await entries();
    expect(await outcome(() => reveal(CLINIC, patientId))).toBe('forbidden');
    expect(await entries()).toEqual(before);
  });

  it('a patient who is not the clinic’s is a 404 for its staff, with no entry', async () => {
    await signInAs(accounts.staff);
    const before = await entries();
    expect(await outcome(() => reveal(CLINIC, stranger))).toBe('not-found');
    expect(await entries()).toEqual(before);
  });

  it('patients and admins get 403', async () => {
    const before = await entries();
    for (const who of [accounts.patient, accounts.admin]) {
      await signInAs(who);
      expect(await outcome(() => reveal(CLINIC, patientId))).toBe('forbidden');
    }
    expect(await entries()).toEqual(before);
  });
});

describe("staff's view of a patient", () => {
  const page = async (clinicId: string, pid: string) => (await import('../staff/[clinicId]/patients/[patientId]/page')).default({ params: Promise.resolve({ clinicId, patientId: pid }) });

  it('shows the reservations and visits at this clinic only, records the name it shows, and never the contact', async () => {
    await signInAs(accounts.staff);
    const { staffPatient } = await import('@/lib/queries/staff-patient');
    const before = (await entries()).length;
    const view = await staffPatient(CLINIC, patientId);
    expect(view).toMatchObject({ patientId, name: person.name, erased: false, visits: [{ id: visitId, stage: 'arrived' }] });
    expect(view.reservations).toHaveLength(1);
    expect(JSON.stringify(view)).not.toContain(person.phone);
    expect(JSON.stringify(view)).not.toContain(person.email);
    expect((await entries()).slice(before)).toMatchObject([{ account_id: accounts.staff.id, action: 'view', resource: 'patient-name', patient_ids: [patientId] }]);
    expect(await outcome(() => page(CLINIC, patientId))).toBe('allowed');
  });

  it('404 for a patient with no reservation or visit at the clinic; 403 for other clinics’ staff, patients and admins', async () => {
    await signInAs(accounts.staff);
    expect(await outcome(() => page(CLINIC, stranger))).toBe('not-found');
    for (const who of [accounts.otherStaff, accounts.patient, accounts.admin]) {
      await signInAs(who);
      expect(await outcome(() => page(CLINIC, patientId))).toBe('forbidden');
    }
  });
});

describe('other reads of personal data', () => {
  it("the admin's account list records one 'view' of `account-list`", async () => {
    await signInAs(accounts.admin);
    const { listAccounts } = await import('@/lib/queries/admin');
    const before = (await entries()).length;
    const list = await listAccounts();
    expect(list.length).toBeGreaterThanOrEqual(4);
    expect((await entries()).slice(before)).toEqual([
      { account_id: accounts.admin.id, role: 'admin', clinic_id: null, ip: '203.0.113.7', user_agent: 'vitest', action: 'view', resource: 'account-list', patient_ids: [], reason: null },
    ]);
  });

  it("the visit board records one entry per render naming the patients whose names it shows", async () => {
    await signInAs(accounts.staff);
    const { visitBoard } = await import('@/lib/queries/board');
    const board = await visitBoard(CLINIC, '2025-03-02');
    const before = (await entries()).length;
    expect(board.columns.flatMap((c) => c.cards).map((c) => c.patientName)).toContain(person.name);
    await visitBoard(CLINIC, '2025-03-02');
    expect((await entries()).slice(before)).toMatchObject([{ account_id: accounts.staff.id, clinic_id: CLINIC, action: 'view', resource: 'visit-board-names', patient_ids: [patientId] }]);
  });

  it("the desk's ledger records one entry per render naming the patients whose names it shows (its no-show list here)", async () => {
    await signInAs(accounts.staff);
    const { deskLedger } = await import('@/lib/queries/ledger');
    const before = (await entries()).length;
    const desk = await deskLedger(CLINIC, '2025-03-03');
    expect(desk?.ledger.noShows.map((n) => n.patientName)).toContain(person.name);
    expect((await entries()).slice(before)).toMatchObject([{ account_id: accounts.staff.id, clinic_id: CLINIC, action: 'view', resource: 'patient-name', patient_ids: [patientId] }]);
  });
});
