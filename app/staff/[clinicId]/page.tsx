import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatSeoulDate } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { staffClinicOverview } from '@/lib/queries/staff';
import { OpeningHoursList } from '../../components/opening-hours';

export const metadata: Metadata = { title: 'Staff' };

export default async function StaffClinicPage({ params }: { params: Promise<{ clinicId: string }> }) {
  const { clinicId } = await params;
  const overview = await staffClinicOverview(clinicId);
  if (!overview) notFound();
  const [t, tClinic, locale] = await Promise.all([getTranslations('staff'), getTranslations('clinic'), getLocale() as Promise<Locale>]);
  const { clinic, team } = overview;
  return (
    <section className="flex flex-col gap-6">
      <header>
        <h1 className="text-2xl font-bold">{t('title', { clinic: locale === 'ko' ? clinic.nameKo : clinic.nameEn })}</h1>
        <p className="text-stone-600">{t('today', { date: formatSeoulDate(new Date(), locale) })}</p>
        <p className="text-sm text-stone-600">{t('capacity', { capacity: clinic.slotCapacity, minutes: clinic.slotMinutes })}</p>
      </header>
      <section aria-labelledby="hours">
        <h2 id="hours" className="text-lg font-semibold">{tClinic('hours')}</h2>
        <OpeningHoursList intervals={clinic.openingHours} />
      </section>
      <section aria-labelledby="team">
        <h2 id="team" className="text-lg font-semibold">{t('team')}</h2>
        <ul className="mt-2 list-inside list-disc text-sm">
          {team.map((m) => (
            <li key={m.id}>
              {m.name} <span className="text-stone-500">({m.email})</span>
            </li>
          ))}
        </ul>
      </section>
    </section>
  );
}
