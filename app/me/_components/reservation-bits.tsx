import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw, formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import type { ReservationStatus, TimelineStep } from '@/lib/queries/reservations';

const statusStyle: Record<ReservationStatus, string> = {
  requested: 'bg-amber-100 text-amber-900',
  confirmed: 'bg-emerald-100 text-emerald-900',
  'checked-in': 'bg-sky-100 text-sky-900',
  completed: 'bg-stone-200 text-stone-800',
  cancelled: 'bg-stone-200 text-stone-700',
  rejected: 'bg-red-100 text-red-900',
  'no-show': 'bg-red-100 text-red-900',
};

/** The reservation's status as a labelled badge (text, not colour alone, carries the meaning). */
export async function StatusBadge({ status, bookingMode }: { status: ReservationStatus; bookingMode: string }) {
  const t = await getTranslations('me.status');
  // A request waits for the clinic (clinic-confirm) or for the deposit (instant).
  const label = status === 'requested' ? t(bookingMode === 'clinic-confirm' ? 'awaitingClinic' : 'awaitingDeposit') : t(status);
  return (
    <span data-testid="reservation-status" className={`inline-block rounded-full px-2.5 py-0.5 text-xs font-semibold ${statusStyle[status]}`}>
      {label}
    </span>
  );
}

/** What happened, in order, with Seoul times. */
export async function Timeline({ steps, compact = false }: { steps: readonly TimelineStep[]; compact?: boolean }) {
  const [t, locale] = await Promise.all([getTranslations('me.timeline'), getLocale() as Promise<Locale>]);
  const krw = (n: number | undefined) => formatKrw(n ?? 0, locale);
  const when = (iso: string | undefined) => (iso ? formatSeoulDateTime(new Date(iso), locale) : '');
  const text = (s: TimelineStep): string => {
    switch (s.type) {
      case 'requested':
        return t('requested');
      case 'confirmed':
        return t(s.by === 'staff' ? 'confirmedByClinic' : 'confirmed');
      case 'deposit-paid':
        return t('depositPaid', { amount: krw(s.amountKrw) });
      case 'rescheduled':
        return s.feeKrw ? t('rescheduledLate', { from: when(s.previousStartsAt), to: when(s.startsAt), fee: krw(s.feeKrw) }) : t('rescheduled', { from: when(s.previousStartsAt), to: when(s.startsAt) });
      case 'cancelled':
        return s.by === 'staff' ? t('cancelledByClinic', { refund: krw(s.refundDueKrw) }) : t('cancelled', { fee: krw(s.feeKrw), refund: krw(s.refundDueKrw) });
      case 'rejected':
        return t('rejected', { refund: krw(s.refundDueKrw) });
      case 'no-show':
        return t('noShow', { forfeited: krw(s.amountKrw) });
      case 'checked-in':
        return t('checkedIn');
      case 'completed':
        return t('completed');
      case 'refunded':
        return t('refunded', { amount: krw(s.amountKrw) });
    }
  };
  return (
    <ol className={`flex flex-col ${compact ? 'gap-1' : 'gap-3 border-l-2 border-stone-200 pl-4'}`} data-testid="timeline" aria-label={t('label')}>
      {steps.map((s, i) => (
        <li key={i} className="text-sm" data-step={s.type}>
          <time dateTime={s.at} className="mr-2 whitespace-nowrap text-stone-500">
            {formatSeoulDateTime(new Date(s.at), locale)} {t('kst')}
          </time>
          <span>{text(s)}</span>
        </li>
      ))}
    </ol>
  );
}

/** The treatment as the reader's language names it (English from the catalogue when it has one). */
export function treatmentLabel(r: { treatmentName: string; treatmentNameEn: string | null }, locale: Locale): string {
  return locale === 'en' && r.treatmentNameEn ? r.treatmentNameEn : r.treatmentName;
}
