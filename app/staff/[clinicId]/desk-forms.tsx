'use client';

import { useTranslations } from 'next-intl';
import { checkInAction, confirmReservationAction, rejectReservationAction, walkInAction } from '@/app/actions/staff';
import { CommandForm, TextInput } from './staff-forms';

type Ids = { clinicId: string; commandId: string };

/** Confirm a request: one click. */
export function ConfirmForm({ reservationId, ...ids }: Ids & { reservationId: string }) {
  const t = useTranslations('staffToday');
  return <CommandForm action={confirmReservationAction} hidden={{ ...ids, reservationId }} label={t('confirm')} variant="primary" testId="confirm-form" />;
}

/** Reject a request: the reason is required (the patient is told it). */
export function RejectForm({ reservationId, ...ids }: Ids & { reservationId: string }) {
  const t = useTranslations('staffToday');
  return (
    <CommandForm action={rejectReservationAction} hidden={{ ...ids, reservationId }} label={t('reject')} variant="danger" testId="reject-form">
      {(state) => <TextInput name="reason" label={t('rejectReason')} placeholder={t('rejectReason')} hideLabel state={state} />}
    </CommandForm>
  );
}

/** Check a confirmed patient in: the visit starts on the board. */
export function CheckInForm({ reservationId, ...ids }: Ids & { reservationId: string }) {
  const t = useTranslations('staffToday');
  return <CommandForm action={checkInAction} hidden={{ ...ids, reservationId }} label={t('checkIn')} variant="primary" testId="check-in-form" />;
}

/** A walk-in: a visit without a reservation, for a registered patient found by e-mail. */
export function WalkInForm(ids: Ids) {
  const t = useTranslations('staffToday');
  return (
    <CommandForm action={walkInAction} hidden={ids} label={t('walkInSubmit')} variant="primary" testId="walk-in-form">
      {(state) => <TextInput name="email" type="email" label={t('walkInEmail')} autoComplete="off" state={state} />}
    </CommandForm>
  );
}
