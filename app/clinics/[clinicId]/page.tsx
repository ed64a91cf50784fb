import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw, formatSeoulDate, formatSeoulShortDate } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { availabilityFor, bookableDays, lastBookableDay, type DayAvailability } from '@/lib/queries/availability';
import { bookingUrl } from '@/lib/queries/booking';
import { bookingDurationOf, getClinicWithTreatments, type CatalogueClinic, type CatalogueTreatment } from '@/lib/queries/catalogue';
import { categoryLabel, districtLabel, localName } from '../../components/catalogue-labels';
import { OpeningHoursList } from '../../components/opening-hours';
import { Table } from '../../components/table';

type Props = { params: Promise<{ clinicId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const clinic = await getClinicWithTreatments((await params).clinicId);
  const locale = (await getLocale()) as Locale;
  return { title: clinic ? localName(clinic, locale) : undefined };
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

interface Choice {
  treatment: CatalogueTreatment | undefined;
  day: string;
  availability: DayAvailability | null;
  notice: 'unknownTreatment' | 'invalidDay' | null;
}

/** The treatment and day to show: the URL's when valid, else the first treatment and its first day with a free seat. */
async function choose(clinic: CatalogueClinic, query: { treatment?: string; day?: string }, now: Date): Promise<Choice> {
  const asked = query.treatment ? clinic.treatments.find((t) => t.id === query.treatment) : undefined;
  const treatment = asked ?? clinic.treatments[0];
  let notice: Choice['notice'] = query.treatment && !asked ? 'unknownTreatment' : null;
  const validDay = query.day && /^\d{4}-\d{2}-\d{2}$/.test(query.day) && !Number.isNaN(Date.parse(query.day)) ? query.day : undefined;
  if (query.day && !validDay) notice = 'invalidDay';
  const days = bookableDays(clinic, now);
  if (!treatment) return { treatment, day: validDay ?? days[0]!.day, availability: null, notice };
  if (validDay) return { treatment, day: validDay, availability: await availabilityFor(clinic, bookingDurationOf(treatment), validDay, now), notice };
  for (const { day, open } of days) {
    if (!open) continue;
    const a = await availabilityFor(clinic, bookingDurationOf(treatment), day, now);
    if (a.slots.some((s) => !s.full)) return { treatment, day, availability: a, notice };
  }
  return { treatment, day: days[0]!.day, availability: await availabilityFor(clinic, bookingDurationOf(treatment), days[0]!.day, now), notice };
}

export default async function ClinicPage({ params, searchParams }: Props) {
  const [{ clinicId }, query] = await Promise.all([params, searchParams]);
  const [clinic, t, ta, tp, tCat, locale] = await Promise.all([
    getClinicWithTreatments(clinicId),
    getTranslations('clinic'),
    getTranslations('availability'),
    getTranslations('clinicPolicy'),
    getTranslations('categories'),
    getLocale() as Promise<Locale>,
  ]);
  if (!clinic) notFound();
  const now = new Date();
  const choice = await choose(clinic, { treatment: first(query.treatment), day: first(query.day) }, now);
  const days = bookableDays(clinic, now);
  const last = lastBookableDay(clinic, now);
  const dayHref = (day: string) => `/clinics/${clinic.id}?treatment=${encodeURIComponent(choice.treatment?.id ?? '')}&day=${day}#availability`;
  const input = 'rounded-md border border-stone-300 bg-white px-3 py-2 text-base';
  const policy = clinic.policy;
  // Holidays and one-off closures within the booking horizon.
  const closures = days.filter((d) => d.closedReason !== null);

  return (
    <article className="flex flex-col gap-8">
      <header>
        <h1 className="text-2xl font-bold">{localName(clinic, locale)}</h1>
        <p className="mt-1 text-stone-600">{districtLabel(clinic.district, locale)}</p>
        <dl className="mt-3 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-stone-500">{t('address')}</dt>
          <dd>{clinic.address}</dd>
          <dt className="text-stone-500">{t('phone')}</dt>
          <dd>
            <a href={`tel:${clinic.phone}`} className="underline">{clinic.phone}</a>
          </dd>
        </dl>
        {policy && (
          <p className="mt-3 rounded-md bg-brand-50 px-3 py-2 text-sm" data-testid="policy-summary">
            {tp(policy.noShowForfeitsDeposit ? 'summary' : 'summaryNoForfeit', {
              hours: policy.freeCancellationHours,
              fee: formatKrw(policy.lateCancellationFeeKrw, locale),
            })}
          </p>
        )}
      </header>

      <section aria-labelledby="treatments">
        <h2 id="treatments" className="text-lg font-semibold">{t('treatments')}</h2>
        <div className="mt-2">
          <Table
            caption={t('treatments')}
            rows={clinic.treatments}
            rowKey={(tr) => tr.id}
            testId="treatments"
            minWidth="40rem"
            rowClassName={(tr) => (tr.id === choice.treatment?.id ? 'bg-brand-50' : undefined)}
            columns={[
              { header: t('treatment'), rowHeader: true, cell: (tr) => localName(tr, locale) },
              { header: t('category'), cell: (tr) => categoryLabel(tCat, tr.category) },
              { header: t('price'), align: 'end', cell: (tr) => formatKrw(tr.priceKrw, locale) },
              { header: t('deposit'), align: 'end', cell: (tr) => formatKrw(tr.depositKrw, locale) },
              { header: t('duration'), align: 'end', className: 'whitespace-nowrap', cell: (tr) => t('minutes', { count: tr.durationMinutes }) },
              {
                header: t('bookingMode'),
                cell: (tr) => (
                  <>
                    {tr.bookingMode === 'instant' ? t('instant') : t('clinicConfirm')}
                    <span className="block text-xs text-stone-500">
                      {tr.bookingKinds
                        .map((k) => (k === 'consult-first' ? `${ta('kindConsultFirst')} (${t('minutes', { count: tr.consultDurationMinutes ?? tr.durationMinutes })})` : ta('kindPayAndBook')))
                        .join(' · ')}
                    </span>
                  </>
                ),
              },
              {
                header: ta('show'),
                hideHeader: true,
                cell: (tr) => (
                  <Link
                    href={`/clinics/${clinic.id}?treatment=${encodeURIComponent(tr.id)}&day=${choice.day}#availability`}
                    className="whitespace-nowrap text-brand-700 underline"
                    aria-label={ta('showTimes', { name: localName(tr, locale) })}
                  >
                    {ta('show')}
                  </Link>
                ),
              },
            ]}
          />
        </div>
      </section>

      <section aria-labelledby="availability-heading" id="availability" className="scroll-mt-4">
        <h2 id="availability-heading" className="text-lg font-semibold">{ta('heading')}</h2>
        <p className="mt-1 text-sm text-stone-600">{ta('intro', { days: clinic.bookingHorizonDays })}</p>
        {choice.notice && (
          <p role="alert" className="mt-2 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm">{ta(choice.notice)}</p>
        )}
        {!choice.treatment ? (
          <p className="mt-3">{ta('noTreatments')}</p>
        ) : (
          <>
            <form method="get" action={`/clinics/${clinic.id}#availability`} aria-label={ta('pick')} className="mt-3 grid gap-3 rounded-lg border border-stone-200 bg-white p-4 sm:grid-cols-[2fr_1fr_auto]">
              <label className="flex flex-col gap-1 text-sm font-medium">
                {ta('treatment')}
                <select name="treatment" defaultValue={choice.treatment.id} className={input}>
                  {clinic.treatments.map((tr) => (
                    <option key={tr.id} value={tr.id}>
                      {localName(tr, locale)} · {formatKrw(tr.priceKrw, locale)}
                    </option>
                  ))}
                </select>
              </label>
              <label className="flex flex-col gap-1 text-sm font-medium">
                {ta('day')}
                <input type="date" name="day" defaultValue={choice.day} min={days[0]!.day} max={last} required className={input} />
              </label>
              <div className="flex items-end">
                <button type="submit" className="w-full rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700">{ta('show')}</button>
              </div>
            </form>

            {/* Plain links: dozens of them per page, each a client component and a prefetch as next/link. */}
            <nav aria-label={ta('quickDays')} className="mt-3 overflow-x-auto">
              <ul className="flex gap-2 pb-1">
                {days.slice(0, 14).map(({ day, open }) => (
                  <li key={day}>
                    <a
                      href={dayHref(day)}
                      aria-current={day === choice.day ? 'date' : undefined}
                      className={`block whitespace-nowrap rounded-full border px-3 py-1 text-sm ${
                        day === choice.day ? 'border-brand-600 bg-brand-600 text-white' : open ? 'border-stone-300 bg-white hover:bg-stone-100' : 'border-stone-200 bg-stone-100 text-stone-400'
                      }`}
                    >
                      {formatSeoulShortDate(day, locale)}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>

            <Slots clinicId={clinic.id} treatment={choice.treatment} choice={choice} locale={locale} horizonDays={clinic.bookingHorizonDays} last={last} minimumNoticeHours={policy?.minimumNoticeHours ?? 0} />
          </>
        )}
      </section>

      <section aria-labelledby="hours">
        <h2 id="hours" className="text-lg font-semibold">{t('hours')}</h2>
        <OpeningHoursList intervals={clinic.openingHours} />
        {closures.length > 0 && (
          <>
            <h3 className="mt-3 font-medium">{ta('closures')}</h3>
            <ul className="mt-1 text-sm" data-testid="closures">
              {closures.map((d) => (
                <li key={d.day}>
                  {formatSeoulShortDate(d.day, locale)} — {d.closedReason}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      {policy && (
        <section aria-labelledby="policy">
          <h2 id="policy" className="text-lg font-semibold">{t('policy')}</h2>
          <ul className="mt-2 list-inside list-disc text-sm" data-testid="cancellation-policy">
            <li>{t('policyFree', { hours: policy.freeCancellationHours })}</li>
            <li>{t('policyLateFee', { fee: formatKrw(policy.lateCancellationFeeKrw, locale) })}</li>
            {policy.noShowForfeitsDeposit && <li>{t('policyNoShow')}</li>}
            <li>{t('policyNotice', { hours: policy.minimumNoticeHours })}</li>
          </ul>
        </section>
      )}
    </article>
  );
}

async function Slots(props: {
  clinicId: string;
  treatment: CatalogueTreatment;
  choice: Choice;
  locale: Locale;
  horizonDays: number;
  last: string;
  minimumNoticeHours: number;
}) {
  const { clinicId, treatment, choice, locale } = props;
  const ta = await getTranslations('availability');
  const a = choice.availability;
  const date = formatSeoulDate(new Date(`${choice.day}T12:00:00+09:00`), locale);
  return (
    <div className="mt-4" data-testid="slots">
      <h3 className="font-medium">{ta('slotsFor', { date, treatment: localName(treatment, locale), minutes: bookingDurationOf(treatment) })}</h3>
      {!a || !a.bookable ? (
        <p className="mt-2 text-sm">{ta('outsideHorizon', { days: props.horizonDays, last: formatSeoulShortDate(props.last, locale) })}</p>
      ) : a.closedReason ? (
        <p className="mt-2 text-sm" data-testid="closed-day">{ta('closedFor', { reason: a.closedReason })}</p>
      ) : !a.open ? (
        <p className="mt-2 text-sm">{ta('closed')}</p>
      ) : a.slots.length === 0 ? (
        <p className="mt-2 text-sm">{ta('noSlots')}</p>
      ) : (
        <ul className="mt-2 grid grid-cols-3 gap-2 sm:grid-cols-6">
          {a.slots.map((s) => {
            const seats = ta('seatsLeft', { count: s.seatsLeft });
            return (
              <li key={s.startsAt}>
                {s.full ? (
                  <button
                    type="button"
                    disabled
                    aria-label={ta('fullLabel', { time: s.time })}
                    className="flex w-full cursor-not-allowed flex-col items-center rounded-md border border-stone-200 bg-stone-100 px-2 py-2 text-stone-400 line-through"
                  >
                    <span className="font-semibold tabular-nums">{s.time}</span>
                    <span className="text-xs no-underline">{ta('full')}</span>
                  </button>
                ) : (
                  <a
                    href={bookingUrl({ clinicId, treatmentId: treatment.id, startsAt: s.startsAt })}
                    aria-label={ta('slotLabel', { time: s.time, seats })}
                    className="flex w-full flex-col items-center rounded-md border border-brand-600 bg-white px-2 py-2 text-brand-700 hover:bg-brand-50"
                  >
                    <span className="font-semibold tabular-nums">{s.time}</span>
                    <span className="text-xs text-stone-600">{seats}</span>
                  </a>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {props.minimumNoticeHours > 0 && <p className="mt-2 text-xs text-stone-500">{ta('noticeRule', { hours: props.minimumNoticeHours })}</p>}
    </div>
  );
}
