/**
 * One month of the access log with what the review's rules need (lib/privacy/access-review.ts):
 * the clinics' opening hours, and which of the read patients have a reservation or a visit at the
 * reader's clinic. Read by the review page and again by the command that records a review, so the
 * review stores what the rules found then, not what a form claimed.
 */
import { and, gte, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { accessLog, clinics, type OpeningIntervals } from '../db/schema';
import { rmReservations, rmVisits } from '../projections/schema';
import { exportsToConfirm, flagUnusualReads, monthRange, type ReviewEntry, type ReviewFlag } from './access-review';

export interface ReviewMonth {
  month: string;
  from: Date;
  to: Date;
  /** How many entries the month holds. */
  entries: number;
  flags: ReviewFlag[];
  exports: ReviewEntry[];
}

export async function loadReviewMonth(db: DbOrTx, month: string): Promise<ReviewMonth> {
  const { from, to } = monthRange(month);
  const entries: ReviewEntry[] = await db
    .select({
      id: accessLog.id,
      occurredAt: accessLog.occurredAt,
      accountId: accessLog.accountId,
      role: accessLog.role,
      clinicId: accessLog.clinicId,
      action: accessLog.action,
      resource: accessLog.resource,
      patientIds: accessLog.patientIds,
      reason: accessLog.reason,
    })
    .from(accessLog)
    .where(and(gte(accessLog.occurredAt, from), lt(accessLog.occurredAt, to)));

  const hours = await db.select({ id: clinics.id, openingHours: clinics.openingHours }).from(clinics);
  const openingHours = new Map<string, OpeningIntervals>(hours.map((c) => [c.id, c.openingHours]));

  // The (clinic, patient) pairs the month's staff reads name, and which of them have a reservation or a visit there.
  const read = new Set<string>();
  for (const e of entries) if (e.role === 'staff' && e.clinicId) for (const p of e.patientIds) read.add(p);
  const related = new Set<string>();
  if (read.size > 0) {
    // One parameter however many patients (a list of ids as bind parameters stops at 65 535).
    const patients = sql`(select jsonb_array_elements_text(${JSON.stringify([...read])}::jsonb))`;
    const pairs = await db
      .select({ clinicId: rmReservations.clinicId, patientId: rmReservations.patientId })
      .from(rmReservations)
      .where(sql`${rmReservations.patientId} in ${patients}`)
      .union(db.select({ clinicId: rmVisits.clinicId, patientId: rmVisits.patientId }).from(rmVisits).where(sql`${rmVisits.patientId} in ${patients}`));
    for (const p of pairs) related.add(`${p.clinicId}\u0000${p.patientId}`);
  }
  const flags = flagUnusualReads(entries, { openingHours, hasRelationship: (clinicId, patientId) => related.has(`${clinicId}\u0000${patientId}`) });
  return { month, from, to, entries: entries.length, flags, exports: exportsToConfirm(entries) };
}

