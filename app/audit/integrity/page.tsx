import type { Metadata } from 'next';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { integrityPage } from '@/lib/queries/integrity';
import { Table } from '../../components/table';
import { AuditTabs } from '../audit-tabs';
import { IntegrityRunner } from './integrity-runner';
import { SealNowForm } from './seal-now-form';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('integrity'))('title') };
}

/** /audit/integrity (issue 10 item 3): run the hash-chain checks, seal the log, download seals. */
export default async function IntegrityPage() {
  const [data, t, locale] = await Promise.all([integrityPage(), getTranslations('integrity'), getLocale() as Promise<Locale>]);
  return (
    <section className="flex flex-col gap-8">
      <AuditTabs current="integrity" />
      <header className="flex flex-col gap-1">
        <h1 className="text-2xl font-bold">{t('title')}</h1>
        <p className="text-sm text-stone-600">{t('intro')}</p>
      </header>

      <IntegrityRunner clinics={data.clinics.map((c) => ({ id: c.id, name: locale === 'ko' ? c.nameKo : c.nameEn }))} clinicScope={data.clinicScope} />

      {data.clinicScope === null && (
        <section aria-labelledby="seals" className="flex flex-col gap-3">
          <h2 id="seals" className="text-lg font-semibold">{t('seals')}</h2>
          <p className="text-sm text-stone-600">{t('sealsIntro')}</p>
          {data.sealKey ? (
            <details className="rounded border border-stone-200 bg-white p-3 text-sm" data-testid="seal-key">
              <summary className="cursor-pointer">
                {t('publicKey')}: <code className="break-all">{data.sealKey.keyId}</code>
              </summary>
              <pre className="mt-2 overflow-x-auto whitespace-pre-wrap break-all text-xs">{data.sealKey.publicKeyPem}</pre>
            </details>
          ) : (
            <p role="alert" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm">{t('noSealKey')}</p>
          )}
          {data.sealKey && <SealNowForm />}
          <Table
            caption={t('seals')}
            testId="seals"
            minWidth="36rem"
            rows={data.seals}
            rowKey={(s) => String(s.id)}
            empty={<p className="text-sm text-stone-600">{t('noSeals')}</p>}
            columns={[
              { header: t('sealId'), cell: (s) => `#${s.id}`, rowHeader: true },
              { header: t('issuedAt'), cell: (s) => formatSeoulDateTime(s.issuedAt, locale) },
              { header: t('events'), cell: (s) => s.eventCount.toLocaleString(locale), align: 'end' },
              { header: t('accessEntries'), cell: (s) => s.accessLogCount.toLocaleString(locale), align: 'end' },
              { header: t('issuedBy'), cell: (s) => (s.issuedBy === 'schedule' ? t('bySchedule') : <code className="text-xs">{s.issuedBy.slice(0, 8)}</code>) },
              {
                header: t('download'),
                hideHeader: true,
                cell: (s) => (
                  <a className="text-brand-700 underline" href={`/audit/integrity/seals/${s.id}`} download data-testid="seal-download">
                    {t('download')}
                  </a>
                ),
              },
            ]}
          />
        </section>
      )}
    </section>
  );
}
