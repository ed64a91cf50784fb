/**
 * The trail's export route and "show name", called directly (no proxy) against a real database:
 * an auditor's CSV and JSON exports hold exactly the filtered rows, streamed, with formulas defused;
 * each export is recorded first in the access log (action 'export', its reason) and as the security
 * event 'export'; without a reason nothing is exported or recorded; everyone else gets 401/403 and
 * a refusal is recorded. The access log's own export finds the trail's export. "Show name" records
 * the read before returning the name.
 */
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { accessLog, securityEvents, users, type Role } from '@/lib/db/schema';
import { rmAuditLog, rmPatients } from '@/lib/projections/schema';
import { createTestDatabase } from '@/lib/testing/db';
import { outcome, signInAs, useTestEnvironment, type TestAccount } from '@/lib/testing/next-request';

vi.mock('next/headers', async () => {
  const m = await import('@/lib/testing/next-request');
  return { ...m, headers: async () => new Headers([...(await m.headers()).entries(), ['x-forwarded-for', '203.0.113.8']]) };
});
vi.mock('next/cache', () => import('@/lib/testing/next-request').then((m) => m.nextCache));
vi.mock('next-intl/server', () => import('@/lib/testing/next-request').then((m) => m.nextIntlServer()));

const t = await createTestDatabase();
useTestEnvironment(t.url);

const account = (role: Role, clinicId: string | null = null): TestAccount => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 8)}@export.example`, name: `${role} ${id.slice(0, 4)}`, role, clinicId };
};
const auditor = account('auditor');
const staff = account('staff', 'gangnam');
const patientAccount = account('patient');
const patient = patientAccount.id;
const CLINIC = `ex-${randomUUID().slice(0, 6)}`;

beforeAll(async () => {
  await t.db.insert(users).values([auditor, staff, patientAccount].map((a) => ({ ...a, passwordHash: 'x' })));
  const rows = Array.from({ length: 25 }, (_, i) => ({
    eventId: randomUUID(),
    positionCommit: BigInt(1000 + i),
    positionPrepare: 0n,
    occurredAt: new Date(Date.UTC(2026, 2, 2, 1, i)),
    recordedAt: new Date(Date.UTC(2026, 2, 2, 1, i)),
    actorId: patient,
    actorRole: 'patient',
    clinicId: CLINIC,
    patientId: patient,
    streamId: `reservation-r${i}`,
    revision: 0,
    entityType: 'reservation',
    entityId: `r${i}`,
    eventType: 'ReservationRequested',
    schemaVersion: 3,
    summary: i === 0 ? '=HYPERLINK("http://example.test")' : `reservationId=r${i}, "quoted"`,
    correlationId: `c${i}`,
  }));
  await t.db.insert(rmAuditLog).values(rows);
  await t.db.insert(rmPatients).values({ id: patient, name: '김민지 Kim Minji', phone: '010-1', email: 'minji@example.test', birthDate: null, locale: 'ko', consents: {}, erased: false, registeredAt: new Date(), version: 1 });
});

async function post(fields: Record<string, string>): Promise<Response> {
  const { POST } = await import('./route');
  const { NextRequest } = await import('next/server');
  const { headers } = await import('next/headers');
  const h = new Headers(await headers());
  return POST(new NextRequest('http://localhost:3000/audit/export', { method: 'POST', body: new URLSearchParams(fields), headers: h }) as never);
}
const exportsOf = (id: string) => t.db.select().from(accessLog).where(and(eq(accessLog.accountId, id), eq(accessLog.action, 'export')));
const securityOf = (id: string, type: 'export' | 'refused') => t.db.select().from(securityEvents).where(and(eq(securityEvents.userId, id), eq(securityEvents.type, type)));

describe('exporting the trail', () => {
  it('streams the filtered rows as CSV, recorded first in the access log and as a security event', async () => {
    await signInAs(auditor);
    const response = await post({ log: 'trail', format: 'csv', reason: 'PIPA audit request #12', clinic: CLINIC });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="yeyak-audit-trail-\d{8}T\d{4}\.csv"$/);
    // Recorded before the body is read.
    const [entry] = await exportsOf(auditor.id);
    expect(entry).toMatchObject({ action: 'export', resource: 'audit-trail', reason: 'PIPA audit request #12', ip: '203.0.113.8', role: 'auditor' });
    expect(entry!.detail).toMatchObject({ format: 'csv', filters: { log: 'trail', format: 'csv', clinic: CLINIC } });
    const [event] = await securityOf(auditor.id, 'export');
    expect(event!.detail).toMatchObject({ log: 'trail', format: 'csv', reason: 'PIPA audit request #12', accessLogId: entry!.id });

    const text = await response.text();
    const lines = text.replace(/^\uFEFF/, '').trimEnd().split('\n');
    expect(lines[0]).toBe('occurred_at_kst,source,type,actor_id,actor_role,clinic_id,patient_id,stream_id,revision,summary,correlation_id');
    expect(lines).toHaveLength(1 + 25);
    // Newest first, Seoul time, CSV quoting, and a formula a spreadsheet would run is defused.
    expect(lines[1]).toMatch(/^2026-03-02T10:24:00\.000\+09:00,event,ReservationRequested,/);
    expect(lines[1]).toContain('"reservationId=r24, ""quoted"""');
    expect(lines[25]).toContain(`'=HYPERLINK(""http://example.test"")`);
  });

  it('as JSON, the same rows', async () => {
    await signInAs(auditor);
    const response = await post({ log: 'trail', format: 'json', reason: 'second look', clinic: CLINIC, type: 'ReservationRequested' });
    const rows = (await response.json()) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(25);
    expect(rows[0]).toMatchObject({ source: 'event', type: 'ReservationRequested', stream_id: 'reservation-r24', patient_id: patient, clinic_id: CLINIC });
    const empty = await post({ log: 'trail', format: 'json', reason: 'nothing there', clinic: 'no-such-clinic' });
    expect(await empty.json()).toEqual([]);
  });

  it('without a reason: back to the page with its filters, nothing exported or recorded', async () => {
    const viewer = account('auditor');
    await t.db.insert(users).values({ ...viewer, passwordHash: 'x' });
    await signInAs(viewer);
    const response = await post({ log: 'trail', format: 'csv', reason: ' ', clinic: CLINIC });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`http://localhost:3000/audit?clinic=${CLINIC}&exportError=reason`);
    expect(await exportsOf(viewer.id)).toEqual([]);
    expect(await securityOf(viewer.id, 'export')).toEqual([]);
  });

  it('refuses everyone but auditors (and managers), and records the refusal', async () => {
    await signInAs(null);
    expect((await post({ log: 'trail', format: 'csv', reason: 'x-x-x' })).status).toBe(401);
    await signInAs(staff);
    expect((await post({ log: 'trail', format: 'csv', reason: 'x-x-x' })).status).toBe(403);
    expect((await securityOf(staff.id, 'refused'))[0]!.detail).toMatchObject({ at: '/audit/export', role: 'staff' });
    await signInAs(patientAccount);
    expect((await post({ log: 'access', format: 'csv', reason: 'x-x-x' })).status).toBe(403);
    expect(await exportsOf(staff.id)).toEqual([]);
    expect(await exportsOf(patientAccount.id)).toEqual([]);
  });

  it("the access log's export lists the trail's exports with their reasons", async () => {
    await signInAs(auditor);
    const response = await post({ log: 'access', format: 'json', reason: 'monthly review', action: 'export' });
    expect(response.headers.get('content-disposition')).toMatch(/yeyak-access-log-.*\.json/);
    const rows = (await response.json()) as Array<Record<string, unknown>>;
    expect(rows.map((r) => r.reason)).toEqual(expect.arrayContaining(['PIPA audit request #12', 'second look', 'monthly review']));
    expect(rows.every((r) => r.action === 'export')).toBe(true);
    // Each entry in the export's columns, read from the log's own: this very export among them, as recorded.
    for (const r of rows) expect(Object.keys(r)).toEqual(['id', 'occurred_at_kst', 'account_id', 'role', 'clinic_id', 'ip', 'user_agent', 'action', 'resource', 'patient_ids', 'reason', 'detail']);
    const [own] = await t.db.select().from(accessLog).where(and(eq(accessLog.accountId, auditor.id), eq(accessLog.reason, 'monthly review')));
    expect(rows.find((r) => r.reason === 'monthly review')).toEqual({
      id: own!.id,
      occurred_at_kst: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+09:00$/),
      account_id: auditor.id,
      role: own!.role,
      clinic_id: own!.clinicId,
      ip: own!.ip,
      user_agent: own!.userAgent,
      action: 'export',
      resource: own!.resource,
      patient_ids: own!.patientIds,
      reason: 'monthly review',
      detail: own!.detail,
    });
  });
});

