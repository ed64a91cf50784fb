import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { getClinicWithTreatments } from '@/lib/queries/catalogue';
import { OpeningHoursList } from '../../components/opening-hours';

type Props = { params: Promise<{ clinicId: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const clinic = await getClinicWithTreatments((await params).clinicId);
  const locale = (await getLocale()) as Locale;
  return { title: clinic ? (locale === 'ko' ? clinic.nameKo : clinic.nameEn) : undefined };
}

export default async function ClinicPage({ params }: Props) {
  const { clinicId } = await params;
  const [clinic, t, locale] = await Promise.all([getClinicWithTreatments(clinicId), getTranslations('clinic'), getLocale() as Promise<Locale>]);
  if (!clinic) notFound();
  const name = (c: { nameKo: string; nameEn: string }) => (locale === 'ko' ? c.nameKo : c.nameEn);
  return (
    <article className="flex flex-col gap-6">
      <header>
        <h1 className="text-2xl font-bold">{name(clinic)}</h1>
        <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-stone-500">{t('address')}</dt>
          <dd>{clinic.address}</dd>
          <dt className="text-stone-500">{t('phone')}</dt>
          <dd>
            <a href={`tel:${clinic.phone}`} className="underline">{clinic.phone}</a>
          </dd>
        </dl>
      </header>
      <section aria-labelledby="hours">
        <h2 id="hours" className="text-lg font-semibold">{t('hours')}</h2>
        <OpeningHoursList intervals={clinic.openingHours} />
      </section>
      {clinic.policy && (
        <section aria-labelledby="policy">
          <h2 id="policy" className="text-lg font-semibold">{t('policy')}</h2>
          <ul className="mt-2 list-inside list-disc text-sm" data-testid="cancellation-policy">
            <li>{t('policyFree', { hours: clinic.policy.freeCancellationHours })}</li>
            <li>{t('policyLateFee', { fee: formatKrw(clinic.policy.lateCancellationFeeKrw, locale) })}</li>
            {clinic.policy.noShowForfeitsDeposit && <li>{t('policyNoShow')}</li>}
            <li>{t('policyNotice', { hours: clinic.policy.minimumNoticeHours })}</li>
          </ul>
        </section>
      )}
      <section aria-labelledby="treatments">
        <h2 id="treatments" className="text-lg font-semibold">{t('treatments')}</h2>
        <div className="mt-2 overflow-x-auto">
          <table className="w-full border-collapse bg-white text-sm">
            <thead>
              <tr className="border-b text-left">
                <th scope="col" className="p-2">{t('treatment')}</th>
                <th scope="col" className="p-2">{t('category')}</th>
                <th scope="col" className="p-2 text-right">{t('price')}</th>
                <th scope="col" className="p-2 text-right">{t('deposit')}</th>
                <th scope="col" className="p-2 text-right">{t('duration')}</th>
                <th scope="col" className="p-2">{t('bookingMode')}</th>
              </tr>
            </thead>
            <tbody>
              {clinic.treatments.map((tr) => (
                <tr key={tr.id} className="border-b last:border-0">
                  <th scope="row" className="p-2 text-left font-medium">{name(tr)}</th>
                  <td className="p-2">{tr.category}</td>
                  <td className="p-2 text-right tabular-nums">{formatKrw(tr.priceKrw, locale)}</td>
                  <td className="p-2 text-right tabular-nums">{formatKrw(tr.depositKrw, locale)}</td>
                  <td className="p-2 text-right">{t('minutes', { count: tr.durationMinutes })}</td>
                  <td className="p-2">{tr.bookingMode === 'instant' ? t('instant') : t('clinicConfirm')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </article>
  );
}
