/**
 * requireUser as the second line of defence: pages, queries and server actions called directly,
 * with no proxy in front, for every role. The session is a real Auth.js session cookie (signed and
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
import { outcome, signInAs as signIn, useTestEnvironment, type Outcome, type TestAccount } from '../testing/next-request';

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
const everyone: Who[] = ['anonymous', 'admin', 'auditor', 'staff', 'otherStaff', 'patient'];

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

interface EntryPoint {
  name: string;
  allowed: Who[];
  /**
   * What an allowed caller gets when it is not plain "allowed": a page that redirects on, or a 404
   * for an id that does not exist (it got past the role check; a refused role must get 403, never 404).
   */
  allowedOutcome?: (who: Who) => Outcome;
  call: () => Promise<unknown>;
}
const NOPE = 'no-such-id';
const page = (path: string) => import(path).then((m: { default: (props?: unknown) => Promise<unknown> }) => m.default);
const params = (p: Record<string, string>, search: Record<string, string> = {}) => ({ params: Promise.resolve(p), searchParams: Promise.resolve(search) });
const emptyForm = () => new FormData();

const queries = await import('../queries/admin');
const auditQueries = await import('../queries/audit');
const staffQueries = await import('../queries/staff');
const projectionQueries = await import('../queries/projections');
const projectionActions = await import('../../app/actions/projections');
const accountQueries = await import('../queries/account');
const reservationQueries = await import('../queries/reservations');
const checkoutQueries = await import('../queries/checkout');
const bookingQueries = await import('../queries/booking');
const paymentsAdminQueries = await import('../queries/payments-admin');
const accountActions = await import('../../app/actions/account');
const adminPaymentActions = await import('../../app/actions/admin-payments');
const bookingActions = await import('../../app/actions/booking');
const checkoutActions = await import('../../app/actions/checkout');
const reservationActions = await import('../../app/actions/reservations');
const notFound = (): Outcome => 'not-found';