describe('show name', () => {
  it('records the read in the access log, then returns the name', async () => {
    await signInAs(auditor);
    const { revealPatientNameAction } = await import('@/app/actions/audit');
    const form = new FormData();
    form.set('patientId', patient);
    const state = await revealPatientNameAction({}, form);
    expect(state).toMatchObject({ ok: 'audit.nameShown', values: { name: '김민지 Kim Minji' } });
    const reads = await t.db.select().from(accessLog).where(and(eq(accessLog.accountId, auditor.id), eq(accessLog.resource, 'patient-name')));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ action: 'view', patientIds: [patient], ip: '203.0.113.8' });
  });

  it('a patient the trail does not show is a 404; staff get 403 and the refusal is recorded once', async () => {
    await signInAs(auditor);
    const { revealAuditPatientName } = await import('@/lib/queries/audit');
    expect(await outcome(() => revealAuditPatientName(randomUUID(), { ip: null, userAgent: null }))).toBe('not-found');
    const other = account('staff', 'sinsa');
    await t.db.insert(users).values({ ...other, passwordHash: 'x' });
    await signInAs(other);
    expect(await outcome(() => revealAuditPatientName(patient, { ip: null, userAgent: null }))).toBe('forbidden');
    expect(await securityOf(other.id, 'refused')).toHaveLength(1);
  });
});

describe('refusals by the proxy', () => {
  it('/forbidden?from= records the signed-in account\'s refusal of that path, once; nothing for a malformed path', async () => {
    const nurse = account('staff', 'hongdae');
    await t.db.insert(users).values({ ...nurse, passwordHash: 'x' });
    await signInAs(nurse);
    const page = (await import('@/app/forbidden/page')).default;
    expect(await outcome(() => page({ searchParams: Promise.resolve({ from: '/audit' }) }))).toBe('forbidden');
    expect(await outcome(() => page({ searchParams: Promise.resolve({ from: 'https://elsewhere.example/x' }) }))).toBe('forbidden');
    const refusals = await securityOf(nurse.id, 'refused');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.detail).toMatchObject({ at: '/audit', by: 'proxy', role: 'staff', clinicId: 'hongdae' });
  });
});
