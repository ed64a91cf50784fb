import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { atLocal, clinicDay, clinic as clinicDomain, plusMinutes } from '@/lib/domain';
import { formatSeoulDate } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { closedDayBookings, type ClosedDayBooking } from '@/lib/queries/closures';
import { managedClinic } from '@/lib/queries/manage';
import { BookingActions, CloseDaysForm, ReopenForm } from '../closure-forms';
import { Card } from '../fields';
import { ManageHeader } from '../manage-header';

export const metadata: Metadata = { title: 'Closures' };

const seoulTime = (at: string, locale: Locale) =>
  new Intl.DateTimeFormat(locale === 'ko' ? 'ko-KR' : 'en-KR', { timeZone: 'Asia/Seoul', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(at));

/**
 * Holidays and one-off closures (`/staff/<clinicId>/manage/closures`): close a day or several (no slots
 * are offered on them), open one again, and — right there — the bookings still on a closed day, each
 * to be moved or cancelled. Managers only.
 */
export default async function ManageClosuresPage({ params }: { params: Promise<{ clinicId: string }> }) {
  const { clinicId } = await params;
  const data = await managedClinic(clinicId, `/staff/${clinicId}/manage/closures`);
  if (!data) notFound();
  const [closures, t, tToday, locale] = await Promise.all([closedDayBookings(clinicId), getTranslations('manage'), getTranslations('staffToday'), getLocale() as Promise<Locale>]);
  const clinicName = locale === 'ko' ? data.state.name : (data.state.profile?.nameEn ?? data.state.name);
  const ids = () => ({ clinicId, commandId: crypto.randomUUID() });
  const date = (day: string) => formatSeoulDate(new Date(`${day}T12:00:00+09:00`), locale);
  const kind = (b: ClosedDayBooking) => tToday(`kind.${b.kind === 'consult-first' ? 'consultFirst' : 'payAndBook'}`);
  const withBookings = closures.filter((c) => c.bookings.length > 0).length;
  // Where a move form starts: the next day the clinic is open (its hours, not closed), within two weeks.
  const suggestion = (closed: string) => {
    for (let d = closed, n = 0; n < 14; n++) {
      d = clinicDay(plusMinutes(atLocal(d, '12:00'), 24 * 60));
      if (clinicDomain.intervalsOn(data.state.openingHours, d).length > 0 && !data.state.closedDays[d]) return d;
    }
    return closed;
  };

  return (
    <section className="flex flex-col gap-6">
      <ManageHeader clinicId={clinicId} clinicName={clinicName} current="closures" />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)] lg:items-start">
        <Card title={t('closures.addTitle')} description={t('closures.addIntro')}>
          <CloseDaysForm ids={ids()} today={clinicDay(new Date())} />
        </Card>

        <section aria-labelledby="closed-days" className="flex min-w-0 flex-col gap-3">
          <h2 id="closed-days" className="text-lg font-semibold">
            {t('closures.upcoming')} <span className="text-stone-500">({closures.length})</span>
          </h2>
          {withBookings > 0 ? (
            <p role="status" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="closures-attention">
              {t('closures.attention', { days: withBookings })}
            </p>
          ) : null}
          {closures.length === 0 ? <p className="rounded border border-dashed border-stone-300 p-4 text-sm text-stone-600">{t('closures.none')}</p> : null}
          <ul className="flex flex-col gap-4">
            {closures.map((c) => (
              <li key={c.day} className="flex flex-col gap-3 rounded-lg border border-stone-200 bg-white p-4" data-closed-day={c.day}>
                <div className="flex flex-wrap items-start justify-between gap-2">
                  <div>
                    <h3 className="font-semibold">{date(c.day)}</h3>
                    <p className="text-sm text-stone-600">{c.reason}</p>
                  </div>
                  <ReopenForm ids={ids()} day={c.day} label={t('closures.reopen')} />
                </div>
                {c.bookings.length === 0 ? (
                  <p className="text-sm text-stone-600">{t('closures.noBookings')}</p>
                ) : (
                  <>
                    <p className="text-sm font-medium text-amber-900">{t('closures.bookingsToMove', { count: c.bookings.length })}</p>
                    <ul aria-label={t('closures.bookingsCaption', { day: date(c.day) })} className="flex flex-col divide-y divide-stone-100 rounded border border-stone-200" data-testid="closed-day-bookings">
                      {c.bookings.map((b) => (
                        <li key={b.reservationId} className="flex flex-col gap-2 p-3" data-reservation={b.reservationId}>
                          <div className="flex items-start gap-3">
                            <span className="font-medium tabular-nums">{seoulTime(b.startsAt, locale)}</span>
                            <div className="min-w-0">
                              <Link href={`/staff/${clinicId}/patients/${b.patientId}`} className="font-medium text-brand-700 underline">
                                {b.patientName ?? tToday('patientUnknown')}
                              </Link>
                              <span className="block text-xs text-stone-600">
                                {b.treatmentName} · {kind(b)} · {tToday(`statuses.${b.status}` as never)}
                              </span>
                            </div>
                          </div>
                          <BookingActions
                            ids={{ clinicId, commandId: crypto.randomUUID(), moveCommandId: crypto.randomUUID() }}
                            reservationId={b.reservationId}
                            suggestedDay={suggestion(c.day)}
                            time={seoulTime(b.startsAt, 'ko')}
                          />
                        </li>
                      ))}
                    </ul>
                  </>
                )}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </section>
  );
}
