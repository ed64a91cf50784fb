/**
 * /audit/access's query in a real database with real Auth.js sessions: who may read the access log
 * (auditors every clinic, a clinic manager their clinic only — a filter cannot widen it; plain staff,
 * admins and patients 403), the filters, keyset pages newest first, and the reader's own read
 * recorded in the log. Also the monthly review's page (auditors only) reading the same log.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { users, type Role } from '../db/schema';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { createTestDatabase } from '../testing/db';
import { outcome, signInAs as signIn, useTestEnvironment, type TestAccount } from '../testing/next-request';

vi.mock('next/headers', () => import('../testing/next-request'));
vi.mock('next/cache', () => import('../testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('../testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const CLINIC = `al-${randomUUID().slice(0, 6)}`;
const OTHER = `${CLINIC}-other`;
const account = (role: Role, clinicId: string | null = null, clinicManager = false): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@access-log.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId, clinicManager };
};
const accounts = {
  auditor: account('auditor'),
  manager: account('staff', CLINIC, true),
  nurse: account('staff', CLINIC),
  otherNurse: account('staff', OTHER),
  admin: account('admin'),
  patient: account('patient'),
};
type Who = keyof typeof accounts | 'anonymous';
const as = (who: Who) => signIn(who === 'anonymous' ? null : accounts[who]);
const origin = { ip: '198.51.100.4', userAgent: 'vitest access log' };

const { accessLogPage } = await import('./access-log');
const { accessReviewPage } = await import('./access-review');
const ownReads = (accountId: string, resource: string) => t.sql`select clinic_id, patient_ids, detail from access_log where account_id = ${accountId} and resource = ${resource} order by id`;

beforeAll(async () => {
  await t.db.insert(users).values(Object.values(accounts).map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  // 30 reads at the clinic (3 contact reveals of p-a), 5 at the other clinic, one export by the auditor.
  for (let i = 0; i < 30; i++) await recordPersonalDataAccess({ user: accounts.nurse, action: 'view', resource: i < 3 ? 'patient-contact' : 'patient-name', patientIds: [i < 3 ? 'p-a' : `p-${i}`], origin }, t.db);
  for (let i = 0; i < 5; i++) await recordPersonalDataAccess({ user: accounts.otherNurse, action: 'view', resource: 'patient-contact', patientIds: ['p-other'], origin }, t.db);
  await recordPersonalDataAccess({ user: accounts.auditor, action: 'export', resource: 'audit-trail', reason: 'external audit', origin }, t.db);
});

describe('the access log for its readers', () => {
  it('lets auditors and clinic managers in, and refuses everyone else on the server', async () => {
    const seen: Record<string, string> = {};
    for (const who of ['anonymous', 'auditor', 'manager', 'nurse', 'otherNurse', 'admin', 'patient'] as const) {
      await as(who);
      seen[who] = await outcome(() => accessLogPage({}, null));
    }
    expect(seen).toEqual({ anonymous: 'sign-in', auditor: 'allowed', manager: 'allowed', nurse: 'forbidden', otherNurse: 'forbidden', admin: 'forbidden', patient: 'forbidden' });
  });

  it("keeps a manager to their clinic's entries, whatever the clinic filter says", async () => {
    await as('manager');
    const own = await accessLogPage({ action: 'view' }, null);
    expect(own.scope).toEqual({ clinicId: CLINIC });
    expect(new Set(own.rows.map((r) => r.clinicId))).toEqual(new Set([CLINIC]));
    const widened = await accessLogPage({ clinic: OTHER }, null);
    expect(widened.rows.length).toBeGreaterThan(0);
    expect(widened.rows.every((r) => r.clinicId === CLINIC)).toBe(true);
    // The auditor's export (no clinic) is not the clinic's either.
    expect((await accessLogPage({ action: 'export' }, null)).rows).toEqual([]);
  });

  it('filters by clinic, account (id or e-mail), patient and action for an auditor, with account names', async () => {
    await as('auditor');
    const other = await accessLogPage({ clinic: OTHER }, null);
    expect(other.rows).toHaveLength(5);
    expect(other.rows[0]).toMatchObject({ accountId: accounts.otherNurse.id, accountName: accounts.otherNurse.name, accountEmail: accounts.otherNurse.email, role: 'staff', ip: origin.ip, patientIds: ['p-other'] });
    expect((await accessLogPage({ account: accounts.otherNurse.email.toUpperCase() }, null)).rows.map((r) => r.accountId)).toEqual(Array(5).fill(accounts.otherNurse.id));
    expect((await accessLogPage({ account: accounts.otherNurse.id, clinic: CLINIC }, null)).rows).toEqual([]);
    expect((await accessLogPage({ patient: 'p-a', account: accounts.nurse.id }, null)).rows.map((r) => r.resource)).toEqual(['patient-contact', 'patient-contact', 'patient-contact']);
    // The auditor's earlier reads of this page named p-a too: they are reads of p-a's data, and listed.
    expect((await accessLogPage({ patient: 'p-a' }, null)).rows.filter((r) => r.resource === 'access-log').length).toBeGreaterThan(0);
    expect((await accessLogPage({ action: 'export' }, null)).rows).toEqual([expect.objectContaining({ reason: 'external audit', resource: 'audit-trail', clinicId: null })]);
    // A day filter in Seoul time: nothing was recorded in 2020.
    expect((await accessLogPage({ from: '2020-01-01', to: '2020-01-31' }, null)).rows).toEqual([]);
  });

  it('pages newest first with a keyset cursor, without gaps or repeats', async () => {
    await as('auditor');
    const first = await accessLogPage({ account: accounts.nurse.id }, null);
    expect(first.rows).toHaveLength(30);
    expect(first.next).toBeNull();
    const { readAccessLog } = await import('./access-log');
    const seen: number[] = [];
    let cursor: { id: number; at: string } | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await readAccessLog(t.db, { clinicId: null }, { account: accounts.nurse.id }, cursor, 7);
      seen.push(...page.rows.map((r) => r.id));
      if (!page.next) break;
      const [id, at] = page.next.split('~') as [string, string];
      cursor = { id: Number(id), at };
    }
    expect(seen).toEqual(first.rows.map((r) => r.id));
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
  });

  it("records the reader's own read, naming the patients the page showed (a manager's in their clinic)", async () => {
    await as('auditor');
    await accessLogPage({ patient: 'p-a', action: 'view', account: accounts.nurse.email }, null);
    expect((await ownReads(accounts.auditor.id, 'access-log')).at(-1)).toEqual({ clinic_id: null, patient_ids: ['p-a'], detail: { rows: 3, filters: { patient: 'p-a', action: 'view', account: accounts.nurse.email } } });
    await as('manager');
    await accessLogPage({ clinic: OTHER, patient: 'p-other' }, null);
    // The forced clinic shows nothing of p-other: nobody's data was shown.
    expect((await ownReads(accounts.manager.id, 'access-log')).at(-1)).toEqual({ clinic_id: CLINIC, patient_ids: [], detail: { rows: 0, filters: { clinic: OTHER, patient: 'p-other' } } });
    // Refused readers read nothing and leave nothing.
    await as('nurse');
    await outcome(() => accessLogPage({}, null));
    expect(await ownReads(accounts.nurse.id, 'access-log')).toEqual([]);
  });

  it('the monthly review page: auditors only; it flags the nurse reading patients the clinic has never seen, and lists the export', async () => {
    const seen: Record<string, string> = {};
    const month = new Date(Date.now() + 9 * 3_600_000).toISOString().slice(0, 7);
    for (const who of ['auditor', 'manager', 'nurse', 'admin', 'patient'] as const) {
      await as(who);
      seen[who] = await outcome(() => accessReviewPage(month));
    }
    expect(seen).toEqual({ auditor: 'allowed', manager: 'forbidden', nurse: 'forbidden', admin: 'forbidden', patient: 'forbidden' });
    await as('auditor');
    const review = await accessReviewPage(month);
    // 28 patients read one by one within seconds: a burst; none of them has a reservation at the clinic.
    expect(review.flags.map((f) => [f.kind, f.accountId])).toEqual(
      expect.arrayContaining([
        ['many-patients', accounts.nurse.id],
        ['no-reservation', accounts.nurse.id],
        ['no-reservation', accounts.otherNurse.id],
      ]),
    );
    expect(review.exports.map((e) => e.reason)).toEqual(['external audit']);
    expect(review.accounts[accounts.nurse.id]).toEqual({ name: accounts.nurse.name, email: accounts.nurse.email });
    expect((await ownReads(accounts.auditor.id, 'access-review')).at(-1)).toMatchObject({ clinic_id: null, detail: { month, flags: review.flags.length } });
  });
});
