/**
 * The audit trail's queries (issue 10 items 1, 5, 6): the audit-log read model (business events)
 * merged with security_events (sign-ins, refusals, exports, …), newest first, filtered, in keyset
 * pages (no OFFSET: a page is an index range scan that stops after one page), also for an export,
 * which reads the whole filtered trail page after page. lib/queries/audit.ts is the entry point (it checks the
 * caller); these take the database and a scope.
 *
 * Order: (occurred_at, source, k1, k2) descending, where source 0 = event (k1, k2 = its log
 * position), 1 = security event (k1 = its id). The cursor is that tuple; occurred_at travels as the
 * database's own text so microseconds survive the round trip.
 */
import type postgres from 'postgres';
import { z } from 'zod';
import { roles, securityEventTypes } from '../../../db/schema';
import { EVENT_VERSIONS, STREAM_KINDS, type StreamKind } from '../../../domain';

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

/** The actor roles the trail records (the account roles, plus the system's own). */
export const auditRoles = [...roles, 'system'] as const;

/** Every business event type (from the domain's catalogue), then every security event type. */
export const businessEventTypes = Object.values(EVENT_VERSIONS).flatMap((versions) => Object.keys(versions)).sort();
export const trailEventTypes = [...businessEventTypes, ...securityEventTypes] as const;

const cursorTuple = z.tuple([z.string().min(1).max(64), z.union([z.literal(0), z.literal(1)]), z.string().regex(/^\d{1,20}$/), z.string().regex(/^\d{1,20}$/)]);
export type TrailCursor = z.infer<typeof cursorTuple>;

