import type { Metadata } from 'next';
import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { auditFiltersSchema, auditRoles, auditTrail, businessEventTypes, trailEventTypes, type AuditFilters, type TrailRow } from '@/lib/queries/audit';
import { STREAM_KINDS } from '@/lib/domain';
import { Table } from '../components/table';
import { AuditTabs } from './audit-tabs';
import { PatientCell } from './name-reveal';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('audit'))('title') };
}

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** The filter fields (everything but the page cursors), as they are in the URL. */
const filterKeys = ['from', 'to', 'actor', 'role', 'clinic', 'patient', 'entity', 'type', 'correlation', 'q'] as const;

function filterParams(raw: Record<string, string | undefined>, change: Record<string, string | undefined> = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const k of filterKeys) {
    const v = k in change ? change[k] : raw[k];
    if (v) params.set(k, v);
  }
  for (const k of ['before', 'after'] as const) if (change[k]) params.set(k, change[k]!);
  return params;
}
const href = (params: URLSearchParams) => (params.size ? `/audit?${params}` : '/audit');

export default async function AuditPage({ searchParams }: { searchParams: SearchParams }) {
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = auditFiltersSchema.safeParse(raw);
  const filters: AuditFilters = parsed.success ? parsed.data : auditFiltersSchema.parse({});
  // What the form shows and the links keep: the applied filters (none when they were invalid).
  const applied: Record<string, string | undefined> = parsed.success ? raw : {};
  const [trail, t, locale] = await Promise.all([auditTrail(filters), getTranslations('audit'), getLocale() as Promise<Locale>]);
  const field = 'flex flex-col gap-1 text-sm';
  const input = 'rounded border border-stone-300 bg-white px-2 py-1';
  const action = (type: string) => (t.has(`actions.${type}`) ? t(`actions.${type}` as never) : type);
  return (
    <section className="flex flex-col gap-6">
      <div className="flex flex-col gap-2">
        <h1 className="text-2xl font-bold">{t('title')}</h1>
        <AuditTabs current="trail" />
        <p className="text-sm text-stone-600">{t('trailIntro')}</p>
      </div>
      {!parsed.success && (
        <p role="alert" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm" data-testid="filter-error">
          {t('invalidFilters')}
        </p>
      )}
      <form method="get" className="grid grid-cols-2 gap-3 sm:grid-cols-4" aria-label={t('filters')}>
        <label className={field}>
          {t('from')}
          <input type="date" name="from" defaultValue={filters.from} className={input} />
        </label>
        <label className={field}>
          {t('to')}
          <input type="date" name="to" defaultValue={filters.to} className={input} />
        </label>
        <label className={field}>
          {t('actor')}
          <input name="actor" defaultValue={filters.actor} className={input} />
        </label>
        <label className={field}>
          {t('role')}
          <select name="role" defaultValue={filters.role ?? ''} className={input}>
            <option value="">{t('any')}</option>
            {auditRoles.map((r) => (
              <option key={r} value={r}>{t(`roles.${r}`)}</option>
            ))}
          </select>
        </label>
        <label className={field}>
          {t('clinic')}
          <input name="clinic" defaultValue={filters.clinic} className={input} />
        </label>
        <label className={field}>
          {t('patient')}
          <input name="patient" defaultValue={filters.patient} className={`${input} font-mono`} />
        </label>
        <label className={field}>
          {t('entity')}
          <select name="entity" defaultValue={filters.entity ?? ''} className={input}>
            <option value="">{t('any')}</option>
            {STREAM_KINDS.map((k) => (
              <option key={k} value={k}>{t(`entityKinds.${k}`)}</option>
            ))}
          </select>
        </label>
        <label className={field}>
          {t('eventType')}
          <select name="type" defaultValue={filters.type ?? ''} className={input}>
            <option value="">{t('any')}</option>
            <optgroup label={t('businessEvents')}>
              {businessEventTypes.map((type) => (
                <option key={type} value={type}>{action(type)}</option>
              ))}
            </optgroup>
            <optgroup label={t('securityEvents')}>
              {trailEventTypes.slice(businessEventTypes.length).map((type) => (
                <option key={type} value={type}>{action(type)}</option>
              ))}
            </optgroup>
          </select>
        </label>
        <label className={`${field} col-span-2`}>
          {t('correlation')}
          <input name="correlation" defaultValue={filters.correlation} className={`${input} font-mono`} />
        </label>
        <label className={`${field} col-span-2`}>
          {t('freeText')}
          <input type="search" name="q" defaultValue={filters.q} className={input} />
        </label>
        <div className="col-span-2 flex items-end gap-2 sm:col-span-4">
          <button type="submit" className="rounded bg-brand-600 px-4 py-1.5 text-white hover:bg-brand-700">{t('apply')}</button>
          <Link href="/audit" className="rounded border border-stone-300 px-4 py-1.5 hover:bg-stone-100">{t('clear')}</Link>
        </div>
      </form>

      <section aria-labelledby="export" className="rounded border border-stone-200 bg-white p-3 text-sm">
        <h2 id="export" className="font-medium">{t('export')}</h2>
        <form method="post" action="/audit/export" className="mt-2 flex flex-wrap items-end gap-3" aria-label={t('export')}>
          <p className="basis-full text-stone-600">{t('exportIntro')}</p>
          {raw.exportError === 'reason' && (
            <p role="alert" className="basis-full text-red-800" data-testid="export-error">{t('exportReasonRequired')}</p>
          )}
          <input type="hidden" name="log" value="trail" />
          {[...filterParams(applied)].map(([k, v]) => (
            <input key={k} type="hidden" name={k} value={v} />
          ))}
          <label className={`${field} min-w-0 flex-1 basis-64`}>
            {t('exportReason')}
            <input name="reason" required minLength={3} maxLength={500} className={input} />
          </label>
          <fieldset className="flex items-center gap-4 pb-1.5">
            <legend className="sr-only">{t('exportFormat')}</legend>
            <label className="flex items-center gap-1">
              <input type="radio" name="format" value="csv" defaultChecked /> CSV
            </label>
            <label className="flex items-center gap-1">
              <input type="radio" name="format" value="json" /> JSON
            </label>
          </fieldset>
          <button type="submit" className="rounded border border-stone-300 px-4 py-1.5 hover:bg-stone-100">{t('exportSubmit')}</button>
        </form>
      </section>

      {trail.rows.length === 0 ? (
        <p>{t('noEvents')}</p>
      ) : (
        <Table
          caption={t('trail')}
          rows={trail.rows}
          rowKey={(e) => e.key}
          minWidth="64rem"
          rowProps={(e) => ({ 'data-source': e.source })}
          columns={[
            { header: t('time'), cell: (e) => formatSeoulDateTime(e.occurredAt, locale), className: 'whitespace-nowrap tabular-nums' },
            {
              header: t('action'),
              rowHeader: true,
              className: 'font-normal',
              cell: (e) => (
                <span className="flex flex-col">
                  <span className="font-medium">{action(e.type)}</span>
                  <span className="font-mono text-xs text-stone-500">
                    {e.type}
                    {e.schemaVersion !== null ? ` v${e.schemaVersion}` : ''}
                  </span>
                </span>
              ),
            },
            { header: t('actor'), cell: (e) => <Actor row={e} label={e.actorRole ? (t.has(`roles.${e.actorRole}`) ? t(`roles.${e.actorRole}` as never) : e.actorRole) : null} /> },
            { header: t('clinic'), cell: (e) => e.clinicId ?? '—', className: 'text-xs' },
            { header: t('patient'), cell: (e) => (e.patientId ? <PatientCell patientId={e.patientId} /> : '—') },
            {
              header: t('entity'),
              cell: (e) =>
                e.streamId ? (
                  <Link href={`/audit/${encodeURIComponent(e.streamId)}#rev-${e.revision}`} className="font-mono text-brand-700 underline">{`${e.streamId}@${e.revision}`}</Link>
                ) : (
                  '—'
                ),
              className: 'text-xs break-all',
            },
            { header: t('summary'), cell: (e) => <span className="text-xs">{e.summary}</span>, className: 'max-w-sm break-all' },
            {
              header: t('correlation'),
              cell: (e) =>
                e.correlationId && (
                  <Link href={href(new URLSearchParams({ correlation: e.correlationId }))} className="font-mono text-xs text-brand-700 underline" title={e.correlationId}>
                    {t('followCorrelation')}
                  </Link>
                ),
            },
          ]}
        />
      )}
      <nav aria-label={t('pages')} className="flex gap-3 text-sm">
        {(filters.before || filters.after) && <Link href={href(filterParams(applied))} className="underline">{t('newest')}</Link>}
        {trail.newer && <Link href={href(filterParams(applied, { after: trail.newer }))} className="underline">{t('newer')}</Link>}
        {trail.older && <Link href={href(filterParams(applied, { before: trail.older }))} className="underline">{t('older')}</Link>}
      </nav>
    </section>
  );
}

function Actor({ row, label }: { row: TrailRow; label: string | null }) {
  return (
    <span className="flex flex-col">
      <span className="font-mono text-xs break-all">{row.actorId ?? '—'}</span>
      {label && <span className="text-xs text-stone-500">{label}</span>}
    </span>
  );
}
