import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { vatPortion } from '@/lib/domain';
import { formatKrw } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { managedClinic } from '@/lib/queries/manage';
import { Card } from '../../fields';
import { ManageHeader } from '../../manage-header';
import { DetailsForm, PriceForm, UnlistDialog } from '../../treatment-forms';

export const metadata: Metadata = { title: 'Treatment' };

/**
 * One listed treatment (`/staff/<clinicId>/manage/treatments/<treatmentId>`): its price and deposit,
 * its details, and unlisting it (after a confirmation). Managers only; an unknown or unlisted treatment is 404.
 */
export default async function ManageTreatmentPage({ params }: { params: Promise<{ clinicId: string; treatmentId: string }> }) {
  const { clinicId, treatmentId } = await params;
  const data = await managedClinic(clinicId, `/staff/${clinicId}/manage/treatments/${treatmentId}`);
  const treatment = data?.state.treatments[treatmentId];
  if (!data || !treatment?.listed) notFound();
  const [t, locale] = await Promise.all([getTranslations('manage'), getLocale() as Promise<Locale>]);
  const clinicName = locale === 'ko' ? data.state.name : (data.state.profile?.nameEn ?? data.state.name);
  const name = locale === 'en' && treatment.nameEn ? treatment.nameEn : treatment.name;
  const ids = () => ({ clinicId, commandId: crypto.randomUUID() });
  const krw = (n: number) => formatKrw(n, locale);
  const categories = [...new Set(Object.values(data.state.treatments).map((tr) => tr.category))].sort();
  return (
    <section className="flex flex-col gap-6">
      <ManageHeader clinicId={clinicId} clinicName={clinicName} current="treatments" />
      <Link href={`/staff/${clinicId}/manage`} className="self-start text-sm text-brand-700 underline">
        {t('treatments.back')}
      </Link>
      <div className="flex flex-col gap-1">
        <h2 className="text-xl font-semibold" data-testid="treatment-name">
          {name}
        </h2>
        <p className="text-sm text-stone-600">
          {treatment.category} · {krw(treatment.priceKrw)} ({treatment.taxCategory === 'taxable' ? t('treatments.vatIncluded', { vat: krw(vatPortion(treatment.priceKrw)) }) : t('treatments.tax.exempt')})
        </p>
      </div>
      <div className="grid max-w-5xl gap-6 lg:grid-cols-2 lg:items-start">
        <Card title={t('treatments.priceTitle')} description={t('treatments.priceIntro')}>
          <PriceForm ids={ids()} treatmentId={treatmentId} priceKrw={treatment.priceKrw} depositKrw={treatment.depositKrw} />
        </Card>
        {/* Phones: stopping the sale comes last, after the details. */}
        <div className="order-last lg:order-none">
          <Card title={t('treatments.unlistTitleShort')} description={t('treatments.unlistIntro')}>
            <div>
              <UnlistDialog ids={ids()} treatmentId={treatmentId} name={name} />
            </div>
          </Card>
        </div>
        <div className="lg:col-span-2">
          <Card title={t('treatments.detailsTitle')} description={t('treatments.detailsIntro')}>
            <DetailsForm
              ids={ids()}
              treatmentId={treatmentId}
              categories={categories}
              initial={{
                name: treatment.name,
                nameEn: treatment.nameEn ?? '',
                category: treatment.category,
                durationMinutes: treatment.durationMinutes,
                consultDurationMinutes: treatment.consultDurationMinutes,
                bookingMode: treatment.bookingMode,
                bookingKinds: treatment.bookingKinds,
                taxCategory: treatment.taxCategory,
              }}
            />
          </Card>
        </div>
      </div>
    </section>
  );
}
