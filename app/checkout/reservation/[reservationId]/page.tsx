import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound, redirect } from 'next/navigation';
import { getTranslations } from 'next-intl/server';
import { reservationDeposit } from '@/lib/queries/checkout';
import { StillProcessing } from '../../../components/still-processing';
import { AutoRefresh } from '../../auto-refresh';

type Props = { params: Promise<{ reservationId: string }>; searchParams: Promise<{ processing?: string }> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('checkout'))('preparingTitle') };
}

/**
 * After "pay and book": the process manager requests the deposit payment when it sees the
 * reservation. Wait for it here (bounded), then open its checkout; if it is not there yet, say so
 * and keep looking.
 */
export default async function DepositPreparingPage({ params, searchParams }: Props) {
  const { reservationId } = await params;
  const { processing } = await searchParams;
  const deposit = await reservationDeposit(reservationId, { waitMs: 4000 });
  if (!deposit && !processing) notFound(); // with ?processing the reservation itself may still be on its way
  if (deposit?.paymentId) redirect(`/checkout/${deposit.paymentId}`);
  // Nothing to pay (consult first), or no longer waiting for it: the reservation's page says why.
  if (deposit && (deposit.depositDueKrw <= 0 || deposit.status !== 'requested')) redirect(`/me/reservations/${reservationId}`);
  const t = await getTranslations('checkout');
  return (
    <section className="mx-auto flex max-w-md flex-col gap-3" data-testid="deposit-preparing">
      <h1 className="text-xl font-bold">{t('preparingTitle')}</h1>
      {processing && <StillProcessing />}
      <p role="status">{t('preparing')}</p>
      <AutoRefresh ms={1500} />
      <Link href={`/checkout/reservation/${reservationId}`} className="text-brand-700 underline">{t('refresh')}</Link>
    </section>
  );
}
