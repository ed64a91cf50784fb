import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import type { Locale } from '@/lib/i18n/config';
import { managedClinic } from '@/lib/queries/manage';
import { Card } from '../fields';
import { ManageHeader } from '../manage-header';
import { OpeningHoursForm, SlotForm } from '../schedule-forms';

export const metadata: Metadata = { title: 'Opening hours' };

/** Opening hours per weekday with breaks, and the slots (length, capacity): `/staff/<clinicId>/manage/hours`, managers only. */
export default async function ManageHoursPage({ params }: { params: Promise<{ clinicId: string }> }) {
  const { clinicId } = await params;
  const data = await managedClinic(clinicId, `/staff/${clinicId}/manage/hours`);
  if (!data) notFound();
  const [t, locale] = await Promise.all([getTranslations('manage'), getLocale() as Promise<Locale>]);
  const { state } = data;
  const clinicName = locale === 'ko' ? state.name : (state.profile?.nameEn ?? state.name);
  const ids = () => ({ clinicId, commandId: crypto.randomUUID() });
  return (
    <section className="flex flex-col gap-6">
      <ManageHeader clinicId={clinicId} clinicName={clinicName} current="hours" />
      <div className="grid max-w-5xl gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)] lg:items-start">
        <Card title={t('hours.title')} description={t('hours.intro')} testId="hours">
          <OpeningHoursForm ids={ids()} hours={state.openingHours} />
        </Card>
        <Card title={t('slots.title')} description={t('slots.intro')} testId="slots">
          <SlotForm ids={ids()} slotLengthMinutes={state.slotLengthMinutes} slotCapacity={state.slotCapacity} />
        </Card>
      </div>
    </section>
  );
}