const entryPoints: EntryPoint[] = [
  // Queries
  { name: 'query listAccounts', allowed: ['admin'], call: () => queries.listAccounts() },
  { name: 'query recentSecurityEvents', allowed: ['auditor'], call: () => auditQueries.recentSecurityEvents() },
  { name: 'query auditTrail', allowed: ['auditor'], call: () => auditQueries.auditTrail(auditQueries.auditFiltersSchema.parse({})) },
  { name: 'query staffClinicOverview', allowed: ['staff'], call: () => staffQueries.staffClinicOverview(CLINIC) },
  { name: 'query projectionsStatus', allowed: ['admin'], call: () => projectionQueries.projectionsStatus() },
  { name: 'query myAccount', allowed: ['patient'], call: () => accountQueries.myAccount() },
  { name: 'query myReservations', allowed: ['patient'], call: () => reservationQueries.myReservations() },
  { name: 'query myReservation', allowed: ['patient'], call: () => reservationQueries.myReservation(NOPE) },
  { name: 'query myCancellationPreview', allowed: ['patient'], call: () => reservationQueries.myCancellationPreview(NOPE) },
  { name: 'query myReschedulePreview', allowed: ['patient'], call: () => reservationQueries.myReschedulePreview(NOPE, new Date().toISOString()) },
  { name: 'query myRescheduleOptions', allowed: ['patient'], call: () => reservationQueries.myRescheduleOptions(NOPE, undefined) },
  { name: 'query checkoutView', allowed: ['patient'], call: () => checkoutQueries.checkoutView(NOPE) },
  { name: 'query reservationDeposit', allowed: ['patient'], call: () => checkoutQueries.reservationDeposit(NOPE) },
  { name: 'query requireBookingPatient', allowed: ['patient'], call: () => bookingQueries.requireBookingPatient('/') },
  { name: 'query stuckPaymentsForAdmin', allowed: ['admin'], call: () => paymentsAdminQueries.stuckPaymentsForAdmin() },
  // Server actions
  // (Validated actions get an empty form: an allowed caller gets its field errors back, nothing runs.)
  { name: 'action changeContactAction', allowed: ['patient'], call: () => accountActions.changeContactAction({}, emptyForm()) },
  { name: 'action consentAction', allowed: ['patient'], call: () => accountActions.consentAction({}, emptyForm()) },
  { name: 'action eraseMyDataAction', allowed: ['patient'], call: () => accountActions.eraseMyDataAction({}, emptyForm()) },
  { name: 'action bookAction', allowed: ['patient'], call: () => bookingActions.bookAction({}, emptyForm()) },
  { name: 'action payAction', allowed: ['patient'], call: () => checkoutActions.payAction({}, emptyForm()) },
  { name: 'action confirmAction', allowed: ['patient'], call: () => checkoutActions.confirmAction({}, emptyForm()) },
  { name: 'action failAction', allowed: ['patient'], call: () => checkoutActions.failAction({}, emptyForm()) },
  { name: 'action cancelReservationAction', allowed: ['patient'], call: () => reservationActions.cancelReservationAction({}, emptyForm()) },
  { name: 'action rescheduleReservationAction', allowed: ['patient'], call: () => reservationActions.rescheduleReservationAction({}, emptyForm()) },
  { name: 'action reconcileNowAction', allowed: ['admin'], call: () => adminPaymentActions.reconcileNowAction({}, emptyForm()) },
  { name: 'action retryStuckPaymentAction', allowed: ['admin'], call: () => adminPaymentActions.retryStuckPaymentAction({}, emptyForm()) },
  { name: 'action resolveStuckPaymentAction', allowed: ['admin'], call: () => adminPaymentActions.resolveStuckPaymentAction({}, emptyForm()) },
  { name: 'action requestRebuildAction', allowed: ['admin'], call: () => projectionActions.requestRebuildAction(form({ name: 'audit-log' })) },
  { name: 'action retryParkedAction', allowed: ['admin'], call: () => projectionActions.retryParkedAction() },
  { name: 'action skipParkedAction', allowed: ['admin'], call: () => projectionActions.skipParkedAction(form({ eventId: randomUUID() })) },
  // Pages (the server components, called as Next.js would render them)
  { name: 'page /admin', allowed: ['admin'], call: async () => (await import('../../app/admin/page')).default() },
  { name: 'page /admin/projections', allowed: ['admin'], call: async () => (await import('../../app/admin/projections/page')).default() },
  { name: 'page /audit', allowed: ['auditor'], call: async () => (await import('../../app/audit/page')).default(noSearch) },
  { name: 'page /me', allowed: ['patient'], call: async () => (await import('../../app/me/page')).default(noSearch) },
  {
    name: 'page /staff',
    allowed: ['staff', 'otherStaff'],
    allowedOutcome: (who) => `redirect /staff/${who === 'staff' ? CLINIC : OTHER_CLINIC}`,
    call: async () => (await import('../../app/staff/page')).default(),
  },
  { name: 'page /admin/payments', allowed: ['admin'], call: async () => (await page('../../app/admin/payments/page'))() },
  { name: 'page /me/account', allowed: ['patient'], call: async () => (await page('../../app/me/account/page'))(params({})) },
  { name: 'page /me/reservations/[id]', allowed: ['patient'], allowedOutcome: notFound, call: async () => (await page('../../app/me/reservations/[reservationId]/page'))(params({ reservationId: NOPE })) },
  { name: 'page /me/reservations/[id]/cancel', allowed: ['patient'], allowedOutcome: notFound, call: async () => (await page('../../app/me/reservations/[reservationId]/cancel/page'))(params({ reservationId: NOPE })) },
  { name: 'page /me/reservations/[id]/reschedule', allowed: ['patient'], allowedOutcome: notFound, call: async () => (await page('../../app/me/reservations/[reservationId]/reschedule/page'))(params({ reservationId: NOPE })) },
  { name: 'page /checkout/[paymentId]', allowed: ['patient'], allowedOutcome: notFound, call: async () => (await page('../../app/checkout/[paymentId]/page'))(params({ paymentId: NOPE })) },
  { name: 'page /checkout/[paymentId]/success', allowed: ['patient'], allowedOutcome: notFound, call: async () => (await page('../../app/checkout/[paymentId]/success/page'))(params({ paymentId: NOPE })) },
  { name: 'page /checkout/[paymentId]/fail', allowed: ['patient'], allowedOutcome: notFound, call: async () => (await page('../../app/checkout/[paymentId]/fail/page'))(params({ paymentId: NOPE })) },
  { name: 'page /checkout/reservation/[id]', allowed: ['patient'], allowedOutcome: notFound, call: async () => (await page('../../app/checkout/reservation/[reservationId]/page'))(params({ reservationId: NOPE })) },
  { name: `page /clinics/${CLINIC}/book`, allowed: ['patient'], call: async () => (await page('../../app/clinics/[clinicId]/book/page'))(params({ clinicId: CLINIC })) },
  {
    name: `page /staff/${CLINIC}`,
    allowed: ['staff'],
    call: async () => (await page('../../app/staff/[clinicId]/page'))(params({ clinicId: CLINIC })),
  },
];

