import type { Metadata } from 'next';
import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { myAccount } from '@/lib/queries/account';
import { myReservations, type ReservationSummary } from '@/lib/queries/reservations';
import { StillProcessing } from '../components/still-processing';
import { StatusBadge, Timeline, treatmentLabel } from './_components/reservation-bits';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('me'))('title') };
}

export default async function MyReservationsPage({ searchParams }: { searchParams: Promise<{ processing?: string }> }) {
  // Both queries authorise (patients only) and read with the session's patient id.
  const [{ upcoming, past }, account, t, locale, { processing }] = await Promise.all([
    myReservations(),
    myAccount('/me'),
    getTranslations('me'),
    getLocale() as Promise<Locale>,
    searchParams,
  ]);
  // From the patients read model (erased → no name), not the sign-in account's name.
  const welcome = account?.erased ? t('welcomeErased') : account?.name ? t('welcome', { name: account.name }) : null;
  return (
    <section className="flex flex-col gap-6">
      <header className="flex flex-wrap items-end justify-between gap-2">
        <div>
          <h1 className="text-2xl font-bold">{t('title')}</h1>
          {welcome && <p className="mt-1 text-stone-600" data-testid="welcome">{welcome}</p>}
        </div>
        <Link href="/me/account" className="text-sm text-brand-700 underline">{t('accountLink')}</Link>
      </header>
      {processing && <StillProcessing />}
      <section aria-labelledby="upcoming">
        <h2 id="upcoming" className="text-lg font-semibold">{t('upcoming')}</h2>
        {upcoming.length === 0 ? (
          <div className="mt-2 rounded-lg border border-dashed border-stone-300 bg-white p-4 text-stone-600">
            <p>{past.length === 0 ? t('none') : t('noneUpcoming')}</p>
            <Link href="/" className="mt-2 inline-block text-brand-700 underline">{t('browse')}</Link>
          </div>
        ) : (
          <ul className="mt-2 flex flex-col gap-3" data-testid="upcoming-reservations">
            {upcoming.map((r) => <ReservationCard key={r.id} r={r} locale={locale} open />)}
          </ul>
        )}
      </section>
      {past.length > 0 && (
        <section aria-labelledby="past">
          <h2 id="past" className="text-lg font-semibold">{t('past')}</h2>
          <ul className="mt-2 flex flex-col gap-3" data-testid="past-reservations">
            {past.map((r) => <ReservationCard key={r.id} r={r} locale={locale} />)}
          </ul>
        </section>
      )}
    </section>
  );
}

async function ReservationCard({ r, locale, open = false }: { r: ReservationSummary; locale: Locale; open?: boolean }) {
  const t = await getTranslations('me');
  const clinic = locale === 'ko' ? r.clinicNameKo : r.clinicNameEn;
  return (
    <li className="rounded-lg border border-stone-200 bg-white p-4" data-testid="reservation" data-reservation-id={r.id}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h3 className="font-semibold">
            <Link href={`/me/reservations/${r.id}`} className="hover:underline">
              {treatmentLabel(r, locale)}
            </Link>
          </h3>
          <p className="text-sm text-stone-600">{clinic}</p>
          <p className="text-sm">
            <time dateTime={r.startsAt.toISOString()}>{formatSeoulDateTime(r.startsAt, locale)}</time> {t('timeline.kst')}
          </p>
        </div>
        <StatusBadge status={r.status} bookingMode={r.bookingMode} />
      </div>
      <details className="mt-3" open={open}>
        <summary className="cursor-pointer text-sm font-medium text-stone-700">{t('timeline.title')}</summary>
        <div className="mt-2">
          <Timeline steps={r.timeline} compact />
        </div>
      </details>
      <Link href={`/me/reservations/${r.id}`} className="mt-3 inline-block text-sm text-brand-700 underline" aria-label={t('detailsOf', { treatment: treatmentLabel(r, locale) })}>
        {t('details')}
      </Link>
    </li>
  );
}
