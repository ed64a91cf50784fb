/**
 * Recording a monthly review of the access log, in a real database: what the rules found is
 * recomputed from the log (never taken from the form), the reviewer confirms exports of that month
 * only, the review is kept in the append-only access_reviews table and announced as the security
 * event 'access_review', and only auditors record one.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SessionUser } from '../auth/roles';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { previousMonth } from '../privacy/access-review';
import { createTestDatabase } from '../testing/db';
import { recordAccessReview, ReviewMonthNotStartedError, UnknownExportError } from './access-review';
import { ForbiddenError } from './errors';

const t = await createTestDatabase();
const origin = { ip: '203.0.113.7', userAgent: 'vitest review' };
const user = (role: SessionUser['role'], clinicId: string | null = null): SessionUser => {
  const id = randomUUID();
  return { id, email: `${role}-${id.slice(0, 6)}@review.example`, name: role, role, clinicId, isClinicManager: false };
};
const auditor = user('auditor');
const nurse = user('staff', 'review-clinic');
const KST_OFFSET_MS = 9 * 60 * 60 * 1000;
const thisMonth = new Date(Date.now() + KST_OFFSET_MS).toISOString().slice(0, 7);

describe('recordAccessReview', () => {
  it("stores what the month's log shows, with the reviewer's notes and confirmed exports, and records the security event", async () => {
    // A staff read of a patient the clinic has never seen (flagged), and two exports with reasons.
    await recordPersonalDataAccess({ user: nurse, action: 'view', resource: 'patient-contact', patientIds: ['p-stranger'], origin }, t.db);
    const first = await recordPersonalDataAccess({ user: auditor, action: 'export', resource: 'audit-trail', reason: 'quarterly audit', origin }, t.db);
    const second = await recordPersonalDataAccess({ user: auditor, action: 'export', resource: 'access-log', reason: 'regulator request', origin }, t.db);

    const { reviewId } = await recordAccessReview(auditor, { month: thisMonth, notes: '  checked with the clinic  ', confirmed: [first.id, first.id] }, origin, { database: t });
    const [review] = await t.sql`select month, reviewer_id, notes, entries, flags, export_ids::int[] as export_ids, confirmed_export_ids::int[] as confirmed_export_ids from access_reviews where id = ${reviewId}`;
    expect(review).toMatchObject({
      month: thisMonth,
      reviewer_id: auditor.id,
      notes: 'checked with the clinic',
      entries: 3,
      flags: 1,
      export_ids: [first.id, second.id],
      confirmed_export_ids: [first.id],
    });
    const [event] = await t.sql`select type, user_id, email, ip, detail from security_events where type = 'access_review'`;
    expect(event).toEqual({
      type: 'access_review',
      user_id: auditor.id,
      email: auditor.email,
      ip: origin.ip,
      detail: { month: thisMonth, reviewId, entries: 3, flags: 1, exports: 2, confirmed: [first.id], unconfirmed: [second.id] },
    });
  });

  it('refuses confirming an entry that is not an export of the month, and a month that has not begun; records nothing then', async () => {
    const view = await recordPersonalDataAccess({ user: nurse, action: 'view', resource: 'patient-name', patientIds: ['p-1'], origin }, t.db);
    const reviews = async () => (await t.sql`select count(*)::int as n from access_reviews`)[0]!.n as number;
    const before = await reviews();
    await expect(recordAccessReview(auditor, { month: thisMonth, notes: '', confirmed: [view.id] }, origin, { database: t })).rejects.toBeInstanceOf(UnknownExportError);
    const next = new Date(Date.now() + KST_OFFSET_MS);
    const nextMonth = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 1)).toISOString().slice(0, 7);
    await expect(recordAccessReview(auditor, { month: nextMonth, notes: '', confirmed: [] }, origin, { database: t })).rejects.toBeInstanceOf(ReviewMonthNotStartedError);
    expect(await reviews()).toBe(before);
    // A past month with nothing in it can be reviewed (and says so).
    const { reviewId } = await recordAccessReview(auditor, { month: previousMonth(new Date()), notes: 'quiet month', confirmed: [] }, origin, { database: t });
    expect((await t.sql`select entries, flags, export_ids::int[] as export_ids from access_reviews where id = ${reviewId}`)[0]).toEqual({ entries: 0, flags: 0, export_ids: [] });
  });

  it('is for auditors only: a clinic manager, staff and admins are refused', async () => {
    for (const who of [{ ...nurse, isClinicManager: true }, nurse, user('admin'), user('patient')]) {
      await expect(recordAccessReview(who, { month: thisMonth, notes: '', confirmed: [] }, origin, { database: t })).rejects.toBeInstanceOf(ForbiddenError);
    }
  });

  it('keeps reviews append-only in the database', async () => {
    const { reviewId } = await recordAccessReview(auditor, { month: thisMonth, notes: 'second look', confirmed: [] }, origin, { database: t });
    await expect(t.sql`update access_reviews set notes = 'changed' where id = ${reviewId}`).rejects.toThrow(/access_reviews is append-only: UPDATE/);
    await expect(t.sql`delete from access_reviews where id = ${reviewId}`).rejects.toThrow(/access_reviews is append-only: DELETE/);
    await expect(t.sql`truncate access_reviews`).rejects.toThrow(/access_reviews is append-only: TRUNCATE/);
    expect((await t.sql`select notes from access_reviews where id = ${reviewId}`)[0]).toEqual({ notes: 'second look' });
  });
});
