import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { z } from 'zod';
import { rescheduleReservationAction } from '@/app/actions/reservations';
import { DayKey } from '@/lib/domain';
import { formatKrw, formatSeoulDateTime, formatSeoulShortDate } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { myRescheduleOptions, myReschedulePreview } from '@/lib/queries/reservations';
import { ChangeForm } from '../../../_components/change-form';
import { CostPreview } from '../../../_components/cost-preview';
import { treatmentLabel } from '../../../_components/reservation-bits';

type Props = { params: Promise<{ reservationId: string }>; searchParams: Promise<{ day?: string; startsAt?: string }> };

const query = z.object({ day: DayKey.optional().catch(undefined), startsAt: z.iso.datetime({ offset: true }).optional().catch(undefined) });

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('me.reschedule'))('title') };
}

/** Days shown as buttons; further days of the horizon through the date field. */
const DAYS_SHOWN = 14;

export default async function ReschedulePage({ params, searchParams }: Props) {
  const { reservationId } = await params;
  const { day, startsAt } = query.parse(await searchParams);
  const [options, preview, t, tAll, locale] = await Promise.all([
    myRescheduleOptions(reservationId, day),
    startsAt ? myReschedulePreview(reservationId, startsAt) : Promise.resolve(undefined),
    getTranslations('me.reschedule'),
    getTranslations(),
    getLocale() as Promise<Locale>,
  ]);
  if (!options || preview === null) notFound();
  const { reservation: r, days, selected } = options;
  const base = `/me/reservations/${r.id}/reschedule`;
  const dayLabel = (d: string) => formatSeoulShortDate(d, locale);
  return (
    <article className="flex max-w-2xl flex-col gap-5">
      <Link href={`/me/reservations/${r.id}`} className="text-sm text-brand-700 underline">← {t('back')}</Link>
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      <p className="text-sm">
        <span className="font-semibold">{treatmentLabel(r, locale)}</span> · {locale === 'ko' ? r.clinicNameKo : r.clinicNameEn}
        <br />
        {t('current')}: <time dateTime={r.startsAt.toISOString()}>{formatSeoulDateTime(r.startsAt, locale)}</time> {tAll('me.timeline.kst')}
      </p>
      {!r.changeable ? (
        <p role="alert" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">{t('notChangeable')}</p>
      ) : (
        <>
          <section aria-labelledby="pick-day" className="flex flex-col gap-2">
            <h2 id="pick-day" className="font-semibold">{t('pickDay')}</h2>
            <ul className="flex gap-2 overflow-x-auto pb-1" data-testid="days">
              {days.slice(0, DAYS_SHOWN).map((d) => (
                <li key={d.day}>
                  {d.open ? (
                    <Link
                      href={`${base}?day=${d.day}`}
                      aria-current={selected?.day === d.day ? 'date' : undefined}
                      className={`block whitespace-nowrap rounded border px-3 py-2 text-sm ${selected?.day === d.day ? 'border-brand-600 bg-brand-50 font-semibold' : 'border-stone-300 bg-white hover:bg-stone-100'}`}
                    >
                      {dayLabel(d.day)}
                    </Link>
                  ) : (
                    <span className="block whitespace-nowrap rounded border border-stone-200 px-3 py-2 text-sm text-stone-400" aria-disabled="true">
                      {dayLabel(d.day)} <span className="sr-only">{t('closed')}</span>
                    </span>
                  )}
                </li>
              ))}
            </ul>
            {days.length > DAYS_SHOWN && (
              <form method="get" action={base} className="flex flex-wrap items-end gap-2">
                <label className="flex flex-col gap-1 text-sm">
                  {t('otherDay')}
                  <input key={selected?.day} type="date" name="day" min={days[0]?.day} max={days.at(-1)?.day} defaultValue={selected?.day} className="rounded border border-stone-300 bg-white px-3 py-2" />
                </label>
                <button className="rounded border border-stone-300 bg-white px-3 py-2 text-sm hover:bg-stone-100">{t('show')}</button>
              </form>
            )}
          </section>

          {selected && (
            <section aria-labelledby="pick-slot" className="flex flex-col gap-2">
              <h2 id="pick-slot" className="font-semibold">{t('pickSlot', { day: dayLabel(selected.day) })}</h2>
              {selected.slots.length === 0 ? (
                <p className="text-sm text-stone-600">{selected.open ? t('noSlots') : t('closedDay')}</p>
              ) : (
                <ul className="grid grid-cols-3 gap-2 sm:grid-cols-6" data-testid="slots">
                  {selected.slots.map((s) => {
                    const current = s.startsAt === r.startsAt.toISOString();
                    const chosen = s.startsAt === startsAt;
                    if (s.full || current) {
                      return (
                        <li key={s.startsAt}>
                          <span aria-disabled="true" className="block rounded border border-stone-200 px-2 py-2 text-center text-sm text-stone-400 line-through">
                            {s.time} <span className="sr-only">{current ? t('currentSlot') : t('full')}</span>
                          </span>
                        </li>
                      );
                    }
                    return (
                      <li key={s.startsAt}>
                        <Link
                          href={`${base}?day=${selected.day}&startsAt=${encodeURIComponent(s.startsAt)}`}
                          aria-current={chosen ? 'true' : undefined}
                          aria-label={t('slotLabel', { time: s.time, seats: s.seatsLeft })}
                          className={`block rounded border px-2 py-2 text-center text-sm ${chosen ? 'border-brand-600 bg-brand-600 text-white' : 'border-stone-300 bg-white hover:bg-stone-100'}`}
                        >
                          {s.time}
                        </Link>
                      </li>
                    );
                  })}
                </ul>
              )}
            </section>
          )}

          {preview?.kind === 'refused' && (
            <p role="alert" data-testid="change-refused" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
              {tAll(`domainErrors.${preview.code}` as never)}
            </p>
          )}
          {preview?.kind === 'ok' && startsAt && (
            <section aria-labelledby="confirm-move" className="flex flex-col gap-3">
              <h2 id="confirm-move" className="font-semibold">{t('confirmTitle')}</h2>
              <CostPreview
                late={preview.late}
                lines={[
                  { label: t('newSlot'), amount: `${formatSeoulDateTime(new Date(preview.startsAt ?? startsAt), locale)} ${tAll('me.timeline.kst')}`, testId: 'preview-slot' },
                  { label: t('fee'), amount: formatKrw(preview.feeKrw, locale), testId: 'preview-fee' },
                  { label: t('refund'), amount: formatKrw(preview.refundKrw, locale), testId: 'preview-refund', strong: true },
                ]}
                note={[
                  preview.late ? t('lateNote', { hours: r.policy.freeCancellationHours, deposit: formatKrw(preview.depositPaidKrw, locale) }) : t('freeNote', { hours: r.policy.freeCancellationHours }),
                  preview.needsClinicConfirmation ? t('clinicConfirms') : '',
                ].filter(Boolean).join(' ')}
              />
              <ChangeForm
                action={rescheduleReservationAction}
                hidden={{ reservationId: r.id, commandId: crypto.randomUUID(), startsAt, expectedFeeKrw: String(preview.feeKrw) }}
                submitLabel={t('confirm')}
                pendingLabel={t('confirming')}
              />
            </section>
          )}
        </>
      )}
    </article>
  );
}
