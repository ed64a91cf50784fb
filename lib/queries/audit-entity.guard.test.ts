/**
 * The audit entity page and its query authorise on the server, whoever calls them: auditors (every
 * clinic) and clinic managers (their own clinic's streams only; another clinic's and a patient's own
 * stream are 403); admins, plain staff of the very clinic and patients get 403, anonymous callers go
 * to sign-in. Opening a stream that names a patient is recorded in the access log. Real Auth.js session cookie and accounts in a real database
 * (lib/testing/next-request.ts supplies only the request scope), the real event store.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bookReservation } from '../commands';
import { patientMeta, registerTestClinic } from '../commands/testing';
import { atLocal, clinicDay, plusMinutes } from '../domain';
import { users, type Role } from '../db/schema';
import { createEventStore } from '../eventstore';
import { createTestDatabase } from '../testing/db';
import { outcome, signInAs as signIn, useTestEnvironment, type Outcome, type TestAccount } from '../testing/next-request';

vi.mock('next/headers', () => import('../testing/next-request'));
vi.mock('next/cache', () => import('../testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('../testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const CLINIC = `guard-audit-${randomUUID().slice(0, 8)}`;
const OTHER_CLINIC = `${CLINIC}-other`;
const account = (role: Role, clinicId: string | null = null, clinicManager = false): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@audit-guard.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId, clinicManager };
};
const accounts = {
  admin: account('admin'),
  auditor: account('auditor'),
  staff: account('staff', CLINIC),
  manager: account('staff', CLINIC, true),
  otherManager: account('staff', OTHER_CLINIC, true),
  patient: account('patient'),
};
type Who = keyof typeof accounts | 'anonymous';
const everyone: Who[] = ['anonymous', 'admin', 'auditor', 'staff', 'manager', 'otherManager', 'patient'];
const reservationId = `r-${randomUUID().slice(0, 8)}`;
const signInAs = (who: Who) => signIn(who === 'anonymous' ? null : accounts[who]);

const { auditEntity } = await import('./audit-entity');
const page = async () => (await import('../../app/audit/[stream]/page')).default;
const props = (stream: string) => ({ params: Promise.resolve({ stream }), searchParams: Promise.resolve({}) });

beforeAll(async () => {
  await t.db.insert(users).values(Object.values(accounts).map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  const store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY! });
  try {
    await registerTestClinic({ store }, CLINIC);
    await registerTestClinic({ store }, OTHER_CLINIC, { treatments: [] });
    // A weekday a week or more ahead (the test clinic opens Mon–Fri).
    let day = clinicDay(plusMinutes(new Date(), 8 * 24 * 60));
    while ([0, 6].includes(new Date(`${day}T12:00:00+09:00`).getUTCDay())) day = clinicDay(plusMinutes(new Date(`${day}T12:00:00+09:00`), 24 * 60));
    const patientId = accounts.patient.id;
    await bookReservation({ store }, { reservationId, clinicId: CLINIC, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: atLocal(day, '11:00').toISOString() }, patientMeta(patientId, CLINIC));
  } finally {
    await store.close();
  }
});
afterAll(async () => {
  const { appEventStore } = await import('../runtime/event-store');
  await (await appEventStore()).close();
});

async function seenBy(call: () => Promise<unknown>): Promise<Record<Who, Outcome>> {
  const seen = {} as Record<Who, Outcome>;
  for (const who of everyone) {
    await signInAs(who);
    seen[who] = await outcome(call);
  }
  return seen;
}
const refused = { anonymous: 'sign-in', admin: 'forbidden', staff: 'forbidden', patient: 'forbidden' } as const;
/** What each caller sees: the auditor `auditor`, the clinic's manager `manager`, the other clinic's manager `otherManager`. */
const expected = (auditor: Outcome, manager: Outcome, otherManager: Outcome) => ({ ...refused, auditor, manager, otherManager });
const accessEntries = (accountId: string) =>
  t.sql`select role, clinic_id, action, resource, patient_ids, detail from access_log where account_id = ${accountId} and resource = 'audit-entity' order by id`;

describe('/audit/<stream>: auditors, and clinic managers for their clinic, on the server', () => {
  it("the query: an auditor reads any stream, a manager their clinic's only (plain staff of that very clinic do not)", async () => {
    expect(await seenBy(() => auditEntity(`clinic-${CLINIC}`, null))).toEqual(expected('allowed', 'allowed', 'forbidden'));
    expect(await seenBy(() => auditEntity(`reservation-${reservationId}`, null))).toEqual(expected('allowed', 'allowed', 'forbidden'));
    // A patient's own stream belongs to no clinic: no manager's, refused before it is read (the auditor's answer: none here).
    expect(await seenBy(() => auditEntity(`patient-${accounts.patient.id}`, null))).toEqual(expected('allowed', 'forbidden', 'forbidden'));
    await signInAs('auditor');
    const h = await auditEntity(`clinic-${CLINIC}`, null);
    expect(h?.events[0]?.type).toBe('ClinicRegistered');
  });

  it('records opening a stream that names a patient in the access log (and not one that names none)', async () => {
    await signInAs('auditor');
    const before = (await accessEntries(accounts.auditor.id)).length;
    await auditEntity(`clinic-${CLINIC}`, null);
    expect(await accessEntries(accounts.auditor.id)).toHaveLength(before);
    await auditEntity(`reservation-${reservationId}`, null);
    expect((await accessEntries(accounts.auditor.id)).at(-1)).toEqual({
      role: 'auditor',
      clinic_id: CLINIC,
      action: 'view',
      resource: 'audit-entity',
      patient_ids: [accounts.patient.id],
      detail: { stream: `reservation-${reservationId}` },
    });
    await signInAs('manager');
    await auditEntity(`reservation-${reservationId}`, null);
    expect((await accessEntries(accounts.manager.id)).at(-1)).toMatchObject({ role: 'staff', clinic_id: CLINIC, patient_ids: [accounts.patient.id] });
    // Refused callers read nothing, so nothing is recorded for them.
    expect(await accessEntries(accounts.otherManager.id)).toEqual([]);
    expect(await accessEntries(accounts.staff.id)).toEqual([]);
  });

  it('the page: the same, and refused before it tells whether a stream exists', async () => {
    expect(await seenBy(async () => (await page())(props(`clinic-${CLINIC}`)))).toEqual(expected('allowed', 'allowed', 'forbidden'));
    expect(await seenBy(async () => (await page())(props(`clinic-${OTHER_CLINIC}`)))).toEqual(expected('allowed', 'forbidden', 'allowed'));
    expect(await seenBy(async () => (await page())(props('reservation-no-such-id')))).toEqual(expected('not-found', 'not-found', 'not-found'));
    expect(await seenBy(async () => (await page())(props('not-a-stream')))).toEqual(expected('not-found', 'not-found', 'not-found'));
  });
});
