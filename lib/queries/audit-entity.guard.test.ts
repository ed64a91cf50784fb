/**
 * The audit entity page and its query authorise on the server, whoever calls them: auditors only
 * (admins and staff of any clinic too get 403; a clinic manager's view is later work), anonymous
 * callers go to sign-in. Real Auth.js session cookie and accounts in a real database
 * (lib/testing/next-request.ts supplies only the request scope), the real event store.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerTestClinic } from '../commands/testing';
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
const account = (role: Role, clinicId: string | null = null): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@audit-guard.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId };
};
const accounts = { admin: account('admin'), auditor: account('auditor'), staff: account('staff', CLINIC), patient: account('patient') };
type Who = keyof typeof accounts | 'anonymous';
const everyone: Who[] = ['anonymous', 'admin', 'auditor', 'staff', 'patient'];
const signInAs = (who: Who) => signIn(who === 'anonymous' ? null : accounts[who]);

const { auditEntity } = await import('./audit-entity');
const page = async () => (await import('../../app/audit/[stream]/page')).default;
const props = (stream: string) => ({ params: Promise.resolve({ stream }), searchParams: Promise.resolve({}) });

beforeAll(async () => {
  await t.db.insert(users).values(Object.values(accounts).map((a) => ({ ...a, passwordHash: 'not-a-real-hash' })));
  const store = await createEventStore({ databaseUrl: t.url, hmacKey: process.env.EVENT_HMAC_KEY! });
  try {
    await registerTestClinic({ store }, CLINIC);
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
const refusedExceptAuditor = (auditor: Outcome) => ({ anonymous: 'sign-in', admin: 'forbidden', auditor, staff: 'forbidden', patient: 'forbidden' });

describe('/audit/<stream>: auditors only, on the server', () => {
  it('the query: an auditor reads the clinic stream (the staff of that very clinic does not)', async () => {
    expect(await seenBy(() => auditEntity(`clinic-${CLINIC}`, null))).toEqual(refusedExceptAuditor('allowed'));
    await signInAs('auditor');
    const h = await auditEntity(`clinic-${CLINIC}`, null);
    expect(h?.events[0]?.type).toBe('ClinicRegistered');
  });

  it('the page: the same, and refused before it tells whether a stream exists', async () => {
    expect(await seenBy(async () => (await page())(props(`clinic-${CLINIC}`)))).toEqual(refusedExceptAuditor('allowed'));
    expect(await seenBy(async () => (await page())(props('reservation-no-such-id')))).toEqual(refusedExceptAuditor('not-found'));
    expect(await seenBy(async () => (await page())(props('not-a-stream')))).toEqual(refusedExceptAuditor('not-found'));
  });
});
