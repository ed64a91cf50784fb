/**
 * The monthly review of the access log (/audit/access/review?month=yyyy-mm; docs/privacy.md,
 * "Monthly review"): the month's unusual reads as the rules flag them, each export with its reason
 * to confirm, and the reviews already recorded for that month. Auditors only. Showing the review is a
 * read of the access log, recorded in it (resource `access-review`).
 */
import { desc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { requireUser } from '../auth/guard';
import { db as appDb } from '../db/client';
import { accessReviews, users } from '../db/schema';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { previousMonth, REVIEW_THRESHOLDS } from '../privacy/access-review';
import { loadReviewMonth } from '../privacy/access-review-month';

/** The month under review (yyyy-mm, Seoul); none or invalid: the month before this one. */
export const reviewMonthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);

export async function accessReviewPage(month: string) {
  const user = await requireUser({ roles: ['auditor'], callbackUrl: `/audit/access/review?month=${encodeURIComponent(month)}` });
  const database = appDb();
  const review = await loadReviewMonth(database, reviewMonthSchema.parse(month));
  const reviews = await database
    .select({
      id: accessReviews.id,
      reviewerId: accessReviews.reviewerId,
      reviewedAt: accessReviews.reviewedAt,
      notes: accessReviews.notes,
      entries: accessReviews.entries,
      flags: accessReviews.flags,
      exportIds: accessReviews.exportIds,
      confirmedExportIds: accessReviews.confirmedExportIds,
    })
    .from(accessReviews)
    .where(eq(accessReviews.month, month))
    .orderBy(desc(accessReviews.reviewedAt), desc(accessReviews.id));

  // Names of the accounts the page mentions (readers flagged, exporters, reviewers).
  const accountIds = [...new Set([...review.flags.map((f) => f.accountId), ...review.exports.map((e) => e.accountId), ...reviews.map((r) => r.reviewerId)])];
  const named = accountIds.length ? await database.select({ id: users.id, name: users.name, email: users.email }).from(users).where(inArray(users.id, accountIds)) : [];
  const accounts = Object.fromEntries(named.map((a) => [a.id, { name: a.name, email: a.email }]));

  const patientIds = [...review.flags.flatMap((f) => (f.kind === 'no-reservation' ? f.patientIds : [])), ...review.exports.flatMap((e) => e.patientIds)];
  await recordPersonalDataAccess(
    { user, action: 'view', resource: 'access-review', patientIds, clinicId: null, detail: { month, entries: review.entries, flags: review.flags.length } },
    database,
  );
  return { ...review, reviews, accounts };
}

/** For the page: the month due for review, and the rules' thresholds it explains. */
export { previousMonth, REVIEW_THRESHOLDS as reviewThresholds };
