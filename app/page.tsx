import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { listClinicsWithTreatments } from '@/lib/queries/catalogue';

export default async function HomePage() {
  const [clinics, t, locale] = await Promise.all([listClinicsWithTreatments(), getTranslations('home'), getLocale() as Promise<Locale>]);
  return (
    <section>
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      <p className="mt-2 text-stone-600">{t('intro')}</p>
      <ul className="mt-6 grid gap-4 sm:grid-cols-2">
        {clinics.map((clinic) => {
          const name = locale === 'ko' ? clinic.nameKo : clinic.nameEn;
          const cheapest = clinic.treatments[0];
          return (
            <li key={clinic.id} className="rounded-lg border border-stone-200 bg-white p-4 shadow-sm">
              <h2 className="text-lg font-semibold">
                <Link href={`/clinics/${clinic.id}`} className="hover:underline">
                  {name}
                </Link>
              </h2>
              <p className="text-sm text-stone-600">{clinic.district}</p>
              <p className="mt-2 text-sm">
                {t('treatments', { count: clinic.treatments.length })}
                {cheapest && <> · {t('from', { price: formatKrw(cheapest.priceKrw, locale) })}</>}
              </p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
