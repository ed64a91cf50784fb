/**
 * Recording a monthly review of the access log (PIPA Standards Art. 8; docs/privacy.md, "Monthly
 * review"). Not a business event: the review is the auditor's own record, kept in its append-only
 * table `access_reviews` and announced in the trail as the security event 'access_review'. What the
 * review found (how many entries and flags, which exports) is recomputed here from the log, never
 * taken from the form; the reviewer adds the notes and which exports' reasons they confirmed.
 */
import { appDatabase, type Database } from '../db/client';
import { accessReviews } from '../db/schema';
import { recordSecurityEvent } from '../auth/security-log';
import type { SessionUser } from '../auth/roles';
import { DomainError } from '../domain';
import { monthRange } from '../privacy/access-review';
import { loadReviewMonth } from '../privacy/access-review-month';
import type { RequestOrigin } from '../runtime/request-origin';
import { ForbiddenError } from './errors';

export interface AccessReviewInput {
  /** yyyy-mm (Seoul calendar). */
  month: string;
  notes: string;
  /** Ids of the month's export entries whose reasons the reviewer confirmed. */
  confirmed: readonly number[];
}

/** The month has not begun: there is nothing to review yet. */
export class ReviewMonthNotStartedError extends DomainError {
  constructor(month: string) {
    super('access_review.month_not_started', `${month} has not begun`, { month });
  }
}

/** A confirmed id is not an export of the month (a stale or tampered form). */
export class UnknownExportError extends DomainError {
  constructor(ids: readonly number[]) {
    super('access_review.unknown_export', `not exports of the month under review: ${ids.join(', ')}`, { ids: ids.join(', ') });
  }
}

export async function recordAccessReview(
  user: SessionUser,
  input: AccessReviewInput,
  origin: RequestOrigin,
  options: { database?: Database; now?: Date } = {},
): Promise<{ reviewId: number }> {
  // Only auditors review; a clinic manager reads their clinic's log but does not sign off on the whole of it.
  if (user.role !== 'auditor') throw new ForbiddenError(`${user.role} ${user.id} may not record an access review`, { command: 'RecordAccessReview', actorId: user.id, role: user.role });
  if (monthRange(input.month).from.getTime() > (options.now ?? new Date()).getTime()) throw new ReviewMonthNotStartedError(input.month);
  const database = options.database ?? appDatabase();
  return database.db.transaction(async (tx) => {
    const month = await loadReviewMonth(tx, input.month);
    const exportIds = month.exports.map((e) => e.id);
    const confirmed = [...new Set(input.confirmed)].sort((a, b) => a - b);
    const unknown = confirmed.filter((id) => !exportIds.includes(id));
    if (unknown.length > 0) throw new UnknownExportError(unknown);
    const unconfirmed = exportIds.filter((id) => !confirmed.includes(id));
    const [row] = await tx
      .insert(accessReviews)
      .values({ month: input.month, reviewerId: user.id, notes: input.notes.trim(), entries: month.entries, flags: month.flags.length, exportIds, confirmedExportIds: confirmed })
      .returning({ id: accessReviews.id });
    await recordSecurityEvent(tx, {
      type: 'access_review',
      userId: user.id,
      email: user.email,
      origin,
      detail: { month: input.month, reviewId: row!.id, entries: month.entries, flags: month.flags.length, exports: exportIds.length, confirmed, unconfirmed },
    });
    return { reviewId: row!.id };
  });
}
