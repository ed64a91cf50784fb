/**
 * Export of the audit trail or the access log (issue 10 item 5): CSV or JSON of the current filter,
 * streamed a page at a time (the trail: keyset pages; the access log: a database cursor), each read
 * only when the client is ready for it, never the whole result. A plain form POST from /audit
 * (log=trail) or /audit/access (log=access) with the page's filters as fields, a format and a
 * required reason. Before the first row the export is recorded in the access log (action 'export',
 * the reason) and as a security event 'export' (so it appears in the trail). Auditors (and, with
 * their scope, clinic managers) only.
 *
 * POST only (a cross-site form cannot send the SameSite=Lax session cookie with a POST).
 */
import { NextResponse } from 'next/server';
import { z } from 'zod';
import { auditScopeOf } from '@/lib/auth/audit-scope';
import { currentUser } from '@/lib/auth/guard';
import { recordRefusal } from '@/lib/auth/refusals';
import { accessLogFiltersSchema, type AccessLogEntry } from '@/lib/queries/access-log';
import { accessLogExport, auditFiltersSchema, auditTrailExport, type TrailExportRow } from '@/lib/queries/audit';
import { requestOrigin } from '@/lib/runtime/request-origin';
import { streamOf } from './stream';

export const dynamic = 'force-dynamic';

const requestSchema = z.object({
  log: z.enum(['trail', 'access']),
  format: z.enum(['csv', 'json']),
  reason: z.string().trim().max(500).optional().default(''),
});

const KST = 9 * 60 * 60 * 1000;
/** An instant as Seoul wall-clock ISO 8601 with its offset (what an auditor reads; still exact). */
const kst = (d: Date) => `${new Date(d.getTime() + KST).toISOString().slice(0, 23)}+09:00`;

const trailColumns = ['occurred_at_kst', 'source', 'type', 'actor_id', 'actor_role', 'clinic_id', 'patient_id', 'stream_id', 'revision', 'summary', 'correlation_id'] as const;
const trailRecord = (r: TrailExportRow) => ({
  occurred_at_kst: kst(r.occurredAt),
  source: r.source,
  type: r.type,
  actor_id: r.actorId,
  actor_role: r.actorRole,
  clinic_id: r.clinicId,
  patient_id: r.patientId,
  stream_id: r.streamId,
  revision: r.revision,
  summary: r.summary,
  correlation_id: r.correlationId,
});
const accessColumns = ['id', 'occurred_at_kst', 'account_id', 'role', 'clinic_id', 'ip', 'user_agent', 'action', 'resource', 'patient_ids', 'reason', 'detail'] as const;
const accessRecord = (r: AccessLogEntry) => ({
  id: r.id,
  occurred_at_kst: kst(r.occurredAt),
  account_id: r.accountId,
  role: r.role,
  clinic_id: r.clinicId,
  ip: r.ip,
  user_agent: r.userAgent,
  action: r.action,
  resource: r.resource,
  patient_ids: r.patientIds,
  reason: r.reason,
  detail: r.detail,
});

export async function POST(request: Request) {
  const user = await currentUser();
  if (!user) return NextResponse.json({ error: 'unauthenticated' }, { status: 401 });
  if (!auditScopeOf(user)) {
    await recordRefusal(user, { at: '/audit/export' });
    return NextResponse.json({ error: 'forbidden' }, { status: 403 });
  }
  const form = Object.fromEntries([...(await request.formData()).entries()].filter((e): e is [string, string] => typeof e[1] === 'string'));
  const parsed = requestSchema.safeParse(form);
  if (!parsed.success) return NextResponse.json({ error: 'invalid export request' }, { status: 400 });
  const { log, format, reason } = parsed.data;
  const filters = log === 'trail' ? auditFiltersSchema.safeParse(form) : accessLogFiltersSchema.safeParse(form);
  if (!filters.success) return NextResponse.json({ error: 'invalid filters' }, { status: 400 });
  const page = log === 'trail' ? '/audit' : '/audit/access';
  if (reason.length < 3) {
    // Back to the page with its filters, where the form says why.
    const back = new URLSearchParams(Object.entries(form).filter(([k, v]) => v && !['log', 'format', 'reason', 'before', 'after'].includes(k)));
    back.set('exportError', 'reason');
    return NextResponse.redirect(new URL(`${page}?${back}`, request.url), 303);
  }
  const origin = requestOrigin(request.headers);
  const stamp = kst(new Date()).slice(0, 16).replace(/[-:]/g, '');
  const filename = `yeyak-${log === 'trail' ? 'audit-trail' : 'access-log'}-${stamp}.${format}`;
  const headers = {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
    'content-disposition': `attachment; filename="${filename}"`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
  const request_ = { format, reason, origin, fields: form };
  if (log === 'trail') {
    const { rows } = await auditTrailExport(filters.data as z.infer<typeof auditFiltersSchema>, request_);
    return new Response(streamOf(rows, format, trailColumns, trailRecord), { headers });
  }
  const { rows } = await accessLogExport(filters.data as z.infer<typeof accessLogFiltersSchema>, request_);
  return new Response(streamOf(rows, format, accessColumns, accessRecord), { headers });
}
