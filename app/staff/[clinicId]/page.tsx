import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw, formatSeoulShortDate, formatSeoulTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { staffToday, type DeskReservation, type SlotSeats } from '@/lib/queries/staff';
import { OpeningHoursList } from '../../components/opening-hours';
import { Table } from '../../components/table';
import { CheckInForm, ConfirmForm, RejectForm, WalkInForm } from './desk-forms';
import { StaffHeader } from './staff-nav';

export const metadata: Metadata = { title: 'Staff' };

const seoulTime = formatSeoulTime;

/** Today: the front desk's day (any day via ?day=yyyy-mm-dd): requests, arrivals, a walk-in, the slots, and the clinic's hours and team. */
export default async function StaffTodayPage({ params, searchParams }: { params: Promise<{ clinicId: string }>; searchParams: Promise<{ day?: string }> }) {
  const [{ clinicId }, { day: dayParam }] = await Promise.all([params, searchParams]);
  const data = await staffToday(clinicId, typeof dayParam === 'string' ? dayParam : undefined);
  if (!data) notFound();
  const [t, tClinic, locale] = await Promise.all([getTranslations('staffToday'), getTranslations('clinic'), getLocale() as Promise<Locale>]);
  const { clinic, team, desk } = data;
  const clinicName = locale === 'ko' ? clinic.nameKo : clinic.nameEn;
  const patient = (r: DeskReservation) => r.patientName ?? t('patientUnknown');
  const kind = (r: DeskReservation) => t(`kind.${r.kind === 'consult-first' ? 'consultFirst' : 'payAndBook'}`);
  const ids = () => ({ clinicId, commandId: crypto.randomUUID() });
  const open = desk.slots.length > 0;
  const totals = desk.slots.reduce((s, x) => ({ booked: s.booked + x.booked, free: s.free + x.free }), { booked: 0, free: 0 });

  return (
    <section className="flex flex-col gap-8">
      <StaffHeader clinicId={clinicId} clinicName={clinicName} day={desk.day} today={desk.today} current="today" />

      <div className="grid grid-cols-1 gap-8 lg:grid-cols-[minmax(0,1fr)_18rem]">
        <div className="flex min-w-0 flex-col gap-8">
          <section aria-labelledby="requests" className="flex flex-col gap-2">
            <h2 id="requests" className="text-lg font-semibold">
              {t('requests')} <span className="text-stone-500">({desk.requests.length})</span>
            </h2>
            <p className="text-sm text-stone-600">{t('requestsHint')}</p>
            <Table
              caption={t('requests')}
              testId="requests"
              rows={desk.requests}
              rowKey={(r) => r.id}
              rowProps={(r) => ({ 'data-reservation': r.id })}
              empty={<p className="rounded border border-dashed border-stone-300 p-4 text-sm text-stone-600">{t('noRequests')}</p>}
              columns={[
                { header: t('when'), cell: (r) => `${formatSeoulShortDate(r.day, locale)} ${seoulTime(r.startsAt, locale)}`, className: 'hidden whitespace-nowrap md:table-cell' },
                {
                  header: t('patient'),
                  rowHeader: true,
                  className: 'min-w-[7rem]',
                  cell: (r) => (
                    <>
                      <Link href={`/staff/${clinicId}/patients/${r.patientId}`} className="text-brand-700 underline">{patient(r)}</Link>
                      {/* Phones: the request's time and treatment under the name (those columns are hidden). */}
                      <span className="block text-xs font-normal text-stone-600 md:hidden">
                        {formatSeoulShortDate(r.day, locale)} {seoulTime(r.startsAt, locale)} · {r.treatmentName}
                      </span>
                    </>
                  ),
                },
                {
                  header: t('treatment'),
                  className: 'hidden min-w-[8rem] md:table-cell',
                  cell: (r) => (
                    <>
                      {r.treatmentName}
                      <span className="block text-xs text-stone-500">{kind(r)}</span>
                      {r.note ? <span className="block text-xs text-stone-600">“{r.note}”</span> : null}
                    </>
                  ),
                },
                {
                  header: t('decide'),
                  hideHeader: true,
                  className: 'min-w-[11rem] md:min-w-[16rem]',
                  cell: (r) => (
                    <div className="flex flex-col gap-2">
                      <ConfirmForm reservationId={r.id} {...ids()} />
                      <RejectForm reservationId={r.id} {...ids()} />
                    </div>
                  ),
                },
              ]}
            />
          </section>

          <section aria-labelledby="arrivals" className="flex flex-col gap-2">
            <h2 id="arrivals" className="text-lg font-semibold">
              {t('arrivals')} <span className="text-stone-500">({desk.arrivals.length})</span>
            </h2>
            <Table
              caption={t('arrivals')}
              testId="arrivals"
              rows={desk.arrivals}
              rowKey={(r) => r.id}
              rowProps={(r) => ({ 'data-reservation': r.id, 'data-status': r.status })}
              empty={<p className="rounded border border-dashed border-stone-300 p-4 text-sm text-stone-600">{t('noArrivals')}</p>}
              columns={[
                { header: t('time'), cell: (r) => seoulTime(r.startsAt, locale), className: 'whitespace-nowrap tabular-nums' },
                {
                  header: t('patient'),
                  rowHeader: true,
                  className: 'min-w-[7rem]',
                  cell: (r) => (
                    <>
                      <Link href={`/staff/${clinicId}/patients/${r.patientId}`} className="text-brand-700 underline">{patient(r)}</Link>
                      <span className="block text-xs font-normal text-stone-600 md:hidden">{r.treatmentName}</span>
                    </>
                  ),
                },
                { header: t('treatment'), cell: (r) => <>{r.treatmentName}<span className="block text-xs text-stone-500">{kind(r)}</span></>, className: 'hidden min-w-[7rem] md:table-cell' },
                {
                  header: t('deposit'),
                  align: 'end',
                  className: 'hidden md:table-cell',
                  cell: (r) => (r.depositDueKrw > 0 ? `${formatKrw(r.depositPaidKrw, locale)} / ${formatKrw(r.depositDueKrw, locale)}` : '—'),
                },
                { header: t('status'), cell: (r) => t(`statuses.${r.status}` as never) },
                {
                  header: t('action'),
                  hideHeader: true,
                  cell: (r) =>
                    r.status === 'confirmed' ? (
                      <CheckInForm reservationId={r.id} {...ids()} />
                    ) : r.status === 'checked-in' ? (
                      <Link href={`/staff/${clinicId}/board`} className="text-sm text-brand-700 underline">
                        {t('onBoard')}
                      </Link>
                    ) : null,
                },
              ]}
            />
          </section>

          <section aria-labelledby="walk-in" className="flex max-w-xl flex-col gap-2">
            <h2 id="walk-in" className="text-lg font-semibold">
              {t('walkIn')}
            </h2>
            <p className="text-sm text-stone-600">{t('walkInHint')}</p>
            <WalkInForm {...ids()} />
          </section>
        </div>

        <aside className="flex min-w-0 flex-col gap-8">
          <section aria-labelledby="slots" className="flex flex-col gap-2">
            <h2 id="slots" className="text-lg font-semibold">
              {t('slots')}
            </h2>
            {open ? (
              <>
                <p className="text-sm text-stone-600">{t('slotsSummary', { booked: totals.booked, free: totals.free, capacity: clinic.slotCapacity, minutes: clinic.slotMinutes })}</p>
                <Table<SlotSeats>
                  caption={t('slots')}
                  testId="slots"
                  rows={desk.slots}
                  rowKey={(s) => s.time}
                  rowProps={(s) => ({ 'data-slot': s.time })}
                  rowClassName={(s) => (s.free === 0 ? 'bg-stone-50 text-stone-500' : undefined)}
                  columns={[
                    { header: t('time'), cell: (s) => s.time, rowHeader: true, className: 'tabular-nums' },
                    { header: t('booked'), cell: (s) => s.booked, align: 'end' },
                    { header: t('pending'), cell: (s) => s.pending, align: 'end' },
                    { header: t('free'), cell: (s) => (s.free === 0 ? t('full') : `${s.free} / ${s.capacity}`), align: 'end' },
                  ]}
                />
              </>
            ) : (
              <p className="rounded border border-dashed border-stone-300 p-4 text-sm text-stone-600">
                {desk.closedReason ? t('closedDayReason', { reason: desk.closedReason }) : t('closedDay')}
              </p>
            )}
          </section>

          <section aria-labelledby="clinic" className="grid gap-6 rounded-lg border border-stone-200 bg-white p-4 sm:grid-cols-2 lg:grid-cols-1">
            <h2 id="clinic" className="sr-only">
              {t('clinicFacts')}
            </h2>
            <div>
              <h3 className="font-semibold">{tClinic('hours')}</h3>
              <OpeningHoursList intervals={clinic.openingHours} />
            </div>
            <div>
              <h3 className="font-semibold">{t('team')}</h3>
              <ul className="mt-2 list-inside list-disc text-sm">
                {team.map((m) => (
                  <li key={m.id}>
                    {m.name} <span className="break-all text-stone-500">({m.email})</span>
                  </li>
                ))}
              </ul>
            </div>
          </section>
        </aside>
      </div>
    </section>
  );
}
