import { getTranslations } from 'next-intl/server';

/** Shown while a /me page loads (the read models are queried on the server). */
export default async function Loading() {
  const t = await getTranslations('me');
  return (
    <div role="status" aria-live="polite" className="flex flex-col gap-3">
      <span className="sr-only">{t('loading')}</span>
      <div className="h-8 w-40 animate-pulse rounded bg-stone-200" />
      <div className="h-28 animate-pulse rounded-lg bg-stone-100" />
      <div className="h-28 animate-pulse rounded-lg bg-stone-100" />
    </div>
  );
}
