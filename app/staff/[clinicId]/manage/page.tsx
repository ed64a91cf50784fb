import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { vatPortion } from '@/lib/domain';
import { formatKrw } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { managedClinic, type ManagedTreatment } from '@/lib/queries/manage';
import { Table } from '../../../components/table';
import { ManageHeader } from './manage-header';

export const metadata: Metadata = { title: 'Clinic' };

/**
 * Running the clinic, first section (`/staff/<clinicId>/manage`): the listed treatments with their
 * VAT-inclusive price, deposit, durations, booking kinds and mode, and tax category; add one, or open
 * one to change it. For the clinic's managers only (403 for other staff).
 */
export default async function ManageTreatmentsPage({ params, searchParams }: { params: Promise<{ clinicId: string }>; searchParams: Promise<{ added?: string; unlisted?: string }> }) {
  const [{ clinicId }, { added, unlisted }] = await Promise.all([params, searchParams]);
  const data = await managedClinic(clinicId);
  if (!data) notFound();
  const [t, locale] = await Promise.all([getTranslations('manage'), getLocale() as Promise<Locale>]);
  const { state, treatments } = data;
  const clinicName = locale === 'ko' ? state.name : (state.profile?.nameEn ?? state.name);
  const krw = (n: number) => formatKrw(n, locale);
  const name = (tr: ManagedTreatment) => (locale === 'en' && tr.nameEn ? tr.nameEn : tr.name);
  const addedTreatment = typeof added === 'string' ? state.treatments[added] : undefined;
  const unlistedTreatment = typeof unlisted === 'string' ? state.treatments[unlisted] : undefined;

  return (
    <section className="flex flex-col gap-6">
      <ManageHeader clinicId={clinicId} clinicName={clinicName} current="treatments" />

      {addedTreatment ? (
        <p role="status" data-testid="form-ok" className="rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {t('treatments.addedNamed', { name: name(addedTreatment) })}
        </p>
      ) : null}
      {unlistedTreatment && !unlistedTreatment.listed ? (
        <p role="status" data-testid="form-ok" className="rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {t('treatments.unlistedNamed', { name: name(unlistedTreatment) })}
        </p>
      ) : null}

      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="flex flex-col gap-1">
          <h2 className="text-lg font-semibold">
            {t('treatments.title')} <span className="text-stone-500">({treatments.length})</span>
          </h2>
          <p className="text-sm text-stone-600">{t('treatments.intro')}</p>
        </div>
        <Link href={`/staff/${clinicId}/manage/treatments/new`} className="min-h-10 rounded bg-brand-600 px-4 py-2 text-sm font-medium text-white hover:bg-brand-700">
          {t('treatments.addLink')}
        </Link>
      </div>

      <Table
        caption={t('treatments.title')}
        testId="treatments"
        rows={treatments}
        rowKey={(tr) => tr.treatmentId}
        rowProps={(tr) => ({ 'data-treatment': tr.treatmentId })}
        rowClassName={(tr) => (tr.treatmentId === added ? 'bg-emerald-50' : undefined)}
        empty={<p className="rounded border border-dashed border-stone-300 p-4 text-sm text-stone-600">{t('treatments.none')}</p>}
        columns={[
          {
            header: t('treatments.name'),
            rowHeader: true,
            className: 'min-w-[9rem]',
            cell: (tr) => (
              <>
                <Link href={`/staff/${clinicId}/manage/treatments/${tr.treatmentId}`} className="text-brand-700 underline">
                  {name(tr)}
                </Link>
                <span className="block text-xs font-normal text-stone-500">{tr.category}</span>
                {/* Phones: the durations and kinds under the name (those columns are hidden). */}
                <span className="block text-xs font-normal text-stone-600 md:hidden">
                  {t('treatments.minutesShort', { minutes: tr.durationMinutes })} · {tr.bookingKinds.map((k) => t(`treatments.kind.${k}`)).join(', ')}
                </span>
              </>
            ),
          },
          {
            header: t('treatments.price'),
            align: 'end',
            className: 'whitespace-nowrap',
            cell: (tr) => (
              <>
                <span data-testid="price">{krw(tr.priceKrw)}</span>
                <span className="block text-xs text-stone-500">{tr.taxCategory === 'taxable' ? t('treatments.vatIncluded', { vat: krw(vatPortion(tr.priceKrw)) }) : t('treatments.tax.exempt')}</span>
                {/* Phones: the deposit under the price (its column is hidden). */}
                <span className="block text-xs text-stone-600 sm:hidden">{t('treatments.depositShort', { deposit: tr.depositKrw > 0 ? krw(tr.depositKrw) : '—' })}</span>
              </>
            ),
          },
          { header: t('treatments.deposit'), align: 'end', className: 'hidden whitespace-nowrap sm:table-cell', cell: (tr) => (tr.depositKrw > 0 ? krw(tr.depositKrw) : '—') },
          {
            header: t('treatments.duration'),
            align: 'end',
            className: 'hidden whitespace-nowrap md:table-cell',
            cell: (tr) => (
              <>
                {t('treatments.minutesShort', { minutes: tr.durationMinutes })}
                {tr.bookingKinds.includes('consult-first') && tr.consultDurationMinutes ? (
                  <span className="block text-xs text-stone-500">{t('treatments.consultShort', { minutes: tr.consultDurationMinutes })}</span>
                ) : null}
              </>
            ),
          },
          {
            header: t('treatments.bookingKinds'),
            className: 'hidden md:table-cell',
            cell: (tr) => (
              <>
                <span className="flex flex-wrap gap-1">
                  {tr.bookingKinds.map((k) => (
                    <span key={k} className="rounded bg-stone-100 px-1.5 py-0.5 text-xs text-stone-700">
                      {t(`treatments.kind.${k}`)}
                    </span>
                  ))}
                </span>
                <span className="mt-1 block text-xs text-stone-500">{t(`treatments.mode.${tr.bookingMode}`)}</span>
              </>
            ),
          },
          {
            header: t('treatments.taxCategory'),
            className: 'hidden lg:table-cell',
            cell: (tr) => t(`treatments.tax.${tr.taxCategory}`),
          },
          {
            header: t('treatments.edit'),
            hideHeader: true,
            className: 'hidden whitespace-nowrap sm:table-cell',
            cell: (tr) => (
              <Link href={`/staff/${clinicId}/manage/treatments/${tr.treatmentId}`} className="text-sm text-brand-700 underline" aria-label={t('treatments.editNamed', { name: name(tr) })}>
                {t('treatments.edit')}
              </Link>
            ),
          },
        ]}
      />
    </section>
  );
}
