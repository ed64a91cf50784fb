import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { requireUser } from '../auth/guard';
import { db } from '../db/client';
import { roles, securityEvents } from '../db/schema';
import { STREAM_KINDS, type StreamKind } from '../domain';
import { rmAuditLog } from '../projections/schema';

/** Newest security events first, for auditors. */
export async function recentSecurityEvents(limit = 200) {
  await requireUser({ roles: ['auditor'], callbackUrl: '/audit' });
  return db().select().from(securityEvents).orderBy(desc(securityEvents.occurredAt), desc(securityEvents.id)).limit(limit);
}

const optionalText = z
  .string()
  .trim()
  .max(200)
  .optional()
  .transform((v) => v || undefined);
const optionalDay = z
  .union([z.iso.date(), z.literal('')])
  .optional()
  .transform((v) => v || undefined);

/** The actor roles the audit trail records (the account roles, plus the system's own). */
export const auditRoles = [...roles, 'system'] as const;

/** The audit viewer's filters, as they come from the page's query string. */
export const auditFiltersSchema = z.object({
  from: optionalDay,
  to: optionalDay,
  actor: optionalText,
  role: z.union([z.enum(auditRoles), z.literal('')]).optional().transform((v) => v || undefined),
  clinic: optionalText,
  patient: optionalText,
  entity: z.union([z.enum(STREAM_KINDS as [StreamKind, ...StreamKind[]]), z.literal('')]).optional().transform((v) => v || undefined),
  type: optionalText,
  correlation: optionalText,
  page: z.coerce.number().int().min(1).max(1000).optional().default(1),
});
export type AuditFilters = z.infer<typeof auditFiltersSchema>;

export const auditPageSize = 50;

/**
 * Every change recorded in the event log, newest first, flattened by the audit-log projection and
 * filtered by time (Seoul calendar days), actor, role, clinic, patient, entity, event type and
 * correlation id. Auditors only; returns one row more than a page to tell whether there is a next one.
 */
export async function auditTrail(filters: AuditFilters) {
  await requireUser({ roles: ['auditor'], callbackUrl: '/audit' });
  const where: SQL[] = [];
  if (filters.from) where.push(gte(rmAuditLog.occurredAt, new Date(`${filters.from}T00:00:00+09:00`)));
  if (filters.to) where.push(lt(rmAuditLog.occurredAt, new Date(new Date(`${filters.to}T00:00:00+09:00`).getTime() + 86_400_000)));
  if (filters.actor) where.push(eq(rmAuditLog.actorId, filters.actor));
  if (filters.role) where.push(eq(rmAuditLog.actorRole, filters.role));
  if (filters.clinic) where.push(eq(rmAuditLog.clinicId, filters.clinic));
  if (filters.patient) where.push(eq(rmAuditLog.patientId, filters.patient));
  if (filters.entity) where.push(eq(rmAuditLog.entityType, filters.entity));
  if (filters.type) where.push(eq(rmAuditLog.eventType, filters.type));
  if (filters.correlation) where.push(eq(rmAuditLog.correlationId, filters.correlation));
  const rows = await db()
    .select()
    .from(rmAuditLog)
    .where(and(...where))
    .orderBy(desc(rmAuditLog.occurredAt), desc(rmAuditLog.positionCommit), desc(rmAuditLog.positionPrepare))
    .limit(auditPageSize + 1)
    .offset((filters.page - 1) * auditPageSize);
  return { rows: rows.slice(0, auditPageSize), hasMore: rows.length > auditPageSize };
}
