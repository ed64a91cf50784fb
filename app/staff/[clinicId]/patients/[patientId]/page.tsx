import type { Metadata } from 'next';
import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw, formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { staffPatient, type StaffPatientReservation, type StaffPatientVisit } from '@/lib/queries/staff-patient';
import { Table } from '../../../../components/table';
import { ContactReveal } from './contact-form';

export const metadata: Metadata = { title: 'Patient' };

/** Staff's view of a patient: their reservations and visits at this clinic; contact only on demand (logged). */
export default async function StaffPatientPage({ params }: { params: Promise<{ clinicId: string; patientId: string }> }) {
  const { clinicId, patientId } = await params;
  const view = await staffPatient(clinicId, patientId);
  const [t, tToday, tBoard, locale] = await Promise.all([getTranslations('access'), getTranslations('staffToday'), getTranslations('visitBoard'), getLocale() as Promise<Locale>]);
  const when = (at: string) => formatSeoulDateTime(new Date(at), locale);
  const name = view.name ?? t('patientUnknown');

  return (
    <section className="flex flex-col gap-8">
      <header className="flex flex-col gap-2">
        <Link href={`/staff/${clinicId}`} className="text-sm text-brand-700 underline">
          ← {t('backToToday')}
        </Link>
        <h1 className="text-2xl font-bold break-words">{t('patientTitle', { name })}</h1>
        {view.erased ? <p className="text-sm text-stone-600">{t('patientErased')}</p> : null}
      </header>

      {view.erased ? null : (
        <section aria-labelledby="contact" className="flex flex-col gap-2 rounded border border-stone-200 bg-white p-4">
          <h2 id="contact" className="text-lg font-semibold">
            {t('contact')}
          </h2>
          <p className="text-sm text-stone-600">{t('contactHint')}</p>
          <ContactReveal clinicId={clinicId} patientId={patientId} />
        </section>
      )}

      <section aria-labelledby="reservations" className="flex flex-col gap-2">
        <h2 id="reservations" className="text-lg font-semibold">
          {t('reservations')} <span className="text-stone-500">({view.reservations.length})</span>
        </h2>
        <Table<StaffPatientReservation>
          caption={t('reservations')}
          testId="patient-reservations"
          rows={view.reservations}
          rowKey={(r) => r.id}
          rowProps={(r) => ({ 'data-reservation': r.id })}
          empty={<p className="rounded border border-dashed border-stone-300 p-4 text-sm text-stone-600">{t('noReservations')}</p>}
          columns={[
            { header: t('when'), rowHeader: true, cell: (r) => when(r.startsAt), className: 'whitespace-nowrap' },
            { header: t('treatment'), cell: (r) => r.treatmentName },
            { header: t('status'), cell: (r) => tToday(`statuses.${r.status}` as never) },
            { header: t('deposit'), align: 'end', cell: (r) => `${formatKrw(r.depositPaidKrw, locale)} / ${formatKrw(r.depositDueKrw, locale)}`, className: 'hidden whitespace-nowrap sm:table-cell' },
          ]}
        />
      </section>

      <section aria-labelledby="visits" className="flex flex-col gap-2">
        <h2 id="visits" className="text-lg font-semibold">
          {t('visits')} <span className="text-stone-500">({view.visits.length})</span>
        </h2>
        <Table<StaffPatientVisit>
          caption={t('visits')}
          testId="patient-visits"
          rows={view.visits}
          rowKey={(v) => v.id}
          rowProps={(v) => ({ 'data-visit': v.id })}
          empty={<p className="rounded border border-dashed border-stone-300 p-4 text-sm text-stone-600">{t('noVisits')}</p>}
          columns={[
            { header: t('arrived'), rowHeader: true, cell: (v) => when(v.arrivedAt), className: 'whitespace-nowrap' },
            { header: t('stage'), cell: (v) => tBoard(`stages.${v.stage}` as never) },
            { header: t('treatment'), cell: (v) => v.treatments.join(', ') || '—', className: 'hidden sm:table-cell' },
            { header: t('total'), align: 'end', cell: (v) => formatKrw(v.totalKrw, locale), className: 'whitespace-nowrap' },
          ]}
        />
      </section>
    </section>
  );
}
