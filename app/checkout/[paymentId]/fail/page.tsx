import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getTranslations } from 'next-intl/server';
import { checkoutView } from '@/lib/queries/checkout';
import { OrderSummary } from '../../order-summary';

type Props = { params: Promise<{ paymentId: string }>; searchParams: Promise<{ code?: string }> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('checkout'))('failTitle') };
}

/** The PG's failure URL (a declined card, or the patient closed the payment window), with a way to pay again. */
export default async function CheckoutFailPage({ params, searchParams }: Props) {
  const [{ paymentId }, { code }] = await Promise.all([params, searchParams]);
  const view = await checkoutView(paymentId);
  if (!view) notFound();
  const t = await getTranslations('checkout');
  const cancelled = code === 'PAY_PROCESS_CANCELED';
  const r = view.reservation;
  // A declined payment takes no more money: the process manager asks a new one, which that page waits for.
  const again = view.state === 'payable' ? `/checkout/${paymentId}` : r && r.status === 'requested' ? `/checkout/reservation/${r.id}` : null;
  return (
    <section className="mx-auto flex w-full max-w-md flex-col gap-4 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" data-testid="checkout-failed">
      <h1 className="text-xl font-bold">{cancelled ? t('cancelledTitle') : t('failTitle')}</h1>
      <OrderSummary view={view} />
      <p role="alert" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-red-900" data-testid="fail-message">
        {cancelled ? t('cancelled') : code === 'REJECT_CARD_PAYMENT' ? t('declined') : t('failedOther')}
      </p>
      {again && (
        <Link href={again} className="rounded bg-brand-600 px-4 py-2 text-center font-medium text-white hover:bg-brand-700">{t('payAgain')}</Link>
      )}
      {r && <Link href={`/me/reservations/${r.id}`} className="text-center text-sm underline">{t('toReservation')}</Link>}
    </section>
  );
}
