import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw, formatSeoulShortDate } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { nextFreeSlot } from '@/lib/queries/availability';
import { clinicFiltersSchema, listClinics } from '@/lib/queries/catalogue';
import { categoryLabel, districtLabel, localName } from './components/catalogue-labels';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** "Find a clinic": the filters live in the URL (a plain GET form, so it works without JavaScript). */
export default async function HomePage({ searchParams }: { searchParams: SearchParams }) {
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const filters = clinicFiltersSchema.parse(raw);
  const [listing, t, tHome, tCat, locale] = await Promise.all([
    listClinics(filters),
    getTranslations('find'),
    getTranslations('home'),
    getTranslations('categories'),
    getLocale() as Promise<Locale>,
  ]);
  const now = new Date();
  const cards = await Promise.all(listing.clinics.map(async (c) => ({ clinic: c, next: await nextFreeSlot(c, now) })));
  const field = 'flex flex-col gap-1 text-sm font-medium';
  const input = 'rounded-md border border-stone-300 bg-white px-3 py-2 text-base font-normal';
  const filtered = Boolean(filters.q || filters.district || filters.category);
  return (
    <section className="flex flex-col gap-6">
      <header>
        <h1 className="text-2xl font-bold">{tHome('title')}</h1>
        <p className="mt-2 text-stone-600">{tHome('intro')}</p>
      </header>

      <form method="get" action="/" role="search" aria-label={t('filters')} className="grid gap-3 rounded-lg border border-stone-200 bg-white p-4 sm:grid-cols-[2fr_1fr_1fr_auto]">
        <label className={field}>
          {t('search')}
          <input type="search" name="q" defaultValue={filters.q} placeholder={t('searchPlaceholder')} className={input} />
        </label>
        <label className={field}>
          {t('district')}
          <select name="district" defaultValue={filters.district ?? ''} className={input}>
            <option value="">{t('anyDistrict')}</option>
            {listing.districts.map((d) => (
              <option key={d} value={d}>{districtLabel(d, locale)}</option>
            ))}
          </select>
        </label>
        <label className={field}>
          {t('category')}
          <select name="category" defaultValue={filters.category ?? ''} className={input}>
            <option value="">{t('anyCategory')}</option>
            {listing.categories.map((c) => (
              <option key={c} value={c}>{categoryLabel(tCat, c)}</option>
            ))}
          </select>
        </label>
        <div className="flex items-end gap-2">
          <button type="submit" className="rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700">{t('apply')}</button>
          {filtered && (
            <Link href="/" className="rounded-md border border-stone-300 px-4 py-2 hover:bg-stone-100">{t('clear')}</Link>
          )}
        </div>
      </form>

      <p role="status" className="text-sm text-stone-600" data-testid="result-count">
        {t('results', { count: cards.length })}
      </p>

      {cards.length === 0 ? (
        <p className="rounded-lg border border-dashed border-stone-300 p-6 text-center text-stone-600">{t('noResults')}</p>
      ) : (
        <ul className="grid gap-4 sm:grid-cols-2" aria-label={tHome('title')}>
          {cards.map(({ clinic, next }) => {
            const name = localName(clinic, locale);
            const shortest = [...clinic.treatments].sort((a, b) => a.durationMinutes - b.durationMinutes)[0];
            return (
              <li key={clinic.id} className="flex flex-col gap-2 rounded-lg border border-stone-200 bg-white p-4 shadow-sm" data-testid="clinic-card">
                <h2 className="text-lg font-semibold">
                  <Link href={`/clinics/${clinic.id}`} className="hover:underline">{name}</Link>
                </h2>
                <p className="text-sm text-stone-600">{districtLabel(clinic.district, locale)}</p>
                <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
                  <dt className="text-stone-500">{t('cheapest')}</dt>
                  <dd data-testid="cheapest">
                    {clinic.cheapest ? (
                      <>
                        {localName(clinic.cheapest, locale)} · <span className="font-semibold tabular-nums">{formatKrw(clinic.cheapest.priceKrw, locale)}</span>
                      </>
                    ) : (
                      '—'
                    )}
                  </dd>
                  <dt className="text-stone-500">{t('nextFree')}</dt>
                  <dd data-testid="next-free">
                    {next && shortest ? (
                      <Link
                        href={`/clinics/${clinic.id}?treatment=${encodeURIComponent(shortest.id)}&day=${next.day}#availability`}
                        className="font-medium text-brand-700 underline"
                      >
                        {t('nextFreeAt', { date: formatSeoulShortDate(next.startsAt, locale), time: next.time })}
                      </Link>
                    ) : (
                      <span className="text-stone-500">{t('noneFree', { days: clinic.bookingHorizonDays })}</span>
                    )}
                  </dd>
                </dl>
                <p className="text-sm text-stone-600">{tHome('treatments', { count: clinic.treatments.length })}</p>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

