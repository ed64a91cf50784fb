/**
 * The access log for its readers (/audit/access, issue 10 items 4 and 8): who read whose personal
 * data, newest first, filtered by time, account, patient, action and clinic, one keyset page at a
 * time. Auditors read every clinic; a clinic manager reads their own clinic's entries only (the
 * filter cannot widen it). Reading the log is itself recorded in it (resource `access-log`).
 */
import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { requireAuditScope, scopedClinic, type AuditScope } from '../auth/audit-scope';
import { db as appDb, type Db } from '../db/client';
import { accessLog, accessLogActions, users } from '../db/schema';
import { recordPersonalDataAccess } from '../privacy/access-log';

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

/** The page's filters, as they come from its query string (the export form sends the same names). */
export const accessLogFiltersSchema = z.object({
  from: optionalDay,
  to: optionalDay,
  /** An account id or an account's e-mail address. */
  account: optionalText,
  patient: optionalText,
  action: z.union([z.enum(accessLogActions), z.literal('')]).optional().transform((v) => v || undefined),
  clinic: optionalText,
});
export type AccessLogFilters = z.infer<typeof accessLogFiltersSchema>;

/** Keyset cursor: the last row's exact time (as PostgreSQL prints it, microseconds kept) and id. */
export const accessLogCursorSchema = z
  .string()
  .regex(/^\d+~[0-9T:.+\- ]{10,40}$/)
  .transform((v) => {
    const [id, at] = v.split('~') as [string, string];
    return { id: Number(id), at };
  });
export type AccessLogCursor = z.infer<typeof accessLogCursorSchema>;

export const accessLogPageSize = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const seoulDayStart = (day: string) => new Date(`${day}T00:00:00+09:00`);

/**
 * The WHERE clause of the filters within a scope: a manager's clinic is forced whatever the filter
 * says. Shared by the page and the access log's export, so both select the same rows.
 */
export function accessLogWhere(scope: Pick<AuditScope, 'clinicId'>, filters: Partial<AccessLogFilters>): SQL | undefined {
  const where: SQL[] = [];
  if (filters.from) where.push(gte(accessLog.occurredAt, seoulDayStart(filters.from)));
  if (filters.to) where.push(lt(accessLog.occurredAt, new Date(seoulDayStart(filters.to).getTime() + 86_400_000)));
  if (filters.account) {
    where.push(
      UUID.test(filters.account)
        ? eq(accessLog.accountId, filters.account)
        : sql`${accessLog.accountId} in (select ${users.id} from ${users} where lower(${users.email}) = ${filters.account.toLowerCase()})`,
    );
  }
  if (filters.patient) where.push(sql`${accessLog.patientIds} @> array[${filters.patient}]::text[]`);
  if (filters.action) where.push(eq(accessLog.action, filters.action));
  const clinic = scopedClinic(scope, filters.clinic);
  if (clinic) where.push(eq(accessLog.clinicId, clinic));
  return where.length ? and(...where) : undefined;
}

/**
 * The columns of an access-log entry its readers see, here and in its export (lib/queries/audit.ts):
 * all but the integrity chain (prev_hash, hash), which only the integrity check reads.
 */
export const accessLogEntryColumns = {
  id: accessLog.id,
  occurredAt: accessLog.occurredAt,
  accountId: accessLog.accountId,
  role: accessLog.role,
  clinicId: accessLog.clinicId,
  ip: accessLog.ip,
  userAgent: accessLog.userAgent,
  action: accessLog.action,
  resource: accessLog.resource,
  patientIds: accessLog.patientIds,
  reason: accessLog.reason,
  detail: accessLog.detail,
};

/** One access-log entry as read (the reader's account by id; IP and user agent as recorded). */
export type AccessLogEntry = Pick<typeof accessLog.$inferSelect, keyof typeof accessLogEntryColumns>;

export interface AccessLogRow extends AccessLogEntry {
  /** The cursor that continues after this row. */
  cursor: string;
  accountName: string | null;
  accountEmail: string | null;
}

/** One page of the log, newest first, after `cursor`; one row more is read to tell whether there is a next page. */
export async function readAccessLog(db: Db, scope: Pick<AuditScope, 'clinicId'>, filters: Partial<AccessLogFilters>, cursor: AccessLogCursor | null, pageSize = accessLogPageSize) {
  const where = accessLogWhere(scope, filters);
  const after = cursor ? sql`(${accessLog.occurredAt}, ${accessLog.id}) < (${cursor.at}::timestamptz, ${cursor.id})` : undefined;
  const rows = await db
    .select({ ...accessLogEntryColumns, exactAt: sql<string>`${accessLog.occurredAt}::text`, accountName: users.name, accountEmail: users.email })
    .from(accessLog)
    .leftJoin(users, eq(users.id, accessLog.accountId))
    .where(and(where, after))
    .orderBy(desc(accessLog.occurredAt), desc(accessLog.id))
    .limit(pageSize + 1);
  const page: AccessLogRow[] = rows.slice(0, pageSize).map(({ exactAt, ...r }) => ({ ...r, cursor: `${r.id}~${exactAt}` }));
  return { rows: page, next: rows.length > pageSize ? page.at(-1)!.cursor : null };
}

/**
 * The /audit/access page's data: auditors (every clinic) and clinic managers (their clinic only);
 * everyone else 403. The read is recorded in the access log before the rows are returned, naming the
 * patients the page shows.
 */
export async function accessLogPage(filters: Partial<AccessLogFilters>, cursor: AccessLogCursor | null) {
  const scope = await requireAuditScope('/audit/access');
  const database = appDb();
  const page = await readAccessLog(database, scope, filters, cursor);
  await recordPersonalDataAccess(
    {
      user: scope.user,
      action: 'view',
      resource: 'access-log',
      patientIds: page.rows.flatMap((r) => r.patientIds),
      clinicId: scope.clinicId,
      detail: { rows: page.rows.length, filters: Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)), ...(cursor ? { after: cursor.id } : {}) },
    },
    database,
  );
  return { ...page, scope: { clinicId: scope.clinicId } };
}
