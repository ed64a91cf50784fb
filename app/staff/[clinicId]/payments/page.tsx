import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { loadClinic } from '@/lib/commands';
import { clinicSettingsOf, noShowAllowedFrom } from '@/lib/domain/clinic';
import { formatKrw } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { deskLedger, type LedgerRow, type NoShowCandidate } from '@/lib/queries/ledger';
import { appCommandDeps } from '@/lib/runtime/command-deps';
import { Table } from '../../../components/table';
import { StaffHeader } from '../staff-nav';
import { CollectForms, NoShowForm, RefundForm } from './desk-payment-forms';

export const metadata: Metadata = { title: 'Payments' };

const seoulTime = (at: string, locale: Locale) =>
  new Intl.DateTimeFormat(locale === 'ko' ? 'ko-KR' : 'en-KR', { timeZone: 'Asia/Seoul', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(at));

const statusTone: Record<string, string> = {
  requested: 'bg-amber-50 text-amber-800',
  authorized: 'bg-amber-50 text-amber-800',
  captured: 'bg-green-50 text-green-800',
  'partially-refunded': 'bg-sky-50 text-sky-800',
  refunded: 'bg-stone-100 text-stone-700',
  failed: 'bg-stone-100 text-stone-600',
};

/**
 * Payments at the desk (`/staff/<clinicId>/payments?day=yyyy-mm-dd`): the day's ledger (deposits,
 * bills, refunds, withheld fees, VAT, net), collecting an open bill by card or in cash, refunds with
 * a reason, and no-shows after the clinic's grace period. The clinic's own staff only (403 otherwise).
 */
export default async function DeskPaymentsPage({ params, searchParams }: { params: Promise<{ clinicId: string }>; searchParams: Promise<{ day?: string }> }) {
  const [{ clinicId }, { day: dayParam }] = await Promise.all([params, searchParams]);
  const data = await deskLedger(clinicId, typeof dayParam === 'string' ? dayParam : undefined);
  if (!data) notFound();
  // The clinic's own grace period (the read models do not carry clinic settings): the command checks the same.
  const [t, locale, settings] = await Promise.all([
    getTranslations('desk'),
    getLocale() as Promise<Locale>,
    appCommandDeps().then((deps) => loadClinic(deps, clinicId).then(clinicSettingsOf)),
  ]);
  const { ledger, today } = data;
  const { day, totals } = ledger;
  const krw = (n: number) => formatKrw(n, locale);
  const clinicName = locale === 'ko' ? data.clinic.nameKo : data.clinic.nameEn;
  const uuid = () => crypto.randomUUID();
  const grace = settings.noShowGraceMinutes;

  const cards: Array<{ key: keyof typeof totals; value: number; strong?: boolean }> = [
    { key: 'depositsKrw', value: totals.depositsKrw },
    { key: 'billsKrw', value: totals.billsKrw },
    { key: 'refundsKrw', value: totals.refundsKrw > 0 ? -totals.refundsKrw : 0 },
    { key: 'withheldKrw', value: totals.withheldKrw },
    { key: 'vatKrw', value: totals.vatKrw },
    { key: 'netKrw', value: totals.netKrw, strong: true },
  ];
  const totalLabel = (key: keyof typeof totals) => t(`totals.${key.replace(/Krw$/, '')}` as never);

  const rowNotes = (r: LedgerRow) => (
    <span className="block text-xs font-normal text-stone-600">
      {r.appliedKrw > 0 && <span className="block">{t('applied', { amount: krw(r.appliedKrw) })}</span>}
      {r.withheldKrw > 0 && <span className="block text-amber-800">{t('withheld', { amount: krw(r.withheldKrw) })}</span>}
      {r.refunds.map((x, i) => (
        <span key={i} className="block">
          {t('refundLine', { amount: krw(x.amountKrw), reason: x.reason })}
        </span>
      ))}
    </span>
  );

  return (
    <section className="flex flex-col gap-8">
      <StaffHeader clinicId={clinicId} clinicName={clinicName} day={day} today={today} current="payments" title={t('title', { clinic: clinicName })} />

      <section aria-labelledby="desk-totals" className="flex flex-col gap-2">
        <h2 id="desk-totals" className="text-lg font-semibold">
          {t('totalsCaption')}
        </h2>
        <dl className="grid grid-cols-2 gap-2 sm:grid-cols-3 lg:grid-cols-6" data-testid="desk-totals">
          {cards.map((c) => (
            <div key={c.key} className={`rounded-lg border p-3 ${c.strong ? 'border-brand-200 bg-brand-50' : 'border-stone-200 bg-white'}`} data-total={c.key}>
              <dt className="text-xs text-stone-600">{totalLabel(c.key)}</dt>
              <dd className={`mt-1 tabular-nums ${c.strong ? 'text-lg font-bold' : 'font-semibold'}`}>{krw(c.value)}</dd>
            </div>
          ))}
        </dl>
        <p className="text-sm text-stone-600">
          {totals.openBillsKrw > 0 && (
            <span className="mr-2 font-medium text-amber-800" data-testid="open-bills">
              {t('totals.openBills')}: {krw(totals.openBillsKrw)}.
            </span>
          )}
          {t('totalsHint')}
        </p>
      </section>

      <section aria-labelledby="desk-ledger" className="flex flex-col gap-2">
        <h2 id="desk-ledger" className="text-lg font-semibold">
          {t('ledger')} <span className="text-stone-500">({ledger.rows.length})</span>
        </h2>
        <Table
          caption={t('ledger')}
          testId="ledger"
          rows={ledger.rows}
          rowKey={(r) => r.paymentId}
          rowProps={(r) => ({ 'data-payment': r.paymentId, 'data-purpose': r.purpose, 'data-status': r.status })}
          empty={<p className="rounded border border-dashed border-stone-300 p-4 text-sm text-stone-600">{t('noPayments')}</p>}
          columns={[
            { header: t('time'), cell: (r) => seoulTime(r.capturedAt ?? r.requestedAt, locale), className: 'hidden whitespace-nowrap md:table-cell' },
            {
              header: t('what'),
              rowHeader: true,
              className: 'min-w-[8rem]',
              cell: (r) => (
                <>
                  <span className="block">
                    {t(`kind.${r.purpose}`)} · {r.patientName ?? t('patientUnknown')}
                  </span>
                  {r.treatmentName && <span className="block text-xs font-normal text-stone-600">{r.treatmentName}</span>}
                  {/* Phones: time, status and amount under the name (those columns are hidden). */}
                  <span className="block text-xs font-normal text-stone-500 md:hidden">{seoulTime(r.capturedAt ?? r.requestedAt, locale)}</span>
                  <span className="mt-1 flex flex-wrap items-center gap-1 text-xs font-normal sm:hidden">
                    <span className={`rounded px-1.5 py-0.5 font-medium ${statusTone[r.status] ?? ''}`}>{t(`state.${r.status}` as never)}</span>
                    <span className="tabular-nums">{krw(r.amountKrw)}</span>
                    {r.method && <span className="text-stone-600">{t(`method.${r.method}`)}</span>}
                  </span>
                  {rowNotes(r)}
                </>
              ),
            },
            {
              header: t('status'),
              className: 'hidden sm:table-cell',
              cell: (r) => (
                <>
                  <span className={`inline-block whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-medium ${statusTone[r.status] ?? ''}`} data-testid="payment-status">
                    {t(`state.${r.status}` as never)}
                  </span>
                  {r.method && (
                    <span className="block text-xs text-stone-600">
                      {t(`method.${r.method}`)}
                      {r.capturedByName ? ` · ${t('takenBy', { name: r.capturedByName })}` : ''}
                    </span>
                  )}
                </>
              ),
            },
            { header: t('amount'), align: 'end', cell: (r) => krw(r.amountKrw), className: 'hidden sm:table-cell' },
            { header: t('paid'), align: 'end', cell: (r) => krw(r.capturedKrw), className: 'hidden sm:table-cell' },
            { header: t('refunded'), align: 'end', cell: (r) => (r.refundedKrw > 0 ? krw(r.refundedKrw) : '—'), className: 'hidden sm:table-cell' },
            { header: t('vat'), align: 'end', cell: (r) => krw(r.vatKrw), className: 'hidden lg:table-cell' },
            {
              header: t('actions'),
              hideHeader: true,
              className: 'w-[11rem] sm:w-auto sm:min-w-[15rem]',
              cell: (r) =>
                r.collectable ? (
                  <CollectForms clinicId={clinicId} paymentId={r.paymentId} cashAmountKrw={r.amountKrw} cashLabel={t('payInCash', { amount: krw(r.amountKrw) })} cardCommandId={uuid()} cashCommandId={uuid()} />
                ) : r.refundableKrw > 0 ? (
                  <RefundForm clinicId={clinicId} commandId={uuid()} paymentId={r.paymentId} refundableLabel={t('refundable', { amount: krw(r.refundableKrw) })} />
                ) : null,
            },
          ]}
        />
      </section>

      <section aria-labelledby="desk-no-shows" className="flex flex-col gap-2">
        <h2 id="desk-no-shows" className="text-lg font-semibold">
          {t('noShows')}
        </h2>
        <p className="text-sm text-stone-600">{t('noShowsHint', { minutes: grace })}</p>
        <Table
          caption={t('noShows')}
          testId="no-shows"
          rows={ledger.noShows}
          rowKey={(n) => n.reservationId}
          rowProps={(n) => ({ 'data-reservation': n.reservationId, 'data-status': n.status })}
          empty={<p className="rounded border border-dashed border-stone-300 p-4 text-sm text-stone-600">{t('noNoShows')}</p>}
          columns={[
            { header: t('startsAt'), cell: (n: NoShowCandidate) => seoulTime(n.startsAt, locale), className: 'whitespace-nowrap' },
            {
              header: t('patient'),
              rowHeader: true,
              cell: (n) => (
                <>
                  {n.patientName ?? t('patientUnknown')}
                  <span className="block text-xs font-normal text-stone-600">{n.treatmentName}</span>
                </>
              ),
            },
            {
              header: t('deposit'),
              align: 'end',
              cell: (n) => (
                <>
                  {krw(n.depositPaidKrw)}
                  <span className="block text-xs text-stone-600">{n.forfeitKrw > 0 ? t('forfeits', { amount: krw(n.forfeitKrw) }) : t('forfeitsNothing')}</span>
                </>
              ),
            },
            {
              header: t('actions'),
              hideHeader: true,
              cell: (n) =>
                n.status === 'no-show' ? (
                  <span className="inline-block rounded bg-stone-100 px-1.5 py-0.5 text-xs font-medium text-stone-700">{t('noShowDone')}</span>
                ) : (
                  <div className="flex flex-col gap-1">
                    <NoShowForm clinicId={clinicId} commandId={uuid()} reservationId={n.reservationId} />
                    <span className="text-xs text-stone-500">{t('noShowFrom', { time: seoulTime(noShowAllowedFrom({ settings }, n.startsAt).toISOString(), locale) })}</span>
                  </div>
                ),
            },
          ]}
        />
      </section>
    </section>
  );
}
