import type { Metadata } from 'next';
import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import type { Locale } from '@/lib/i18n/config';
import { formatKrw, formatSeoulDateTime } from '@/lib/format';
import { stuckPaymentsForAdmin, type StuckPaymentView } from '@/lib/queries/payments-admin';
import { Table } from '../../components/table';
import { ReconcileNowForm, ResolveForm, RetryForm } from './forms';

export const dynamic = 'force-dynamic';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('adminPayments'))('title') };
}

/** Payments whose outcome the reconciliation could not settle: parked here for a person, never dropped. */
export default async function AdminPaymentsPage() {
  const { stuck, waiting } = await stuckPaymentsForAdmin(); // admin only (requireUser inside)
  const [t, locale] = await Promise.all([getTranslations('adminPayments'), getLocale() as Promise<Locale>]);
  const when = (at: Date | null) => (at ? formatSeoulDateTime(at, locale) : '—');
  const gatewayCell = (p: StuckPaymentView) => {
    const g = p.gateway;
    if (!g) return <span className="text-stone-500">{t('gatewayUnknown')}</span>;
    return (
      <dl className="grid grid-cols-[auto_1fr] gap-x-2 text-xs">
        <dt className="text-stone-500">{t('gatewayStatus')}</dt>
        <dd data-testid="gateway-status">{g.status}</dd>
        <dt className="text-stone-500">{t('gatewayKey')}</dt>
        <dd className="break-all font-mono">{g.paymentKey}</dd>
        <dt className="text-stone-500">{t('gatewayAmount')}</dt>
        <dd>
          {formatKrw(g.totalAmount, locale)} ({t('gatewayBalance')} {formatKrw(g.balanceAmount, locale)})
        </dd>
        {g.failure ? (
          <>
            <dt className="text-stone-500">{t('gatewayFailure')}</dt>
            <dd>
              {g.failure.code}: {g.failure.message}
            </dd>
          </>
        ) : null}
      </dl>
    );
  };
  return (
    <section className="flex flex-col gap-6">
      <div>
        <p className="text-sm">
          <Link href="/admin" className="text-brand-700 underline">
            {t('back')}
          </Link>
        </p>
        <h1 className="mt-2 text-2xl font-bold">{t('title')}</h1>
        <p className="mt-1 max-w-prose text-sm text-stone-600">{t('intro')}</p>
      </div>

      <section aria-labelledby="waiting-heading" className="flex flex-col gap-2 rounded-lg border border-stone-200 bg-white p-4">
        <h2 id="waiting-heading" className="text-lg font-semibold">
          {t('waitingTitle')}
        </h2>
        <p className="text-sm" data-testid="waiting-count">
          {t('waiting', { count: waiting })}
        </p>
        <div className="max-w-xs">
          <ReconcileNowForm />
        </div>
      </section>

      <section aria-labelledby="stuck-heading" className="flex flex-col gap-2">
        <h2 id="stuck-heading" className="text-lg font-semibold">
          {t('stuckTitle')}
        </h2>
        <Table
          caption={t('stuckTitle')}
          testId="stuck-payments"
          rows={stuck}
          rowKey={(p) => p.paymentId}
          rowProps={(p) => ({ 'data-payment-id': p.paymentId })}
          empty={<p className="rounded-lg border border-stone-200 bg-white p-4 text-sm text-stone-600">{t('none')}</p>}
          columns={[
            {
              header: t('payment'),
              rowHeader: true,
              className: 'min-w-40',
              cell: (p) => (
                <div className="flex flex-col gap-1">
                  <span className="break-all font-mono text-xs">{p.paymentId}</span>
                  <span>{p.clinicName ? (locale === 'ko' ? p.clinicName.ko : p.clinicName.en) : (p.clinicId ?? '—')}</span>
                  {p.reservationId ? <span className="break-all text-xs text-stone-500">{t('reservation', { id: p.reservationId })}</span> : null}
                </div>
              ),
            },
            { header: t('amount'), align: 'end', className: 'whitespace-nowrap', cell: (p) => (p.amountKrw === null ? '—' : formatKrw(p.amountKrw, locale)) },
            {
              header: t('checked'),
              className: 'min-w-32',
              cell: (p) => (
                <div className="flex flex-col gap-1 text-xs">
                  <span>{t('requestedAt', { at: when(p.requestedAt) })}</span>
                  <span>{t('checks', { count: p.checks, at: when(p.lastCheckedAt) })}</span>
                  <span>{t('stuckAt', { at: when(p.stuckAt) })}</span>
                </div>
              ),
            },
            { header: t('gateway'), className: 'min-w-48', cell: gatewayCell },
            { header: t('lastError'), className: 'min-w-20', cell: (p) => <span className="break-words text-xs">{p.lastError ?? '—'}</span> },
            {
              header: t('actions'),
              cell: (p) => (
                <div className="flex min-w-44 flex-col gap-3">
                  <RetryForm paymentId={p.paymentId} />
                  <ResolveForm paymentId={p.paymentId} />
                </div>
              ),
            },
          ]}
        />
      </section>
    </section>
  );
}
