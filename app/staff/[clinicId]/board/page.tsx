import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { visit } from '@/lib/domain';
import { formatKrw, formatSeoulTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { visitBoard, type BoardCard } from '@/lib/queries/board';
import { staffDay, staffTreatments } from '@/lib/queries/staff';
import { clinicDay } from '@/lib/domain';
import { StaffHeader } from '../staff-nav';
import { AddTreatmentForm, MoveForm, RevertForm } from './board-forms';
import { BoardLive, StageTime } from './board-live';

export const metadata: Metadata = { title: 'Visit board' };

const seoulTime = formatSeoulTime;

/** The visit board: a column per stage; live (server-sent events from the projections). */
export default async function VisitBoardPage({ params, searchParams }: { params: Promise<{ clinicId: string }>; searchParams: Promise<{ day?: string }> }) {
  const [{ clinicId }, { day: dayParam }] = await Promise.all([params, searchParams]);
  const day = staffDay(typeof dayParam === 'string' ? dayParam : undefined);
  const [board, catalogue] = await Promise.all([visitBoard(clinicId, day), staffTreatments(clinicId)]);
  if (!catalogue) notFound();
  const [t, locale] = await Promise.all([getTranslations('visitBoard'), getLocale() as Promise<Locale>]);
  const clinicName = locale === 'ko' ? catalogue.clinic.nameKo : catalogue.clinic.nameEn;
  const treatmentOptions = catalogue.treatments.map((x) => ({ value: x.id, label: `${locale === 'ko' ? x.nameKo : x.nameEn} · ${formatKrw(x.priceKrw, locale)}` }));
  const ids = (visitId: string) => ({ clinicId, visitId, commandId: crypto.randomUUID() });

  const card = (c: BoardCard) => {
    const next = visit.NEXT_STAGES[c.stage] as ReadonlyArray<'consultation' | 'procedure' | 'recovery' | 'discharged'>;
    return (
      <li
        key={c.visitId}
        data-testid="visit-card"
        data-visit={c.visitId}
        data-stage={c.stage}
        className="flex flex-col gap-2 rounded-lg border border-stone-200 bg-white p-3 shadow-sm has-[[data-overdue=true]]:border-red-400 has-[[data-overdue=true]]:ring-1 has-[[data-overdue=true]]:ring-red-300"
      >
        <div className="flex items-baseline justify-between gap-2">
          <h3 className="font-semibold" data-testid="card-patient">
            {c.patientName ?? (c.patientErased ? t('patientErased') : t('patientUnknown'))}
          </h3>
          <span className="shrink-0 text-xs text-stone-500">{c.reservationId ? t('booked') : t('walkIn')}</span>
        </div>
        <p className="text-xs text-stone-600">
          {t('inStage')} <StageTime since={c.stageEnteredAt} thresholdMinutes={c.stage === 'discharged' ? null : board.thresholds[c.stage]} /> ·{' '}
          {t('since', { time: seoulTime(c.stageEnteredAt, locale) })}
          <span className="block" data-testid="moved-by">
            {t('movedBy', { name: c.movedByName ?? t('system') })}
          </span>
        </p>
        {c.revert && (
          <p className="rounded bg-amber-50 px-2 py-1 text-xs text-amber-900" data-testid="revert-note">
            {t('revertedFrom', { stage: t(`stages.${c.revert.from}` as never), reason: c.revert.reason })}
          </p>
        )}
        {c.treatments.length > 0 ? (
          <ul className="text-sm" data-testid="card-treatments" aria-label={t('treatments')}>
            {c.treatments.map((x) => (
              <li key={x.lineId} className="flex justify-between gap-2">
                <span>
                  {x.name}
                  {x.quantity > 1 ? ` × ${x.quantity}` : ''}
                </span>
                <span className="tabular-nums text-stone-600">{formatKrw(x.priceKrw, locale)}</span>
              </li>
            ))}
            {/* A discharged card's bill below carries the total. */}
            {!c.bill && (
              <li className="flex justify-between gap-2 border-t border-stone-100 pt-1 font-medium">
                <span>{t('total')}</span>
                <span className="tabular-nums">{formatKrw(c.totalKrw, locale)}</span>
              </li>
            )}
          </ul>
        ) : (
          <p className="text-sm text-stone-500" data-testid="card-treatments">
            {t('noTreatments')}
          </p>
        )}
        {c.bill && (
          <dl className="grid grid-cols-[minmax(0,1fr)_auto] gap-x-2 gap-y-0.5 rounded bg-stone-50 px-2 py-1.5 text-xs [&>dt]:whitespace-nowrap" data-testid="card-bill" data-status={c.bill.status} aria-label={t('bill.title')}>
            <dt className="text-stone-600">{t('bill.total')}</dt>
            <dd className="text-right tabular-nums" data-testid="bill-total">
              {formatKrw(c.bill.totalKrw, locale)}
            </dd>
            <dt className="text-stone-600">{t('bill.depositCredited')}</dt>
            <dd className="text-right tabular-nums" data-testid="bill-deposit">
              {c.bill.depositCreditedKrw > 0 ? `−${formatKrw(c.bill.depositCreditedKrw, locale)}` : formatKrw(0, locale)}
            </dd>
            <dt className="font-medium">{t('bill.balance')}</dt>
            <dd className="text-right font-medium tabular-nums" data-testid="bill-balance">
              {formatKrw(c.bill.balanceKrw, locale)}
            </dd>
            <dd className="col-span-2 mt-1 flex items-center justify-between gap-2 text-xs">
              <span
                data-testid="bill-status"
                className={`rounded px-1.5 py-0.5 font-medium ${c.bill.status === 'due' ? 'bg-amber-100 text-amber-900' : c.bill.status === 'paid' || c.bill.status === 'none' ? 'bg-emerald-100 text-emerald-800' : 'bg-stone-200 text-stone-700'}`}
              >
                {t(`bill.status.${c.bill.status}`)}
              </span>
              {c.bill.status === 'due' && (
                <a href={`/staff/${clinicId}/payments${day === clinicDay(new Date()) ? '' : `?day=${day}`}`} className="text-brand-700 underline-offset-2 hover:underline">
                  {t('bill.collect')}
                </a>
              )}
            </dd>
          </dl>
        )}
        {c.stage !== 'discharged' && (
          <div className="flex flex-col gap-2 border-t border-stone-100 pt-2">
            <div className="flex flex-wrap gap-2">
              {next.map((to) => (
                <MoveForm key={to} to={to} {...ids(c.visitId)} />
              ))}
            </div>
            <AddTreatmentForm treatments={treatmentOptions} {...ids(c.visitId)} />
          </div>
        )}
        {c.stage !== 'arrived' && <RevertForm {...ids(c.visitId)} />}
      </li>
    );
  };

  return (
    <section className="flex flex-col gap-6">
      <StaffHeader clinicId={clinicId} clinicName={clinicName} day={day} today={clinicDay(new Date())} current="board" />
      <BoardLive clinicId={clinicId} day={day} version={board.version} />
      <div className="grid gap-4 md:grid-cols-3 xl:grid-cols-5" data-testid="board">
        {board.columns.map((col) => (
          <section key={col.stage} aria-labelledby={`stage-${col.stage}`} data-testid={`column-${col.stage}`} className="flex min-w-0 flex-col gap-2 rounded-lg bg-stone-100 p-2">
            <h2 id={`stage-${col.stage}`} className="flex items-center justify-between px-1 font-semibold">
              {t(`stages.${col.stage}`)}
              <span className="rounded-full bg-white px-2 text-sm tabular-nums text-stone-600">{col.cards.length}</span>
            </h2>
            {col.cards.length ? <ul className="flex flex-col gap-2">{col.cards.map(card)}</ul> : <p className="px-1 pb-2 text-sm text-stone-500">{t('emptyColumn')}</p>}
          </section>
        ))}
      </div>
    </section>
  );
}
