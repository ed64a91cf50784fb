import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { cancelReservationAction } from '@/app/actions/reservations';
import { formatKrw, formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { cancelReasons, myCancellationPreview, myReservation } from '@/lib/queries/reservations';
import { ChangeForm } from '../../../_components/change-form';
import { CostPreview } from '../../../_components/cost-preview';
import { treatmentLabel } from '../../../_components/reservation-bits';

type Props = { params: Promise<{ reservationId: string }> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('me.cancel'))('title') };
}

export default async function CancelReservationPage({ params }: Props) {
  const { reservationId } = await params;
  const [r, preview, t, tAll, locale] = await Promise.all([
    myReservation(reservationId),
    myCancellationPreview(reservationId),
    getTranslations('me.cancel'),
    getTranslations(),
    getLocale() as Promise<Locale>,
  ]);
  if (!r || !preview) notFound();
  const back = `/me/reservations/${r.id}`;
  return (
    <article className="flex max-w-xl flex-col gap-5">
      <Link href={back} className="text-sm text-brand-700 underline">← {t('back')}</Link>
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      <p className="text-sm">
        <span className="font-semibold">{treatmentLabel(r, locale)}</span> · {locale === 'ko' ? r.clinicNameKo : r.clinicNameEn}
        <br />
        <time dateTime={r.startsAt.toISOString()}>{formatSeoulDateTime(r.startsAt, locale)}</time> {tAll('me.timeline.kst')}
      </p>
      {preview.kind === 'refused' && (
        <p role="alert" data-testid="change-refused" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
          {tAll(`domainErrors.${preview.code}` as never)}
        </p>
      )}
      {preview.kind === 'nothing-to-do' && <p data-testid="change-nothing">{t('already')}</p>}
      {preview.kind === 'ok' && (
        <>
          <CostPreview
            late={preview.late}
            lines={[
              { label: t('depositPaid'), amount: formatKrw(preview.depositPaidKrw, locale), testId: 'preview-deposit' },
              { label: t('fee'), amount: formatKrw(preview.feeKrw, locale), testId: 'preview-fee' },
              { label: t('refund'), amount: formatKrw(preview.refundKrw, locale), testId: 'preview-refund', strong: true },
            ]}
            note={preview.late ? t('lateNote', { hours: r.policy.freeCancellationHours }) : t('freeNote', { hours: r.policy.freeCancellationHours })}
          />
          <ChangeForm
            action={cancelReservationAction}
            hidden={{ reservationId: r.id, commandId: crypto.randomUUID(), expectedFeeKrw: String(preview.feeKrw), expectedRefundKrw: String(preview.refundKrw) }}
            reasons={cancelReasons.map((value) => ({ value, label: t(`reasons.${value}`) }))}
            submitLabel={t('confirm')}
            pendingLabel={t('confirming')}
            danger
          />
          <Link href={back} className="text-sm underline">{t('keep')}</Link>
        </>
      )}
    </article>
  );
}
