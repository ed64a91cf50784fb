/**
 * requireUser as the second line of defence, beyond the authorisation matrix (every page, query,
 * server action and route handler × every role: lib/auth/access-matrix.ts and its test): a refused
 * action that would write outside the event store, and the account as the database knows it now.
 * Called directly, with no proxy in front. The session is a real Auth.js session cookie (signed and
 * encrypted with AUTH_SECRET, decoded by the real `auth()`); only the request scope that Next.js
 * would provide is supplied (lib/testing/next-request.ts: the request headers, and next-intl's
 * translator for the pages).
 * The accounts live in a real database, so a deactivated account or a changed role must count at
 * once, whatever the cookie still says.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase } from '../testing/db';
import { users, type Role } from '../db/schema';
import { registerTestClinic } from '../commands/testing';
import { createEventStore } from '../eventstore';
import { catalogueProjection } from '../projections/read-models/catalogue';
import { rebuildProjections } from '../projections/rebuild';
import { PROJECTIONS_GROUP } from '../projections/worker';
import { outcome, signInAs as signIn, useTestEnvironment, type TestAccount } from '../testing/next-request';

vi.mock('next/headers', () => import('../testing/next-request'));
vi.mock('next/cache', () => import('../testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('../testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const CLINIC = 'guard-clinic-a';
const OTHER_CLINIC = 'guard-clinic-b';
const account = (role: Role, clinicId: string | null = null): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@guard.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId };
};
const accounts = {
  admin: account('admin'),
  auditor: account('auditor'),
  staff: account('staff', CLINIC),
  otherStaff: account('staff', OTHER_CLINIC),
  patient: account('patient'),
};
type Who = keyof typeof accounts | 'anonymous';

beforeAll(async () => {
  await t.db.insert(users).values(Object.values(accounts).map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  // The staff clinic in the catalogue read model (so its dashboard renders), and the worker's group.
  const store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY! });
  try {
    await registerTestClinic({ store }, CLINIC);
    // readAll (and so a rebuild) sees an append only once no older transaction runs anywhere on the
    // server (other test files share it): rebuild until the clinic is in.
    for (let attempt = 0; ; attempt++) {
      await rebuildProjections({ store, database: t, projections: [catalogueProjection] });
      if ((await t.sql`select 1 from clinics where id = ${CLINIC}`).length === 1) break;
      if (attempt > 100) throw new Error('the clinic never reached the catalogue');
      await new Promise((r) => setTimeout(r, 200));
    }
    await store.groups.create(PROJECTIONS_GROUP, { startFrom: 'start' });
  } finally {
    await store.close();
  }
});

const signInAs = (who: Who) => signIn(who === 'anonymous' ? null : (accounts as Record<string, TestAccount>)[who]!);

const form = (fields: Record<string, string>) => {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.set(k, v);
  return data;
};
const noSearch = { searchParams: Promise.resolve({}) };

const queries = await import('../queries/admin');
const auditQueries = await import('../queries/audit');
const staffQueries = await import('../queries/staff');
const projectionActions = await import('../../app/actions/projections');

describe('refused actions that write outside the event store', () => {
  it('a refused action changes nothing: only the admin’s rebuild request is recorded', async () => {
    const requested = async () =>
      (await t.sql`select count(*)::int as n from projection_registry where rebuild_requested_at is not null`)[0]!.n as number;
    const before = await requested();
    for (const who of ['anonymous', 'auditor', 'staff', 'patient'] as const) {
      await signInAs(who);
      await outcome(() => projectionActions.requestRebuildAction(form({ name: 'all' })));
    }
    expect(await requested()).toBe(before);
    await signInAs('admin');
    expect(await projectionActions.requestRebuildAction(form({ name: 'all' }))).toEqual({ ok: true });
    expect(await requested()).toBeGreaterThan(before);
  });
});

describe('the account as the database knows it now, not as the cookie remembers it', () => {
  it('a changed role counts at once: the admin’s cookie no longer opens admin queries, actions or pages', async () => {
    const a = account('admin');
    await t.db.insert(users).values({ ...a, passwordHash: 'x' });
    Object.assign(accounts, { changing: a });
    await signInAs('changing' as Who);
    expect(await outcome(() => queries.listAccounts())).toBe('allowed');

    await t.db.update(users).set({ role: 'patient' }).where(eq(users.id, a.id));
    // Same cookie (it still says admin):
    expect(await outcome(() => queries.listAccounts())).toBe('forbidden');
    expect(await outcome(() => projectionActions.retryParkedAction())).toBe('forbidden');
    expect(await outcome(async () => (await import('../../app/admin/page')).default())).toBe('forbidden');
    expect(await outcome(async () => (await import('../../app/me/page')).default(noSearch))).toBe('allowed');
  });

  it('a staff member moved to another clinic loses the old clinic at once', async () => {
    const s = account('staff', CLINIC);
    await t.db.insert(users).values({ ...s, passwordHash: 'x' });
    Object.assign(accounts, { moving: s });
    await signInAs('moving' as Who);
    expect(await outcome(() => staffQueries.staffClinicOverview(CLINIC))).toBe('allowed');
    await t.db.update(users).set({ clinicId: OTHER_CLINIC }).where(eq(users.id, s.id));
    expect(await outcome(() => staffQueries.staffClinicOverview(CLINIC))).toBe('forbidden');
    expect(await outcome(() => staffQueries.staffClinicOverview(OTHER_CLINIC))).toBe('allowed');
  });

  it('a deactivated account counts at once: its cookie is treated as signed out', async () => {
    const a = account('auditor');
    await t.db.insert(users).values({ ...a, passwordHash: 'x' });
    Object.assign(accounts, { leaving: a });
    await signInAs('leaving' as Who);
    expect(await outcome(() => auditQueries.auditTrail({}))).toBe('allowed');
    await t.db.update(users).set({ active: false }).where(eq(users.id, a.id));
    expect(await outcome(() => auditQueries.auditTrail({}))).toBe('sign-in');
    expect(await outcome(async () => (await import('../../app/audit/page')).default(noSearch))).toBe('sign-in');
  });

  it('a cookie not signed with this deployment’s secret is no session', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {}); // Auth.js logs the JWTSessionError
    await signIn(accounts.admin, 'another-deployments-secret-0123456789');
    expect(await outcome(() => queries.listAccounts())).toBe('sign-in');
  });
});
