import { getLocale, getTranslations } from 'next-intl/server';
import { localTime } from '@/lib/domain';
import { formatKrw, formatSeoulDate } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import type { CheckoutView } from '@/lib/queries/checkout';

/** The order, as a PG's window shows it above the payment method: who is paid, for what, how much. */
export async function OrderSummary({ view }: { view: CheckoutView }) {
  const [t, locale] = await Promise.all([getTranslations('checkout'), getLocale() as Promise<Locale>]);
  const clinic = view.clinic ? (locale === 'ko' ? view.clinic.nameKo : view.clinic.nameEn) : '';
  return (
    <section aria-labelledby="order" className="rounded-lg bg-stone-50 p-4" data-testid="order-summary">
      <h2 id="order" className="sr-only">{t('order')}</h2>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-stone-500">{t('merchant')}</dt>
        <dd>{clinic}</dd>
        {view.reservation && (
          <>
            <dt className="text-stone-500">{t('orderName')}</dt>
            <dd>{t('depositFor', { treatment: view.reservation.treatmentName })}</dd>
            <dt className="text-stone-500">{t('slot')}</dt>
            <dd data-testid="order-slot">{formatSeoulDate(view.reservation.startsAt, locale)} {localTime(view.reservation.startsAt)} ({t('kst')})</dd>
          </>
        )}
        <dt className="text-stone-500">{t('orderId')}</dt>
        <dd className="break-all font-mono text-xs">{view.orderId}</dd>
      </dl>
      <p className="mt-3 flex items-baseline justify-between border-t border-stone-200 pt-3">
        <span className="text-sm text-stone-600">{t('amount')}</span>
        <span className="text-2xl font-bold tabular-nums" data-testid="order-amount">{formatKrw(view.amountKrw, locale)}</span>
      </p>
      <p className="text-right text-xs text-stone-500">
        {view.vatKrw > 0 ? t('vatIncluded', { vat: formatKrw(view.vatKrw, locale) }) : t('depositAdvance')}
      </p>
    </section>
  );
}
