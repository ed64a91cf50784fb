import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { checkoutTestCards, checkoutView, waitForDepositRecorded } from '@/lib/queries/checkout';
import { AutoRefresh } from '../auto-refresh';
import { OrderSummary } from '../order-summary';
import { CardWidget } from '../widget';

type Props = { params: Promise<{ paymentId: string }> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('checkout'))('title') };
}

function Frame({ title, children, testId }: { title: string; children: React.ReactNode; testId: string }) {
  return (
    <section className="mx-auto flex w-full max-w-md flex-col gap-4 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm" data-testid={testId}>
      <h1 className="text-xl font-bold">{title}</h1>
      {children}
    </section>
  );
}

/**
 * The deposit checkout. One page for every state of the payment: waiting for a card (the widget;
 * also after a declined attempt, which says so), an attempt whose outcome the gateway has not told
 * us ("checking with the card company" until the reconciliation records it), paid (and what that did
 * to the reservation), refunded, closed (the payment deadline passed).
 */
export default async function CheckoutPage({ params }: Props) {
  const { paymentId } = await params;
  let view = await checkoutView(paymentId);
  if (!view) notFound();
  const [t, locale] = await Promise.all([getTranslations('checkout'), getLocale() as Promise<Locale>]);
  const reservationUrl = view.reservation ? `/me/reservations/${view.reservation.id}` : '/me';
  const sandboxBanner = (
    <p className="rounded bg-amber-100 px-3 py-1 text-center text-xs font-medium text-amber-900">{t('sandboxBanner')}</p>
  );

  if (view.state === 'paid' && view.refundedKrw > 0) {
    return (
      <Frame title={t('refundedTitle')} testId="checkout-refunded">
        <OrderSummary view={view} />
        <p role="status">{t('refunded', { amount: formatKrw(view.refundedKrw, locale) })}</p>
        <Link href={reservationUrl} className="text-center underline">{t('toReservation')}</Link>
      </Frame>
    );
  }

  if (view.state === 'paid') {
    view = await waitForDepositRecorded(view);
    const r = view.reservation;
    const recorded = !r || r.depositPaidKrw >= r.depositDueKrw;
    return (
      <Frame title={t('paidTitle')} testId="checkout-paid">
        <OrderSummary view={view} />
        {!recorded ? (
          <>
            <p role="status">{t('paidRecording')}</p>
            <AutoRefresh />
          </>
        ) : r?.status === 'confirmed' ? (
          <p role="status" className="rounded bg-green-50 px-3 py-2 text-green-900" data-testid="reservation-outcome">{t('reservationConfirmed')}</p>
        ) : r?.status === 'requested' ? (
          <p role="status" className="rounded bg-sky-50 px-3 py-2 text-sky-900" data-testid="reservation-outcome">{t('reservationAwaitsClinic')}</p>
        ) : (
          <p role="status" className="rounded bg-stone-100 px-3 py-2" data-testid="reservation-outcome">{t('reservationClosed')}</p>
        )}
        <Link href={reservationUrl} className="rounded bg-brand-600 px-4 py-2 text-center font-medium text-white hover:bg-brand-700">{t('toReservation')}</Link>
      </Frame>
    );
  }

  if (view.state === 'pending') {
    return (
      <Frame title={t('checkingTitle')} testId="checkout-checking">
        <OrderSummary view={view} />
        <p role="status" className="rounded bg-sky-50 px-3 py-2 text-sky-900">{t('checkingBody')}</p>
        <AutoRefresh ms={3000} />
        <Link href={`/checkout/${paymentId}`} className="text-center text-sm underline">{t('refresh')}</Link>
      </Frame>
    );
  }

  // Closed: the payment deadline passed (the reservation was cancelled), or an admin resolved it.
  if (view.state === 'closed' || (view.reservation && view.reservation.status !== 'requested')) {
    return (
      <Frame title={t('title')} testId="checkout-closed">
        <OrderSummary view={view} />
        <p role="alert">{t('reservationNotPayable')}</p>
        <Link href={reservationUrl} className="text-center underline">{t('toReservation')}</Link>
      </Frame>
    );
  }
  const testCards = await checkoutTestCards();
  return (
    <Frame title={t('title')} testId="checkout">
      {testCards.length > 0 && sandboxBanner}
      <OrderSummary view={view} />
      {view.lastDecline && (
        <p role="alert" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900" data-testid="last-decline">
          {t('lastDecline')}
        </p>
      )}
      <CardWidget
        paymentId={paymentId}
        payLabel={t('pay', { amount: formatKrw(view.amountKrw, locale) })}
        cancelUrl={`/checkout/${paymentId}/fail?code=PAY_PROCESS_CANCELED`}
        testCards={testCards}
      />
    </Frame>
  );
}