export function encodeCursor(c: TrailCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(v: string): TrailCursor | null {
  try {
    const parsed = cursorTuple.safeParse(JSON.parse(Buffer.from(v, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const optionalCursor = z
  .string()
  .max(400)
  .optional()
  .transform((v, ctx) => {
    if (!v) return undefined;
    const c = decodeCursor(v);
    if (!c) {
      ctx.addIssue({ code: 'custom', message: 'invalid cursor' });
      return z.NEVER;
    }
    return c;
  });

/** The trail's filters, as they come from the page's query string (or the export form). */
export const auditFiltersSchema = z.object({
  from: optionalDay,
  to: optionalDay,
  actor: optionalText,
  role: z.union([z.enum(auditRoles), z.literal('')]).optional().transform((v) => v || undefined),
  clinic: optionalText,
  patient: optionalText,
  entity: z.union([z.enum(STREAM_KINDS as [StreamKind, ...StreamKind[]]), z.literal('')]).optional().transform((v) => v || undefined),
  type: z.union([z.enum(trailEventTypes as unknown as [string, ...string[]]), z.literal('')]).optional().transform((v) => v || undefined),
  correlation: optionalText,
  /** Free text: part of the summary (business events) or of the type and detail (security events). */
  q: optionalText,
  /** Keyset: rows older than this cursor (the next page), or newer (the previous one). */
  before: optionalCursor,
  after: optionalCursor,
});
export type AuditFilters = z.infer<typeof auditFiltersSchema>;

/** What a trail query may see: null = every clinic (auditors); a clinic id = that clinic only (a manager). */
export interface TrailScope {
  clinicId: string | null;
}

export interface TrailRow {
  source: 'event' | 'security';
  /** Unique across both sources. */
  key: string;
  occurredAt: Date;
  actorId: string | null;
  actorRole: string | null;
  clinicId: string | null;
  patientId: string | null;
  streamId: string | null;
  revision: number | null;
  entityType: string | null;
  type: string;
  schemaVersion: number | null;
  summary: string;
  correlationId: string | null;
  cursor: string;
}

export const TRAIL_PAGE_SIZE = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// As ISO text: the app's driver (drizzle's postgres.js set-up) sends parameters as given, so no Date objects.
const seoulDayStart = (day: string) => new Date(`${day}T00:00:00+09:00`).toISOString();
const seoulDayEnd = (day: string) => new Date(Date.parse(`${day}T00:00:00+09:00`) + 86_400_000).toISOString();
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

type Fragment = postgres.PendingQuery<postgres.Row[]> | postgres.Fragment;

function and(sql: postgres.Sql, parts: Fragment[]): Fragment {
  if (parts.length === 0) return sql`true`;
  return parts.slice(1).reduce<Fragment>((acc, p) => sql`${acc} and ${p}`, parts[0]!);
}

/** The business-event side's conditions (rm_audit_log as e). */
function eventWhere(sql: postgres.Sql, scope: TrailScope, f: Partial<AuditFilters>, cursor: TrailCursor | undefined, dir: 'older' | 'newer'): Fragment {
  const w: Fragment[] = [];
  if (f.from) w.push(sql`e.occurred_at >= ${seoulDayStart(f.from)}::timestamptz`);
  if (f.to) w.push(sql`e.occurred_at < ${seoulDayEnd(f.to)}::timestamptz`);
  if (f.actor) w.push(sql`e.actor_id = ${f.actor}`);
  if (f.role) w.push(sql`e.actor_role = ${f.role}`);
  const clinic = scope.clinicId ?? f.clinic;
  if (clinic) w.push(sql`e.clinic_id = ${clinic}`);
  if (scope.clinicId && f.clinic && f.clinic !== scope.clinicId) w.push(sql`false`);
  if (f.patient) w.push(sql`e.patient_id = ${f.patient}`);
  if (f.entity) w.push(sql`e.entity_type = ${f.entity}`);
  if (f.type) w.push(businessEventTypes.includes(f.type) ? sql`e.event_type = ${f.type}` : sql`false`);
  if (f.correlation) w.push(sql`e.correlation_id = ${f.correlation}`);
  if (f.q) w.push(sql`e.summary ilike ${likePattern(f.q)}`);
  if (cursor) {
    const [at, source, k1, k2] = cursor;
    if (dir === 'older') w.push(source === 0 ? sql`(e.occurred_at, e.position_commit, e.position_prepare) < (${at}::timestamptz, ${k1}::bigint, ${k2}::bigint)` : sql`e.occurred_at <= ${at}::timestamptz`);
    else w.push(source === 0 ? sql`(e.occurred_at, e.position_commit, e.position_prepare) > (${at}::timestamptz, ${k1}::bigint, ${k2}::bigint)` : sql`e.occurred_at > ${at}::timestamptz`);
  }
  return and(sql, w);
}

/** The security-event side's conditions (security_events as s, its account as u). */
function securityWhere(sql: postgres.Sql, scope: TrailScope, f: Partial<AuditFilters>, cursor: TrailCursor | undefined, dir: 'older' | 'newer'): Fragment {
  const w: Fragment[] = [];
  // Security events belong to no entity and no conversation, and no system actor signs in.
  if (f.entity || f.correlation || f.role === 'system') return sql`false`;
  if (f.from) w.push(sql`s.occurred_at >= ${seoulDayStart(f.from)}::timestamptz`);
  if (f.to) w.push(sql`s.occurred_at < ${seoulDayEnd(f.to)}::timestamptz`);
  if (f.actor) w.push(UUID.test(f.actor) ? sql`s.user_id = ${f.actor}::uuid` : sql`false`);
  if (f.patient) w.push(UUID.test(f.patient) ? sql`s.user_id = ${f.patient}::uuid and u.role = 'patient'` : sql`false`);
  if (f.role) w.push(sql`coalesce(u.role, s.detail->>'role') = ${f.role}`);
  const clinic = scope.clinicId ?? f.clinic;
  if (clinic) w.push(sql`coalesce(s.detail->>'clinicId', u.clinic_id) = ${clinic}`);
  if (scope.clinicId && f.clinic && f.clinic !== scope.clinicId) w.push(sql`false`);
  if (f.type) w.push((securityEventTypes as readonly string[]).includes(f.type) ? sql`s.type = ${f.type}` : sql`false`);
  if (f.q) w.push(sql`(s.type ilike ${likePattern(f.q)} or s.detail::text ilike ${likePattern(f.q)})`);
  if (cursor) {
    const [at, source, k1] = cursor;
    if (dir === 'older') w.push(source === 1 ? sql`(s.occurred_at, s.id) < (${at}::timestamptz, ${k1}::bigint)` : sql`s.occurred_at < ${at}::timestamptz`);
    else w.push(source === 1 ? sql`(s.occurred_at, s.id) > (${at}::timestamptz, ${k1}::bigint)` : sql`s.occurred_at >= ${at}::timestamptz`);
  }
  return and(sql, w);
}

interface RawRow {
  source: 0 | 1;
  at_text: string;
  /** The instant in ms (the app's driver returns timestamps as text). */
  at_ms: number;
  occurred_at: unknown;
  k1: string;
  k2: string;
  key: string;
  actor_id: string | null;
  actor_role: string | null;
  clinic_id: string | null;
  patient_id: string | null;
  stream_id: string | null;
  revision: number | null;
  entity_type: string | null;
  type: string;
  schema_version: number | null;
  summary: string;
  correlation_id: string | null;
}

const eventColumns = (sql: postgres.Sql) => sql`
  0 as source, e.occurred_at::text as at_text, (extract(epoch from e.occurred_at) * 1000)::float8 as at_ms, e.occurred_at, e.position_commit::text as k1, e.position_prepare::text as k2,
  e.event_id as key, e.actor_id, e.actor_role, e.clinic_id, e.patient_id, e.stream_id, e.revision, e.entity_type,
  e.event_type as type, e.schema_version, e.summary, e.correlation_id`;

// The summary of a security event is its detail (small, non-personal facts: a reason, a role, a
// filter); the e-mail typed at sign-in is not shown (it may be a patient's).
const securityColumns = (sql: postgres.Sql) => sql`
  1 as source, s.occurred_at::text as at_text, (extract(epoch from s.occurred_at) * 1000)::float8 as at_ms, s.occurred_at, s.id::text as k1, '0' as k2,
  's-' || s.id as key, s.user_id::text as actor_id, coalesce(u.role, s.detail->>'role') as actor_role,
  coalesce(s.detail->>'clinicId', u.clinic_id) as clinic_id, case when u.role = 'patient' then s.user_id::text end as patient_id,
  null::text as stream_id, null::int as revision, null::text as entity_type, s.type, null::int as schema_version,
  coalesce(s.detail::text, '') as summary, null::text as correlation_id`;

function toExportRow(r: RawRow): TrailExportRow {
  return {
    source: r.source === 0 ? 'event' : 'security',
    key: r.key,
    occurredAt: new Date(Math.floor(Number(r.at_ms))),
    actorId: r.actor_id,
    actorRole: r.actor_role,
    clinicId: r.clinic_id,
    patientId: r.patient_id,
    streamId: r.stream_id,
    revision: r.revision,
    entityType: r.entity_type,
    type: r.type,
    schemaVersion: r.schema_version,
    summary: r.source === 1 ? securitySummary(r.summary) : r.summary,
    correlationId: r.correlation_id,
  };
}

function toRow(r: RawRow): TrailRow {
  return { ...toExportRow(r), cursor: encodeCursor([r.at_text, r.source, r.k1, r.k2]) };
}

function securitySummary(detail: string): string {
  if (!detail) return '';
  try {
    const d = JSON.parse(detail) as Record<string, unknown>;
    return Object.entries(d)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ')
      .slice(0, 500);
  } catch {
    return detail.slice(0, 500);
  }
}

export interface TrailPage {
  rows: TrailRow[];
  /** Cursors for the neighbouring pages; null when there is none (or, for newer, when this is the newest page). */
  older: string | null;
  newer: string | null;
}

/**
 * The raw rows of one page in the trail's order from `cursor` (exclusive) in direction `dir`: each
 * side takes its first `n` rows from its own index (its filters' index, in the trail's order), then
 * the two are merged — two short index range scans, whatever the log's size.
 */
function pageRows(sql: postgres.Sql, scope: TrailScope, filters: Partial<AuditFilters>, cursor: TrailCursor | undefined, dir: 'older' | 'newer', n: number): Promise<RawRow[]> {
  const order = dir === 'older' ? sql`desc` : sql`asc`;
  return sql<RawRow[]>`
    select * from (
      (select ${eventColumns(sql)} from rm_audit_log e
        where ${eventWhere(sql, scope, filters, cursor, dir)}
        order by e.occurred_at ${order}, e.position_commit ${order}, e.position_prepare ${order} limit ${n})
      union all
      (select ${securityColumns(sql)} from security_events s left join users u on u.id = s.user_id
        where ${securityWhere(sql, scope, filters, cursor, dir)}
        order by s.occurred_at ${order}, s.id ${order} limit ${n})
    ) t
    order by occurred_at ${order}, source ${order}, k1::bigint ${order}, k2::bigint ${order}
    limit ${n}`;
}

/** One page of the trail (keyset: its rows and its neighbours' cursors). */
export async function trailPageOf(sql: postgres.Sql, scope: TrailScope, filters: Partial<AuditFilters>, pageSize = TRAIL_PAGE_SIZE): Promise<TrailPage> {
  const dir = filters.after && !filters.before ? 'newer' : 'older';
  const cursor = dir === 'newer' ? filters.after : filters.before;
  const rows = await pageRows(sql, scope, filters, cursor, dir, pageSize + 1);
  const more = rows.length > pageSize;
  const page = rows.slice(0, pageSize).map(toRow);
  if (dir === 'newer') {
    // Reached the newest rows: show the newest page itself (a full page, no "newer" link).
    if (!more) return trailPageOf(sql, scope, { ...filters, before: undefined, after: undefined }, pageSize);
    page.reverse();
    return { rows: page, newer: page[0]!.cursor, older: page.at(-1)!.cursor };
  }
  return { rows: page, older: more ? page.at(-1)!.cursor : null, newer: cursor && page.length > 0 ? page[0]!.cursor : null };
}

/** A row of an export: a trail row without the page cursor (which an export does not need). */
export type TrailExportRow = Omit<TrailRow, 'cursor'>;

/**
 * Rows per page of an export. Each page is one short keyset query (pageRows) whose rows are parsed,
 * encoded and dropped before the next page is asked for; a smaller page keeps less garbage alive
 * across a young-generation collection (so less of it is promoted to the old generation, where it
 * stays until a full collection), a larger one costs fewer queries (docs/PERFORMANCE.md, audit trail).
 */
export const TRAIL_EXPORT_PAGE_SIZE = 250;

/**
 * The whole filtered trail in the trail's order, for an export, as keyset pages of `pageSize` rows:
 * a page is queried only when the consumer asks for it (the iterator's next()), so an export holds
 * one page at a time and a slow reader holds no database connection, snapshot or result between
 * pages (a cursor would keep a pool connection and its transaction open for the whole download).
 */
export function trailExportPagesOf(sql: postgres.Sql, scope: TrailScope, filters: Partial<AuditFilters>, pageSize = TRAIL_EXPORT_PAGE_SIZE): AsyncIterable<TrailExportRow[]> {
  const f = { ...filters, before: undefined, after: undefined };
  return {
    async *[Symbol.asyncIterator]() {
      let cursor: TrailCursor | undefined;
      for (;;) {
        const raw = await pageRows(sql, scope, f, cursor, 'older', pageSize);
        if (raw.length === 0) return;
        const last = raw.at(-1)!;
        cursor = [last.at_text, last.source, last.k1, last.k2];
        const more = raw.length === pageSize;
        yield raw.map(toExportRow);
        if (!more) return;
      }
    },
  };
}