describe('requireUser with the proxy bypassed', () => {
  for (const entry of entryPoints) {
    it(`${entry.name}: only ${entry.allowed.join(', ')}; anyone else 403, anonymous to sign-in`, async () => {
      const seen: Record<string, Outcome> = {};
      const expected: Record<string, Outcome> = {};
      for (const who of everyone) {
        await signInAs(who);
        seen[who] = await outcome(entry.call);
        expected[who] = entry.allowed.includes(who) ? (entry.allowedOutcome?.(who) ?? 'allowed') : who === 'anonymous' ? 'sign-in' : 'forbidden';
      }
      expect(seen).toEqual(expected);
    });
  }

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

describe('route handlers with the proxy bypassed', () => {
  const statusOf = async (call: () => Promise<Response>) => {
    const response = await call();
    await response.body?.cancel();
    return response.status;
  };
  it('/api/admin/projections: 401 signed out, 403 for every other role, 200 for admins', async () => {
    const { GET } = await import('../../app/api/admin/projections/route');
    const seen: Record<string, number> = {};
    for (const who of everyone) {
      await signInAs(who);
      seen[who] = await statusOf(() => GET());
    }
    expect(seen).toEqual({ anonymous: 401, admin: 200, auditor: 403, staff: 403, otherStaff: 403, patient: 403 });
  });

  it(`/api/staff/${CLINIC}/board/events: 401 signed out, 403 for every other role and the other clinic's staff, 200 for its staff`, async () => {
    const { GET } = await import('../../app/api/staff/[clinicId]/board/events/route');
    const { NextRequest } = await import('next/server');
    const seen: Record<string, number> = {};
    for (const who of everyone) {
      await signInAs(who);
      const request = new NextRequest(`http://localhost:3000/api/staff/${CLINIC}/board/events`);
      seen[who] = await statusOf(() => GET(request, { params: Promise.resolve({ clinicId: CLINIC }) }));
    }
    expect(seen).toEqual({ anonymous: 401, admin: 403, auditor: 403, staff: 200, otherStaff: 403, patient: 403 });
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
    expect(await outcome(() => auditQueries.recentSecurityEvents())).toBe('allowed');
    await t.db.update(users).set({ active: false }).where(eq(users.id, a.id));
    expect(await outcome(() => auditQueries.recentSecurityEvents())).toBe('sign-in');
    expect(await outcome(async () => (await import('../../app/audit/page')).default(noSearch))).toBe('sign-in');
  });

  it('a cookie not signed with this deployment’s secret is no session', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {}); // Auth.js logs the JWTSessionError
    await signIn(accounts.admin, 'another-deployments-secret-0123456789');
    expect(await outcome(() => queries.listAccounts())).toBe('sign-in');
  });
});
