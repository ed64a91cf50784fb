import { randomUUID } from 'node:crypto';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { atLocal, clinicDay, DayKey, localTime } from '@/lib/domain';
import { formatKrw, formatSeoulDate } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { bookableDays, bookingClinic, bookingUrl, daySlots, horizonEnd, requireBookingPatient, type BookableTreatment, type BookingKind } from '@/lib/queries/booking';
import { BookForm } from './book-form';

type Search = { treatment?: string; day?: string; startsAt?: string; kind?: string };
type Props = { params: Promise<{ clinicId: string }>; searchParams: Promise<Search> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('booking'))('title') };
}

const one = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const isDay = (v: string | undefined): v is string => DayKey.safeParse(v).success;

/** A step's frame: numbered heading, and the choice made so far with a link to change it. */
function Step({ n, title, done, change, changeLabel, children }: { n: number; title: string; done?: string; change?: string; changeLabel: string; children?: React.ReactNode }) {
  return (
    <section aria-labelledby={`step-${n}`} className="rounded-lg border border-stone-200 bg-white p-4" data-testid={`step-${n}`}>
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id={`step-${n}`} className="text-base font-semibold">
          <span className="mr-2 inline-flex h-6 w-6 items-center justify-center rounded-full bg-brand-600 text-xs text-white" aria-hidden>{n}</span>
          {title}
        </h2>
        {done && change && (
          <p className="text-sm">
            <span className="font-medium">{done}</span>{' '}
            <Link href={change} className="ml-2 text-brand-700 underline">{changeLabel}</Link>
          </p>
        )}
      </div>
      {children && <div className="mt-3">{children}</div>}
    </section>
  );
}

