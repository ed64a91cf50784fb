/**
 * The trail's queries over a real database: business events (rm_audit_log rows) and security events
 * merged newest first, keyset pages that neither skip nor repeat a row (also between rows of the same
 * instant, across both sources), back and forth; each filter, the scope of a manager, free text, and
 * the keyset pages an export reads through.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { securityEvents, users } from '../../../db/schema';
import { createTestDatabase } from '../../../testing/db';
import { rmAuditLog } from './table';
import { auditFiltersSchema, encodeCursor, trailExportPagesOf, trailPageOf, type AuditFilters, type TrailExportRow } from './trail';

const t = await createTestDatabase();

const patient = randomUUID();
const staff = randomUUID();
const base = Date.parse('2026-03-02T01:00:00Z'); // 10:00 in Seoul, Monday 2 March
const at = (minutes: number) => new Date(base + minutes * 60_000);
let position = 100n;

function event(minute: number, o: Partial<typeof rmAuditLog.$inferInsert> = {}): typeof rmAuditLog.$inferInsert {
  position += 1n;
  return {
    eventId: randomUUID(),
    positionCommit: position,
    positionPrepare: 0n,
    occurredAt: at(minute),
    recordedAt: at(minute),
    actorId: patient,
    actorRole: 'patient',
    clinicId: 'gangnam',
    patientId: patient,
    streamId: `reservation-r${minute}`,
    revision: 0,
    entityType: 'reservation',
    entityId: `r${minute}`,
    eventType: 'ReservationRequested',
    schemaVersion: 3,
    summary: `reservationId=r${minute} clinicId=gangnam`,
    correlationId: `corr-${minute}`,
    ...o,
  };
}

beforeAll(async () => {
  await t.db.insert(users).values([
    { id: patient, email: `${patient}@example.test`, name: 'Kim', role: 'patient', passwordHash: 'x' },
    { id: staff, email: `${staff}@example.test`, name: 'Lee', role: 'staff', clinicId: 'sinsa', passwordHash: 'x' },
  ]);
  await t.db.insert(rmAuditLog).values([
    event(0),
    event(1, { eventType: 'ReservationCancelled', summary: 'reservationId=r1 reason=schedule', correlationId: 'corr-cancel' }),
    event(1, { streamId: 'payment-p1', entityType: 'payment', entityId: 'p1', eventType: 'PaymentRefunded', summary: 'paymentId=p1 amountKrw=30000', correlationId: 'corr-cancel', actorId: 'system:pm', actorRole: 'system' }),
    event(2, { clinicId: 'sinsa', patientId: null, actorId: staff, actorRole: 'staff', streamId: 'clinic-sinsa', entityType: 'clinic', entityId: 'sinsa', eventType: 'TreatmentListed', summary: 'treatmentId=botox 50% off' }),
    event(3),
    event(5),
  ]);
  await t.db.insert(securityEvents).values([
    { occurredAt: at(1), type: 'sign_in', userId: patient, email: `${patient}@example.test`, ip: '203.0.113.1', detail: { role: 'patient' } },
    { occurredAt: at(4), type: 'refused', userId: staff, email: `${staff}@example.test`, ip: '203.0.113.2', detail: { role: 'staff', required: ['auditor'], at: '/audit' } },
    { occurredAt: at(6), type: 'sign_in_failed', email: 'nobody@example.test', ip: '203.0.113.3', detail: { reason: 'unknown_account' } },
  ]);
});

const filters = (f: Record<string, string> = {}) => auditFiltersSchema.parse(f);
const all = async (f: Partial<AuditFilters>, scope = { clinicId: null as string | null }) => {
  const rows: TrailExportRow[] = [];
  for await (const chunk of trailExportPagesOf(t.sql, scope, f, 2)) rows.push(...chunk);
  return rows;
};
const label = (r: TrailExportRow) => `${r.type}@${(r.occurredAt.getTime() - base) / 60_000}`;

describe('the audit trail', () => {
  it('merges business and security events, newest first; at one instant security events before events, events newest position first', async () => {
    const rows = await all(filters());
    expect(rows.map(label)).toEqual([
      'sign_in_failed@6',
      'ReservationRequested@5',
      'refused@4',
      'ReservationRequested@3',
      'TreatmentListed@2',
      'sign_in@1',
      'PaymentRefunded@1',
      'ReservationCancelled@1',
      'ReservationRequested@0',
    ]);
    const signIn = rows.find((r) => r.type === 'sign_in')!;
    expect(signIn).toMatchObject({ source: 'security', actorId: patient, actorRole: 'patient', patientId: patient, streamId: null, summary: 'role=patient' });
    // The e-mail typed at a failed sign-in is not shown (it may be a patient's).
    expect(JSON.stringify(rows)).not.toContain('nobody@example.test');
    expect(rows.find((r) => r.type === 'refused')).toMatchObject({ actorRole: 'staff', clinicId: 'sinsa' });
  });

  it('pages by keyset: every row once, forwards and back, also between rows of one instant', async () => {
    const everything = (await all(filters())).map((r) => r.key);
    const seen: string[] = [];
    let page = await trailPageOf(t.sql, { clinicId: null }, filters(), 2);
    expect(page.newer).toBeNull();
    const pages = [page];
    for (;;) {
      seen.push(...page.rows.map((r) => r.key));
      if (!page.older) break;
      page = await trailPageOf(t.sql, { clinicId: null }, filters({ before: page.older }), 2);
      pages.push(page);
    }
    expect(seen).toEqual(everything);
    expect(pages).toHaveLength(5);
    // Back from the last page: the page before it, exactly.
    const back = await trailPageOf(t.sql, { clinicId: null }, filters({ after: pages[4]!.newer! }), 2);
    expect(back.rows.map((r) => r.key)).toEqual(pages[3]!.rows.map((r) => r.key));
    // Back from the second page: the newest page (no newer link).
    const top = await trailPageOf(t.sql, { clinicId: null }, filters({ after: pages[1]!.newer! }), 2);
    expect(top.rows.map((r) => r.key)).toEqual(pages[0]!.rows.map((r) => r.key));
    expect(top.newer).toBeNull();
  });

  it('filters by patient, clinic, actor, role, entity, type, correlation, time and free text', async () => {
    const labels = async (f: Record<string, string>) => (await all(filters(f))).map(label);
    expect(await labels({ patient })).toEqual(['ReservationRequested@5', 'ReservationRequested@3', 'sign_in@1', 'PaymentRefunded@1', 'ReservationCancelled@1', 'ReservationRequested@0']);
    expect(await labels({ clinic: 'sinsa' })).toEqual(['refused@4', 'TreatmentListed@2']);
    expect(await labels({ actor: staff })).toEqual(['refused@4', 'TreatmentListed@2']);
    expect(await labels({ role: 'system' })).toEqual(['PaymentRefunded@1']);
    expect(await labels({ entity: 'payment' })).toEqual(['PaymentRefunded@1']);
    expect(await labels({ type: 'refused' })).toEqual(['refused@4']);
    expect(await labels({ type: 'ReservationCancelled' })).toEqual(['ReservationCancelled@1']);
    expect(await labels({ correlation: 'corr-cancel' })).toEqual(['PaymentRefunded@1', 'ReservationCancelled@1']);
    expect(await labels({ q: '50%' })).toEqual(['TreatmentListed@2']);
    expect(await labels({ q: 'unknown_acc' })).toEqual(['sign_in_failed@6']);
    // Seoul days: the whole trail is on 2 March in Seoul, nothing on the 1st.
    expect(await labels({ from: '2026-03-02', to: '2026-03-02' })).toHaveLength(9);
    expect(await labels({ to: '2026-03-01' })).toEqual([]);
    expect(await labels({ patient, type: 'sign_in' })).toEqual(['sign_in@1']);
  });

  it("a manager's scope: only their clinic's rows, whatever the clinic filter asks", async () => {
    const sinsa = { clinicId: 'sinsa' };
    expect((await all(filters(), sinsa)).map(label)).toEqual(['refused@4', 'TreatmentListed@2']);
    expect(await all(filters({ clinic: 'gangnam' }), sinsa)).toEqual([]);
    expect((await trailPageOf(t.sql, sinsa, filters())).rows.map(label)).toEqual(['refused@4', 'TreatmentListed@2']);
  });

  it('refuses a forged cursor as an invalid filter', () => {
    expect(auditFiltersSchema.safeParse({ before: 'not-a-cursor' }).success).toBe(false);
    expect(auditFiltersSchema.safeParse({ before: encodeCursor(['2026-03-02 01:00:00+00', 0, '1', '0']) }).success).toBe(true);
    expect(auditFiltersSchema.safeParse({ type: 'NoSuchEvent' }).success).toBe(false);
  });
});
