import { getTranslations } from 'next-intl/server';

/** Shown while the next step renders (each choice is a navigation: the server counts the seats). */
export default async function BookingLoading() {
  const t = await getTranslations('booking');
  return (
    <div className="mx-auto flex max-w-2xl flex-col gap-4" aria-busy="true">
      <p role="status" className="text-sm text-stone-600">{t('loading')}</p>
      {[0, 1, 2].map((i) => (
        <div key={i} className="h-16 animate-pulse rounded-lg border border-stone-200 bg-white" />
      ))}
    </div>
  );
}
