import type { Metadata } from 'next';
import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { accessLogActions } from '@/lib/db/schema';
import { accessLogCursorSchema, accessLogFiltersSchema, accessLogPage, type AccessLogFilters, type AccessLogRow } from '@/lib/queries/access-log';
import { Table } from '../../components/table';
import { AuditTabs } from '../audit-tabs';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('accessLog'))('title') };
}

type SearchParams = Promise<Record<string, string | string[] | undefined>>;
const filterKeys = ['from', 'to', 'account', 'patient', 'action', 'clinic'] as const;
/** Patients listed per entry before "+N more" (a board render names every patient on it). */
const PATIENTS_SHOWN = 3;

function href(filters: AccessLogFilters, change: Partial<Record<(typeof filterKeys)[number] | 'after', string>> = {}): string {
  const params = new URLSearchParams();
  for (const k of filterKeys) {
    const v = k in change ? change[k] : filters[k];
    if (v) params.set(k, v);
  }
  if (change.after) params.set('after', change.after);
  return params.size ? `/audit/access?${params}` : '/audit/access';
}

export default async function AccessLogPage({ searchParams }: { searchParams: SearchParams }) {
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = accessLogFiltersSchema.safeParse(raw);
  const filters: AccessLogFilters = parsed.success ? parsed.data : accessLogFiltersSchema.parse({});
  const cursor = raw.after ? accessLogCursorSchema.safeParse(raw.after) : null;
  const [page, t, locale] = await Promise.all([accessLogPage(filters, cursor?.success ? cursor.data : null), getTranslations('accessLog'), getLocale() as Promise<Locale>]);
  const manager = page.scope.clinicId;
  const field = 'flex flex-col gap-1 text-sm';
  const input = 'rounded border border-stone-300 bg-white px-2 py-1';
  const resource = (r: string) => (t.has(`resources.${r}`) ? t(`resources.${r}` as never) : r);
  const role = (r: string) => (t.has(`roles.${r}`) ? t(`roles.${r}` as never) : r);

  return (
    <section className="flex flex-col gap-6">
      <div className="flex flex-col gap-3">
        <h1 className="text-2xl font-bold">{t('title')}</h1>
        <AuditTabs current="access" />
        <p className="text-sm text-stone-600">{t('intro')}</p>
        {manager && (
          <p className="rounded border border-brand-100 bg-brand-50 px-3 py-2 text-sm text-brand-800" data-testid="manager-scope">
            {t('managerScope', { clinic: manager })}
          </p>
        )}
      </div>

      {(!parsed.success || cursor?.success === false) && (
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
          {t('action')}
          <select name="action" defaultValue={filters.action ?? ''} className={input}>
            <option value="">{t('any')}</option>
            {accessLogActions.map((a) => (
              <option key={a} value={a}>
                {t(`actions.${a}`)}
              </option>
            ))}
          </select>
        </label>
        {/* A manager's clinic is fixed by the server; the field is not offered. */}
        {!manager && (
          <label className={field}>
            {t('clinic')}
            <input name="clinic" defaultValue={filters.clinic} className={input} />
          </label>
        )}
        <label className={`${field} col-span-2`}>
          {t('account')}
          <input name="account" defaultValue={filters.account} className={`${input} font-mono`} />
        </label>
        <label className={`${field} col-span-2`}>
          {t('patient')}
          <input name="patient" defaultValue={filters.patient} className={`${input} font-mono`} />
        </label>
        <div className="col-span-2 flex items-end gap-2 sm:col-span-4">
          <button type="submit" className="rounded bg-brand-600 px-4 py-1.5 text-white hover:bg-brand-700">
            {t('apply')}
          </button>
          <Link href="/audit/access" className="rounded border border-stone-300 px-4 py-1.5 hover:bg-stone-100">
            {t('clear')}
          </Link>
        </div>
      </form>

      <Table<AccessLogRow>
        caption={t('caption')}
        rows={page.rows}
        rowKey={(r) => String(r.id)}
        testId="access-log"
        minWidth="56rem"
        empty={<p data-testid="access-log-empty">{t('none')}</p>}
        rowProps={(r) => ({ 'data-resource': r.resource, 'data-action': r.action, 'data-clinic': r.clinicId ?? '' })}
        columns={[
          { header: t('time'), cell: (r) => formatSeoulDateTime(r.occurredAt, locale), className: 'whitespace-nowrap tabular-nums' },
          {
            header: t('who'),
            rowHeader: true,
            className: 'font-normal',
            cell: (r) => (
              <div className="flex flex-col">
                <span className="font-medium">{r.accountName || t('unknownAccount')}</span>
                <span className="text-xs text-stone-500">
                  {r.accountEmail ?? r.accountId} · {role(r.role)}
                  {r.clinicId ? ` · ${r.clinicId}` : ''}
                </span>
              </div>
            ),
          },
          {
            header: t('whatRead'),
            cell: (r) => (
              <div className="flex flex-col">
                <span>{t(`actions.${r.action as (typeof accessLogActions)[number]}`)}</span>
                <span className="text-xs text-stone-500">{resource(r.resource)}</span>
              </div>
            ),
          },
          {
            header: t('whose'),
            cell: (r) =>
              r.patientIds.length === 0 ? (
                t('nobody')
              ) : (
                <div className="flex flex-col gap-0.5 font-mono text-xs">
                  {r.patientIds.slice(0, PATIENTS_SHOWN).map((p) => (
                    <Link key={p} href={href(filters, { patient: p })} className="text-brand-700 underline">
                      {p.length > 13 ? `${p.slice(0, 8)}…` : p}
                    </Link>
                  ))}
                  {r.patientIds.length > PATIENTS_SHOWN && <span className="text-stone-500">{t('morePatients', { count: r.patientIds.length - PATIENTS_SHOWN })}</span>}
                </div>
              ),
          },
          { header: t('reason'), cell: (r) => r.reason ?? '', className: 'max-w-xs break-words' },
          { header: t('from_ip'), cell: (r) => r.ip ?? '', className: 'tabular-nums text-xs' },
        ]}
      />
      <nav aria-label={t('pages')} className="flex gap-3 text-sm">
        {raw.after && (
          <Link href={href(filters)} className="underline">
            {t('newest')}
          </Link>
        )}
        {page.next && (
          <Link href={href(filters, { after: page.next })} className="underline" data-testid="access-log-older">
            {t('older')}
          </Link>
        )}
      </nav>

      <section aria-labelledby="access-export" className="flex flex-col gap-2 rounded-lg border border-stone-200 bg-white p-4">
        <h2 id="access-export" className="text-lg font-semibold">
          {t('export')}
        </h2>
        <p className="text-sm text-stone-600">{t('exportIntro')}</p>
        {/* A plain POST to the streamed export (app/audit/export/route.ts), with this view's filters. */}
        <form method="post" action="/audit/export" className="flex flex-wrap items-end gap-3">
          <input type="hidden" name="log" value="access" />
          {filterKeys.map((k) => (filters[k] ? <input key={k} type="hidden" name={k} value={filters[k]} /> : null))}
          <label className={`${field} min-w-64 flex-1`}>
            {t('exportReason')}
            <input name="reason" required minLength={1} maxLength={500} className={input} />
          </label>
          <label className={field}>
            {t('exportFormat')}
            <select name="format" defaultValue="csv" className={input}>
              <option value="csv">CSV</option>
              <option value="json">JSON</option>
            </select>
          </label>
          <button type="submit" className="rounded border border-stone-300 bg-white px-4 py-1.5 hover:bg-stone-50">
            {t('exportSubmit')}
          </button>
        </form>
      </section>
    </section>
  );
}
