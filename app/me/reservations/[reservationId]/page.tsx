import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw, formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { myReservation, type Receipt } from '@/lib/queries/reservations';
import { StillProcessing } from '../../../components/still-processing';
import { Table } from '../../../components/table';
import { StatusBadge, Timeline, treatmentLabel } from '../../_components/reservation-bits';

type Props = { params: Promise<{ reservationId: string }>; searchParams: Promise<{ done?: string; processing?: string }> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('me.reservation'))('title') };
}

export default async function ReservationPage({ params, searchParams }: Props) {
  const { reservationId } = await params;
  const [r, { done, processing }, t, locale] = await Promise.all([
    myReservation(reservationId),
    searchParams,
    getTranslations('me.reservation'),
    getLocale() as Promise<Locale>,
  ]);
  // Someone else's reservation reads exactly like one that does not exist.
  if (!r) notFound();
  const krw = (n: number) => formatKrw(n, locale);
  const clinic = locale === 'ko' ? r.clinicNameKo : r.clinicNameEn;
  const lines = r.receipts.flatMap((p) => [
    { key: p.paymentId, kind: 'charge' as const, at: p.capturedAt?.toISOString() ?? null, amount: p.capturedKrw, vat: p.capturedVatKrw, p },
    ...p.refunds.map((x) => ({ key: x.refundId, kind: 'refund' as const, at: x.at, amount: x.amountKrw, vat: x.vatKrw, p })),
  ]);
  return (
    <article className="flex flex-col gap-6">
      <Link href="/me" className="text-sm text-brand-700 underline">← {t('back')}</Link>
      {done === 'cancelled' && <Banner testId="done-cancelled">{t('doneCancelled')}</Banner>}
      {done === 'rescheduled' && <Banner testId="done-rescheduled">{t('doneRescheduled')}</Banner>}
      {processing && <StillProcessing />}
      <header className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h1 className="text-2xl font-bold">{treatmentLabel(r, locale)}</h1>
          <p className="text-stone-600">{clinic}</p>
        </div>
        <StatusBadge status={r.status} bookingMode={r.bookingMode} />
      </header>

      <dl className="grid grid-cols-1 gap-x-6 gap-y-2 rounded-lg border border-stone-200 bg-white p-4 text-sm sm:grid-cols-[auto_1fr]">
        <dt className="text-stone-500">{t('when')}</dt>
        <dd data-testid="slot">
          <time dateTime={r.startsAt.toISOString()}>{formatSeoulDateTime(r.startsAt, locale)}</time> – {formatSeoulDateTime(r.endsAt, locale)} {t('kst')}
        </dd>
        <dt className="text-stone-500">{t('kind')}</dt>
        <dd>{t(`kinds.${r.kind === 'consult-first' ? 'consultFirst' : 'payAndBook'}`)}</dd>
        <dt className="text-stone-500">{t('price')}</dt>
        <dd>{krw(r.priceKrw)}</dd>
        <dt className="text-stone-500">{t('deposit')}</dt>
        <dd>{r.depositDueKrw > 0 ? t('depositOf', { due: krw(r.depositDueKrw), paid: krw(r.depositPaidKrw) }) : t('noDeposit')}</dd>
        <dt className="text-stone-500">{t('address')}</dt>
        <dd>{r.clinicAddress}</dd>
        <dt className="text-stone-500">{t('phone')}</dt>
        <dd>{r.clinicPhone && <a href={`tel:${r.clinicPhone}`} className="underline">{r.clinicPhone}</a>}</dd>
      </dl>

      {r.status === 'requested' && r.kind === 'pay-and-book' && r.depositPaidKrw < r.depositDueKrw && (
        <p className="flex flex-wrap items-center justify-between gap-2 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm" data-testid="deposit-due">
          <span>{t('depositDue', { amount: krw(r.depositDueKrw - r.depositPaidKrw) })}</span>
          {/* H7's checkout: it finds the reservation's open deposit payment (or waits for its request). */}
          <Link href={`/checkout/reservation/${r.id}`} className="rounded bg-brand-600 px-3 py-1.5 font-medium text-white hover:bg-brand-700">
            {t('payDeposit')}
          </Link>
        </p>
      )}

      {r.changeable && (
        <nav aria-label={t('actions')} className="flex flex-wrap gap-3">
          <Link href={`/me/reservations/${r.id}/reschedule`} className="rounded border border-stone-300 bg-white px-4 py-2 font-medium hover:bg-stone-100">
            {t('reschedule')}
          </Link>
          <Link href={`/me/reservations/${r.id}/cancel`} className="rounded border border-red-300 bg-white px-4 py-2 font-medium text-red-800 hover:bg-red-50">
            {t('cancel')}
          </Link>
        </nav>
      )}

      <section aria-labelledby="money" className="flex flex-col gap-3">
        <h2 id="money" className="text-lg font-semibold">{t('money')}</h2>
        <dl className="grid grid-cols-[1fr_auto] gap-x-6 gap-y-1 rounded-lg border border-stone-200 bg-white p-4 text-sm sm:max-w-md" data-testid="money">
          <dt>{t('paid')}</dt>
          <dd className="text-right tabular-nums" data-testid="paid">{krw(r.paidKrw)}</dd>
          <dt className="pl-3 text-stone-500">{t('vatIncluded')}</dt>
          <dd className="text-right tabular-nums text-stone-500" data-testid="paid-vat">{krw(r.paidVatKrw)}</dd>
          {r.feesKrw > 0 && (
            <>
              <dt>{t('fees')}</dt>
              <dd className="text-right tabular-nums" data-testid="fees">{krw(r.feesKrw)}</dd>
            </>
          )}
          <dt>{t('refunded')}</dt>
          <dd className="text-right tabular-nums" data-testid="refunded">{krw(r.refundedKrw)}</dd>
          <dt className="pl-3 text-stone-500">{t('vatIncluded')}</dt>
          <dd className="text-right tabular-nums text-stone-500" data-testid="refunded-vat">{krw(r.refundedVatKrw)}</dd>
          <dt className="border-t border-stone-200 pt-1 font-semibold">{t('net')}</dt>
          <dd className="border-t border-stone-200 pt-1 text-right font-semibold tabular-nums" data-testid="net">{krw(r.paidKrw - r.refundedKrw)}</dd>
        </dl>
        {r.refundPendingKrw > 0 && (
          <p role="status" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm" data-testid="refund-pending">
            {t('refundPending', { amount: krw(r.refundPendingKrw) })}
          </p>
        )}
        <h3 className="font-semibold">{t('receipts')}</h3>
        <Table
          caption={t('receipts')}
          testId="receipts"
          rows={lines}
          rowKey={(l) => l.key}
          rowProps={(l) => ({ 'data-line': l.kind })}
          empty={<p className="text-sm text-stone-600">{t('noReceipts')}</p>}
          columns={[
            { header: t('receiptDate'), cell: (l) => (l.at ? `${formatSeoulDateTime(new Date(l.at), locale)} ${t('kst')}` : '—'), rowHeader: true },
            { header: t('receiptWhat'), cell: (l) => (l.kind === 'charge' ? t(l.p.purpose === 'deposit' ? 'chargeDeposit' : 'chargeBill') : t('refund')), className: 'whitespace-nowrap' },
            { header: t('receiptAmount'), cell: (l) => (l.kind === 'refund' ? `−${krw(l.amount)}` : krw(l.amount)), align: 'end', className: 'whitespace-nowrap' },
            { header: t('receiptVat'), cell: (l) => krw(l.vat), align: 'end', className: 'whitespace-nowrap' },
            // The gateway reference is for a dispute with the card company; on a phone it would squeeze the amounts.
            { header: t('receiptRef'), cell: (l) => <ProviderRef p={l.p} />, className: 'hidden text-xs text-stone-500 sm:table-cell' },
          ]}
        />
      </section>

      <section aria-labelledby="policy">
        <h2 id="policy" className="text-lg font-semibold">{t('policy')}</h2>
        <ul className="mt-2 list-inside list-disc text-sm" data-testid="frozen-policy">
          <li>{t('policyFree', { hours: r.policy.freeCancellationHours })}</li>
          <li>{t('policyLateFee', { fee: krw(r.policy.lateCancellationFeeKrw) })}</li>
          {r.policy.noShowForfeitsDeposit && <li>{t('policyNoShow')}</li>}
        </ul>
      </section>

      <section aria-labelledby="history">
        <h2 id="history" className="text-lg font-semibold">{t('history')}</h2>
        <div className="mt-2">
          <Timeline steps={r.timeline} />
        </div>
      </section>
    </article>
  );
}

function ProviderRef({ p }: { p: Receipt }) {
  return <span className="break-all">{[p.provider, p.providerRef].filter(Boolean).join(' · ')}</span>;
}

function Banner({ children, testId }: { children: React.ReactNode; testId: string }) {
  return (
    <p role="status" data-testid={testId} className="rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
      {children}
    </p>
  );
}
