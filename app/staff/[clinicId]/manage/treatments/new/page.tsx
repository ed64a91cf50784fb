import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import type { Locale } from '@/lib/i18n/config';
import { managedClinic } from '@/lib/queries/manage';
import { Card } from '../../fields';
import { ManageHeader } from '../../manage-header';
import { AddTreatmentForm } from '../../treatment-forms';

export const metadata: Metadata = { title: 'New treatment' };

/** Add a treatment to the clinic's catalogue (`/staff/<clinicId>/manage/treatments/new`); managers only. */
export default async function NewTreatmentPage({ params }: { params: Promise<{ clinicId: string }> }) {
  const { clinicId } = await params;
  const data = await managedClinic(clinicId, `/staff/${clinicId}/manage/treatments/new`);
  if (!data) notFound();
  const [t, locale] = await Promise.all([getTranslations('manage'), getLocale() as Promise<Locale>]);
  const clinicName = locale === 'ko' ? data.state.name : (data.state.profile?.nameEn ?? data.state.name);
  const categories = [...new Set(Object.values(data.state.treatments).map((tr) => tr.category))].sort();
  return (
    <section className="flex flex-col gap-6">
      <ManageHeader clinicId={clinicId} clinicName={clinicName} current="treatments" />
      <Link href={`/staff/${clinicId}/manage`} className="self-start text-sm text-brand-700 underline">
        {t('treatments.back')}
      </Link>
      <div className="max-w-3xl">
        <Card title={t('treatments.addTitle')} description={t('treatments.addIntro')}>
          <AddTreatmentForm
            ids={{ clinicId, commandId: crypto.randomUUID() }}
            categories={categories}
            initial={{ name: '', nameEn: '', category: '', bookingMode: 'clinic-confirm', bookingKinds: ['consult-first', 'pay-and-book'], consultDurationMinutes: 15, taxCategory: 'taxable' }}
          />
        </Card>
      </div>
    </section>
  );
}
