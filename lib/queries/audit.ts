/**
 * The audit trail's entry points (issue 10 items 1, 5, 6): check the caller, then ask the audit-log
 * read model's queries (lib/projections/read-models/audit-log/trail.ts) with the caller's scope.
 * Auditors read every clinic. The trail itself holds no personal data (patients by pseudonymous id);
 * a patient's name is shown only on demand, after recording the read in the access log.
 */
import { and, desc, eq } from 'drizzle-orm';
import { notFound } from 'next/navigation';
import { requireAuditScope } from '../auth/audit-scope';
import type { SessionUser } from '../auth/roles';
import { appDatabase } from '../db/client';
import { accessLog } from '../db/schema';
import { recordSecurityEvent } from '../auth/security-log';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { trailExportPagesOf, trailPageOf, type AuditFilters, type TrailExportRow, type TrailPage, type TrailScope } from '../projections/read-models/audit-log/trail';
import { rmAuditLog, rmPatients } from '../projections/schema';
import { accessLogEntryColumns, accessLogWhere, type AccessLogEntry, type AccessLogFilters } from './access-log';
import type { RequestOrigin } from '../runtime/request-origin';

export { auditFiltersSchema, auditRoles, businessEventTypes, trailEventTypes, TRAIL_EXPORT_PAGE_SIZE, TRAIL_PAGE_SIZE, type AuditFilters, type TrailExportRow, type TrailPage, type TrailRow } from '../projections/read-models/audit-log/trail';

/** The audit area's reader and their scope: every clinic for auditors, their own for a clinic manager. */
async function auditReader(callbackUrl: string): Promise<{ user: SessionUser; scope: TrailScope }> {
  const { user, clinicId } = await requireAuditScope(callbackUrl);
  return { user, scope: { clinicId } };
}

/** One keyset page of the trail (business and security events, newest first). */
export async function auditTrail(filters: Partial<AuditFilters>): Promise<TrailPage> {
  const { scope } = await auditReader('/audit');
  return trailPageOf(appDatabase().sql, scope, filters);
}

export interface ExportRequest {
  format: 'csv' | 'json';
  /** Why (required: the access log refuses an export without one). */
  reason: string;
  origin: RequestOrigin;
  /** The filter fields as submitted, kept with the record (what was exported). */
  fields: Record<string, string>;
}

/**
 * Records an export before its first row: in the access log (action 'export', with the reason; it
 * throws, and so nothing is exported, when it cannot be recorded) and as the security event 'export'
 * (so the trail shows it).
 */
async function recordExport(user: SessionUser, scope: TrailScope, log: 'trail' | 'access', request: ExportRequest, patientIds: string[]): Promise<void> {
  const { db } = appDatabase();
  const fields = Object.fromEntries(Object.entries(request.fields).filter(([k, v]) => v && k !== 'reason'));
  const entry = await recordPersonalDataAccess(
    { user, action: 'export', resource: log === 'trail' ? 'audit-trail' : 'access-log', patientIds, clinicId: scope.clinicId, reason: request.reason, origin: request.origin, detail: { format: request.format, filters: fields } },
    db,
  );
  await recordSecurityEvent(db, { type: 'export', userId: user.id, origin: request.origin, detail: { log, format: request.format, reason: request.reason, accessLogId: entry.id, ...(scope.clinicId ? { clinicId: scope.clinicId } : {}), filters: fields } });
}

/** The whole filtered trail for an export (recorded first), read in keyset pages as the consumer asks for them. */
export async function auditTrailExport(filters: Partial<AuditFilters>, request: ExportRequest): Promise<{ rows: AsyncIterable<TrailExportRow[]> }> {
  const { user, scope } = await auditReader('/audit');
  await recordExport(user, scope, 'trail', request, filters.patient ? [filters.patient] : []);
  return { rows: trailExportPagesOf(appDatabase().sql, scope, filters) };
}

/**
 * "Show name" on the trail: the patient's name, after recording the read (action 'view',
 * `patient-name`) in the access log. 404 for a patient the reader's trail does not show; null for an
 * erased patient (nothing is read, nothing recorded).
 */
export async function revealAuditPatientName(patientId: string, origin: RequestOrigin): Promise<{ name: string | null; erased: boolean }> {
  const { user, scope } = await auditReader('/audit');
  const { db } = appDatabase();
  const [seen] = await db
    .select({ clinicId: rmAuditLog.clinicId })
    .from(rmAuditLog)
    .where(and(eq(rmAuditLog.patientId, patientId), scope.clinicId === null ? undefined : eq(rmAuditLog.clinicId, scope.clinicId)))
    .limit(1);
  if (!seen) notFound();
  const [patient] = await db.select({ name: rmPatients.name, erased: rmPatients.erased }).from(rmPatients).where(eq(rmPatients.id, patientId)).limit(1);
  if (!patient || patient.erased || patient.name === null) return { name: null, erased: patient?.erased ?? false };
  await recordPersonalDataAccess({ user, action: 'view', resource: 'patient-name', patientIds: [patientId], clinicId: scope.clinicId, origin, detail: { from: 'audit-trail' } }, db);
  return { name: patient.name, erased: false };
}

/** A timestamptz as the app's driver returns it (PostgreSQL's text, e.g. `2026-03-02 01:00:00.123456+00`). */
function pgInstant(v: Date | string): Date {
  return v instanceof Date ? v : new Date(v.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'));
}

/**
 * The whole filtered access log (the /audit/access page's filters and scope: accessLogWhere), newest
 * first, through a database cursor of `batch` rows, for an export.
 */
export async function accessLogExport(filters: AccessLogFilters, request: ExportRequest, batch = 1000): Promise<{ rows: AsyncIterable<AccessLogEntry[]> }> {
  const { user, scope } = await auditReader('/audit/access');
  await recordExport(user, scope, 'access', request, filters.patient ? [filters.patient] : []);
  const database = appDatabase();
  const query = database.db
    .select(accessLogEntryColumns)
    .from(accessLog)
    .where(accessLogWhere(scope, filters))
    .orderBy(desc(accessLog.occurredAt), desc(accessLog.id))
    .toSQL();
  // drizzle has no cursors: its compiled statement runs as a postgres.js cursor, whose rows are keyed by
  // the columns' SQL names (the entry's by their own names, read from the same list).
  const columns = Object.entries(accessLogEntryColumns).map(([key, column]) => [key, column.name] as const);
  const cursor = database.sql.unsafe<Record<string, unknown>[]>(query.sql, query.params as never[]).cursor(batch);
  return {
    rows: {
      async *[Symbol.asyncIterator]() {
        for await (const chunk of cursor)
          yield chunk.map((r) => {
            const entry = Object.fromEntries(columns.map(([key, name]) => [key, r[name]])) as Record<keyof AccessLogEntry, unknown>;
            // bigint and timestamptz arrive as the driver's text; the rest as the entry holds them.
            return { ...entry, id: Number(entry.id), occurredAt: pgInstant(entry.occurredAt as Date | string) } as AccessLogEntry;
          });
      },
    },
  };
}
