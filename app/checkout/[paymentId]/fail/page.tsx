import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getTranslations } from 'next-intl/server';
import { failAction } from '@/app/actions/checkout';
import { checkoutView } from '@/lib/queries/checkout';
import { AutoSubmit } from '../../auto-submit';
import { OrderSummary } from '../../order-summary';

type Props = { params: Promise<{ paymentId: string }>; searchParams: Promise<{ code?: string; message?: string; paymentKey?: string }> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('checkout'))('failTitle') };
}

/**
 * The PG's failure URL: a declined card, or the patient closed the payment window. With a
 * paymentKey the server first asks the gateway about that attempt and records it (failAction);
 * then this page says what happened and offers to pay again while the deposit is still payable.
 */
export default async function CheckoutFailPage({ params, searchParams }: Props) {
  const [{ paymentId }, q] = await Promise.all([params, searchParams]);
  const view = await checkoutView(paymentId);
  if (!view) notFound();
  const t = await getTranslations('checkout');
  const frame = 'mx-auto flex w-full max-w-md flex-col gap-4 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm';
  if (typeof q.paymentKey === 'string' && q.paymentKey) {
    const fields: Record<string, string> = { paymentId, paymentKey: q.paymentKey };
    if (q.code) fields.code = q.code;
    if (q.message) fields.message = q.message;
    return (
      <section className={frame} data-testid="checkout-recording-failure">
        <h1 className="text-xl font-bold">{t('failTitle')}</h1>
        <AutoSubmit action={failAction} fields={fields} pending={t('recordingFailure')} button={t('continue')} />
      </section>
    );
  }
  const cancelled = q.code === 'PAY_PROCESS_CANCELED';
  const r = view.reservation;
  return (
    <section className={frame} data-testid="checkout-failed">
      <h1 className="text-xl font-bold">{cancelled ? t('cancelledTitle') : t('failTitle')}</h1>
      <OrderSummary view={view} />
      <p role="alert" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-red-900" data-testid="fail-message">
        {cancelled ? t('cancelled') : q.code === 'REJECT_CARD_PAYMENT' ? t('declined') : t('failedOther')}
      </p>
      {view.state === 'payable' && (
        <Link href={`/checkout/${paymentId}`} className="rounded bg-brand-600 px-4 py-2 text-center font-medium text-white hover:bg-brand-700">{t('payAgain')}</Link>
      )}
      {view.state !== 'payable' && <Link href={`/checkout/${paymentId}`} className="text-center underline">{t('toCheckout')}</Link>}
      {r && <Link href={`/me/reservations/${r.id}`} className="text-center text-sm underline">{t('toReservation')}</Link>}
    </section>
  );
}
