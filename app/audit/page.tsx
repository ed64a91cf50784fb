import type { Metadata } from 'next';
import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { auditFiltersSchema, auditRoles, auditTrail, recentSecurityEvents, type AuditFilters } from '@/lib/queries/audit';
import { STREAM_KINDS } from '@/lib/domain';
import { Table } from '../components/table';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('audit'))('title') };
}

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

function queryString(filters: AuditFilters, change: Partial<AuditFilters>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...change })) if (v !== undefined && v !== '' && !(k === 'page' && v === 1)) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

export default async function AuditPage({ searchParams }: { searchParams: SearchParams }) {
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = auditFiltersSchema.safeParse(raw);
  const filters: AuditFilters = parsed.success ? parsed.data : auditFiltersSchema.parse({});
  const [trail, securityEvents, t, locale] = await Promise.all([
    auditTrail(filters),
    recentSecurityEvents(),
    getTranslations('audit'),
    getLocale() as Promise<Locale>,
  ]);
  const field = 'flex flex-col gap-1 text-sm';
  const input = 'rounded border border-stone-300 bg-white px-2 py-1';
  return (
    <section className="flex flex-col gap-8">
      <h1 className="text-2xl font-bold">{t('title')}</h1>

      <section aria-labelledby="trail">
        <h2 id="trail" className="text-lg font-semibold">{t('trail')}</h2>
        <p className="text-sm text-stone-600">{t('trailIntro')}</p>
        {!parsed.success && (
          <p role="alert" className="mt-2 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm" data-testid="filter-error">
            {t('invalidFilters')}
          </p>
        )}
        <form method="get" className="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-4" aria-label={t('filters')}>
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
                <option key={r} value={r}>{r}</option>
              ))}
            </select>
          </label>
          <label className={field}>
            {t('clinic')}
            <input name="clinic" defaultValue={filters.clinic} className={input} />
          </label>
          <label className={field}>
            {t('patient')}
            <input name="patient" defaultValue={filters.patient} className={input} />
          </label>
          <label className={field}>
            {t('entity')}
            <select name="entity" defaultValue={filters.entity ?? ''} className={input}>
              <option value="">{t('any')}</option>
              {STREAM_KINDS.map((k) => (
                <option key={k} value={k}>{k}</option>
              ))}
            </select>
          </label>
          <label className={field}>
            {t('eventType')}
            <input name="type" defaultValue={filters.type} className={input} />
          </label>
          <label className={`${field} col-span-2`}>
            {t('correlation')}
            <input name="correlation" defaultValue={filters.correlation} className={`${input} font-mono`} />
          </label>
          <div className="col-span-2 flex items-end gap-2">
            <button type="submit" className="rounded bg-brand-600 px-4 py-1.5 text-white hover:bg-brand-700">{t('apply')}</button>
            <Link href="/audit" className="rounded border border-stone-300 px-4 py-1.5 hover:bg-stone-100">{t('clear')}</Link>
          </div>
        </form>

        {trail.rows.length === 0 ? (
          <p className="mt-4">{t('noEvents')}</p>
        ) : (
          <div className="mt-4">
            <Table
              caption={t('trail')}
              rows={trail.rows}
              rowKey={(e) => e.eventId}
              columns={[
                { header: t('time'), cell: (e) => formatSeoulDateTime(e.occurredAt, locale), className: 'whitespace-nowrap tabular-nums' },
                {
                  header: t('eventType'),
                  rowHeader: true,
                  className: 'font-mono font-normal',
                  cell: (e) => (
                    <>
                      {e.eventType} <span className="text-stone-500">v{e.schemaVersion}</span>
                    </>
                  ),
                },
                { header: t('entity'), cell: (e) => <Link href={`/audit/${encodeURIComponent(e.streamId)}#rev-${e.revision}`} className="text-brand-700 underline">{`${e.streamId}@${e.revision}`}</Link>, className: 'font-mono text-xs' },
                {
                  header: t('actor'),
                  cell: (e) => (
                    <>
                      <span className="font-mono text-xs">{e.actorId}</span> <span className="text-stone-500">({e.actorRole})</span>
                    </>
                  ),
                },
                { header: t('summary'), cell: (e) => e.summary, className: 'max-w-md break-words font-mono text-xs' },
                {
                  header: t('correlation'),
                  cell: (e) =>
                    e.correlationId && (
                      <Link href={`/audit${queryString(auditFiltersSchema.parse({}), { correlation: e.correlationId })}`} className="font-mono text-xs text-brand-700 underline">
                        {t('followCorrelation')}
                      </Link>
                    ),
                },
              ]}
            />
          </div>
        )}
        <nav aria-label={t('pages')} className="mt-3 flex gap-3 text-sm">
          {filters.page > 1 && <Link href={`/audit${queryString(filters, { page: filters.page - 1 })}`} className="underline">{t('newer')}</Link>}
          {trail.hasMore && <Link href={`/audit${queryString(filters, { page: filters.page + 1 })}`} className="underline">{t('older')}</Link>}
        </nav>
      </section>

      <section aria-labelledby="security">
        <h2 id="security" className="text-lg font-semibold">{t('securityEvents')}</h2>
        <p className="text-sm text-stone-600">{t('intro')}</p>
        {securityEvents.length === 0 ? (
          <p className="mt-4">{t('none')}</p>
        ) : (
          <div className="mt-4">
            <Table
              caption={t('securityEvents')}
              rows={securityEvents}
              rowKey={(e) => String(e.id)}
              columns={[
                { header: t('time'), cell: (e) => formatSeoulDateTime(e.occurredAt, locale), className: 'whitespace-nowrap tabular-nums' },
                { header: t('type'), cell: (e) => t(`types.${e.type}`) },
                { header: t('account'), cell: (e) => e.email ?? '—' },
                { header: t('ip'), cell: (e) => e.ip, className: 'tabular-nums' },
                { header: t('detail'), cell: (e) => (e.detail ? JSON.stringify(e.detail) : ''), className: 'font-mono text-xs' },
              ]}
            />
          </div>
        )}
      </section>
    </section>
  );
}
