import { getTranslations } from 'next-intl/server';

/** Shown while a checkout page renders (it asks the payment stream and the gateway). */
export default async function CheckoutLoading() {
  const t = await getTranslations('checkout');
  return (
    <div className="mx-auto flex w-full max-w-md flex-col gap-4 rounded-2xl border border-stone-200 bg-white p-5" aria-busy="true">
      <p role="status" className="text-sm text-stone-600">{t('loading')}</p>
      <div className="h-32 animate-pulse rounded-lg bg-stone-100" />
    </div>
  );
}
