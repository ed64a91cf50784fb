import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getTranslations } from 'next-intl/server';
import { confirmAction } from '@/app/actions/checkout';
import { checkoutView } from '@/lib/queries/checkout';
import { AutoSubmit } from '../../auto-submit';
import { OrderSummary } from '../../order-summary';

type Props = { params: Promise<{ paymentId: string }>; searchParams: Promise<{ paymentKey?: string; orderId?: string; amount?: string }> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('checkout'))('confirmingTitle') };
}

/** The PG's success URL: paymentKey, orderId and amount come back through the browser; the server confirms them. */
export default async function CheckoutSuccessPage({ params, searchParams }: Props) {
  const [{ paymentId }, q] = await Promise.all([params, searchParams]);
  const view = await checkoutView(paymentId);
  if (!view) notFound();
  const t = await getTranslations('checkout');
  const complete = typeof q.paymentKey === 'string' && typeof q.orderId === 'string' && typeof q.amount === 'string';
  return (
    <section className="mx-auto flex w-full max-w-md flex-col gap-4 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" data-testid="checkout-confirming">
      <h1 className="text-xl font-bold">{t('confirmingTitle')}</h1>
      <OrderSummary view={view} />
      {complete ? (
        <AutoSubmit action={confirmAction} fields={{ paymentId, paymentKey: q.paymentKey!, orderId: q.orderId!, amount: q.amount! }} pending={t('confirming')} button={t('confirm')} />
      ) : (
        <p role="alert">{t('errors.incompleteReturn')}</p>
      )}
    </section>
  );
}