export default async function BookPage({ params, searchParams }: Props) {
  const { clinicId } = await params;
  const sp = await searchParams;
  const choice = { treatmentId: one(sp.treatment), startsAt: one(sp.startsAt), day: one(sp.day), kind: one(sp.kind) };
  // Signed out: sign in, then back to this very step and slot.
  await requireBookingPatient(bookingUrl({ clinicId, ...choice }));
  const [clinic, t, tc, locale] = await Promise.all([bookingClinic(clinicId), getTranslations('booking'), getTranslations('clinic'), getLocale() as Promise<Locale>]);
  if (!clinic) notFound();
  const now = new Date();
  const name = (x: { nameKo: string; nameEn: string }) => (locale === 'ko' ? x.nameKo : x.nameEn);
  const url = (c: Partial<typeof choice>) => bookingUrl({ clinicId, ...c });

  const treatment: BookableTreatment | undefined = clinic.treatments.find((tr) => tr.id === choice.treatmentId);
  const startsAtValid = choice.startsAt && !Number.isNaN(Date.parse(choice.startsAt)) ? new Date(choice.startsAt).toISOString() : undefined;
  const lastDay = horizonEnd(clinic, now);
  const today = clinicDay(now);
  const day = startsAtValid ? clinicDay(startsAtValid) : isDay(choice.day) ? choice.day : undefined;
  const dayInRange = !!day && day >= today && day <= lastDay;

  const kinds = treatment?.kinds ?? [];
  const kind: BookingKind | undefined = kinds.length === 1 ? kinds[0] : kinds.find((k) => k === choice.kind);
  const duration = treatment ? (kind === 'consult-first' && treatment.consultMinutes ? treatment.consultMinutes : treatment.durationMinutes) : 0;
  const slots = treatment && day && dayInRange ? await daySlots(clinic, day, duration, now) : [];
  const chosen = startsAtValid ? slots.find((s) => s.startsAt === startsAtValid) : undefined;
  const slotProblem = startsAtValid && treatment && (!chosen ? 'unavailable' : chosen.full ? 'full' : null);
  const slotOk = !!chosen && !chosen.full;
  const dateLabel = (d: string) => formatSeoulDate(atLocal(d, '12:00'), locale);
  // 24-hour HH:mm in Seoul, as Korean booking apps show times (and the same on every machine's ICU).
  const timeLabel = (iso: string) => localTime(iso);
  const chip = (d: string) => new Intl.DateTimeFormat(locale === 'ko' ? 'ko-KR' : 'en-KR', { timeZone: 'Asia/Seoul', month: 'numeric', day: 'numeric', weekday: 'short' }).format(atLocal(d, '12:00'));
  const policy = clinic.policy;

  return (
    <article className="mx-auto flex max-w-2xl flex-col gap-4">
      <header>
        <p className="text-sm text-stone-500">
          <Link href={`/clinics/${clinicId}`} className="underline">{name(clinic)}</Link>
        </p>
        <h1 className="text-2xl font-bold">{t('title')}</h1>
      </header>

      {/* 1. Treatment */}
      <Step n={1} title={t('stepTreatment')} done={treatment ? name(treatment) : undefined} change={url({})} changeLabel={t('change')}>
        {!treatment && (
          <ul className="flex flex-col gap-2" aria-label={t('stepTreatment')}>
            {clinic.treatments.map((tr) => (
              <li key={tr.id}>
                <Link href={url({ treatmentId: tr.id, day: choice.day, startsAt: choice.startsAt })} className="flex flex-wrap items-center justify-between gap-2 rounded border border-stone-200 px-3 py-2 hover:border-brand-600" data-testid={`treatment-${tr.id}`}>
                  <span className="font-medium">{name(tr)}</span>
                  <span className="text-sm tabular-nums text-stone-600">
                    {formatKrw(tr.priceKrw, locale)} · {tc('minutes', { count: tr.durationMinutes })}
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </Step>

      {/* 2. Day */}
      {treatment && (
        <Step n={2} title={t('stepDay')} done={day && dayInRange && startsAtValid ? dateLabel(day) : undefined} change={url({ treatmentId: treatment.id })} changeLabel={t('change')}>
          {!startsAtValid && (
            <>
              {day && !dayInRange && <p role="alert" className="mb-2 text-sm text-red-700">{t('dayOutOfRange', { last: dateLabel(lastDay) })}</p>}
              <ul className="flex gap-2 overflow-x-auto pb-2 sm:flex-wrap" aria-label={t('stepDay')}>
                {bookableDays(clinic, now).map(({ day: d, open }) => (
                  <li key={d} className="shrink-0">
                    {open ? (
                      <Link
                        href={url({ treatmentId: treatment.id, day: d, kind: choice.kind })}
                        data-testid={`day-${d}`}
                        aria-current={d === day ? 'date' : undefined}
                        className={`block rounded border px-3 py-2 text-center text-sm ${d === day ? 'border-brand-600 bg-brand-50 font-semibold' : 'border-stone-300 bg-white hover:border-brand-600'}`}
                      >
                        {chip(d)}
                      </Link>
                    ) : (
                      <span className="block rounded border border-dashed border-stone-200 px-3 py-2 text-center text-sm text-stone-400" aria-disabled="true">
                        {chip(d)} <span className="sr-only">{t('closedDay')}</span>
                      </span>
                    )}
                  </li>
                ))}
              </ul>
              <form method="get" action={`/clinics/${clinicId}/book`} className="mt-2 flex flex-wrap items-end gap-2">
                <input type="hidden" name="treatment" value={treatment.id} />
                {choice.kind && <input type="hidden" name="kind" value={choice.kind} />}
                <label className="flex flex-col gap-1 text-sm">
                  {t('otherDay')}
                  <input type="date" name="day" min={today} max={lastDay} defaultValue={day} required className="rounded border border-stone-300 bg-white px-3 py-2" />
                </label>
                <button type="submit" className="rounded border border-stone-300 bg-white px-3 py-2 text-sm">{t('showDay')}</button>
              </form>
            </>
          )}
        </Step>
      )}

      {/* 3. Slot */}
      {treatment && day && dayInRange && (
        <Step n={3} title={t('stepSlot', { date: dateLabel(day) })} done={slotOk ? timeLabel(chosen.startsAt) : undefined} change={url({ treatmentId: treatment.id, day, kind: choice.kind })} changeLabel={t('change')}>
          {slotProblem && (
            <p role="alert" className="mb-3 rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="slot-problem">
              {slotProblem === 'full' ? t('slotFull') : t('slotUnavailable')}
            </p>
          )}
          {!slotOk &&
            (slots.length === 0 ? (
              <p className="text-sm text-stone-600">{t('noSlots')}</p>
            ) : (
              <ul className="grid grid-cols-3 gap-2 sm:grid-cols-5" aria-label={t('slotsOf', { date: dateLabel(day) })}>
                {slots.map((s) => (
                  <li key={s.startsAt}>
                    {s.full ? (
                      <button type="button" disabled className="w-full cursor-not-allowed rounded border border-stone-200 bg-stone-100 px-2 py-2 text-sm text-stone-400 line-through" data-testid={`slot-${s.time}`} aria-label={t('slotFullLabel', { time: s.time })}>
                        {s.time}
                      </button>
                    ) : (
                      <Link
                        href={url({ treatmentId: treatment.id, startsAt: s.startsAt, kind: choice.kind })}
                        className="block rounded border border-stone-300 bg-white px-2 py-2 text-center text-sm hover:border-brand-600"
                        data-testid={`slot-${s.time}`}
                        aria-label={t('slotLabel', { time: s.time, free: s.free })}
                      >
                        <span className="block font-medium">{s.time}</span>
                        <span className="block text-xs text-stone-500">{t('seatsLeft', { count: s.free })}</span>
                      </Link>
                    )}
                  </li>
                ))}
              </ul>
            ))}
        </Step>
      )}

      {/* 4. Kind */}
      {treatment && slotOk && (
        <Step n={4} title={t('stepKind')} done={kind ? t(`kind.${kind}`) : undefined} change={kinds.length > 1 ? url({ treatmentId: treatment.id, startsAt: chosen.startsAt }) : undefined} changeLabel={t('change')}>
          {!kind && (
            <ul className="flex flex-col gap-2" aria-label={t('stepKind')}>
              {kinds.map((k) => (
                <li key={k}>
                  <Link href={url({ treatmentId: treatment.id, startsAt: chosen.startsAt, kind: k })} className="block rounded border border-stone-300 bg-white px-3 py-2 hover:border-brand-600" data-testid={`kind-${k}`}>
                    <span className="block font-medium">{t(`kind.${k}`)}</span>
                    <span className="block text-sm text-stone-600">
                      {k === 'pay-and-book' ? t('kindPayHint', { deposit: formatKrw(treatment.depositKrw, locale) }) : t('kindConsultHint')}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
          {kinds.length === 1 && <p className="text-sm text-stone-600">{t('onlyKind')}</p>}
        </Step>
      )}

      {/* 5. Review and submit */}
      {treatment && slotOk && kind && (
        <Step n={5} title={t('stepReview')} changeLabel={t('change')}>
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm" data-testid="review">
            <dt className="text-stone-500">{t('clinic')}</dt>
            <dd>{name(clinic)}</dd>
            <dt className="text-stone-500">{t('treatment')}</dt>
            <dd>{name(treatment)} ({t(`kind.${kind}`)})</dd>
            <dt className="text-stone-500">{t('when')}</dt>
            <dd>
              {dateLabel(day!)} {timeLabel(chosen.startsAt)} <span className="text-stone-500">({t('kst')}, {tc('minutes', { count: duration })})</span>
            </dd>
            <dt className="text-stone-500">{t('price')}</dt>
            <dd className="tabular-nums">{formatKrw(treatment.priceKrw, locale)}</dd>
            <dt className="text-stone-500">{t('depositNow')}</dt>
            <dd className="tabular-nums font-semibold" data-testid="review-deposit">{formatKrw(kind === 'pay-and-book' ? treatment.depositKrw : 0, locale)}</dd>
            <dt className="text-stone-500">{t('confirmation')}</dt>
            <dd>{treatment.bookingMode === 'instant' ? (kind === 'pay-and-book' ? t('instantPaid') : t('instantConsult')) : t('clinicConfirms')}</dd>
          </dl>
          {policy && (
            <div className="mt-4 rounded bg-stone-50 p-3 text-sm" data-testid="review-policy">
              <h3 className="font-semibold">{t('policyTitle')}</h3>
              <ul className="mt-1 list-inside list-disc">
                <li>{t('policyFree', { hours: policy.freeCancellationHours })}</li>
                <li>{t('policyLate', { fee: formatKrw(policy.lateCancellationFeeKrw, locale) })}</li>
                <li>{policy.noShowForfeitsDeposit ? t('policyNoShow') : t('policyNoShowKept')}</li>
              </ul>
              <p className="mt-1 text-stone-600">{t('policyFrozen')}</p>
            </div>
          )}
          <BookForm
            clinicId={clinicId}
            treatmentId={treatment.id}
            startsAt={chosen.startsAt}
            kind={kind}
            commandId={randomUUID()}
            otherSlotsUrl={url({ treatmentId: treatment.id, day, kind })}
            submitLabel={kind === 'pay-and-book' ? t('submitPay', { deposit: formatKrw(treatment.depositKrw, locale) }) : t('submitConsult')}
          />
        </Step>
      )}
    </article>
  );
}
