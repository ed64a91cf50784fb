'use client';

import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { cancelBookingAction, closeDaysAction, moveBookingAction, reopenDayAction } from '@/app/actions/manage';
import type { FormState } from '@/app/actions/validated';
import { ActionOutcome, ActionSubmit } from '@/app/components/form';
import { Hidden, Input, Outcome, Save } from './fields';

type Ids = { clinicId: string; commandId: string };

/** Close a day or a range of days (a holiday), with the reason patients and staff see. */
export function CloseDaysForm({ ids, today }: { ids: Ids; today: string }) {
  const t = useTranslations('manage');
  const [state, action] = useActionState<FormState, FormData>(closeDaysAction, {});
  return (
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-4" data-testid="close-days-form">
      <Hidden fields={ids} />
      <Outcome state={state} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Input name="from" type="date" label={t('closures.from')} state={state} value={today} />
        <Input name="to" type="date" label={t('closures.to')} hint={t('closures.toHint')} state={state} />
      </div>
      <Input name="reason" label={t('closures.reason')} hint={t('closures.reasonHint')} state={state} />
      <div className="flex justify-end">
        <Save label={t('closures.close')} pendingLabel={t('saving')} />
      </div>
    </form>
  );
}

/** Open a closed day again: its weekday's opening hours apply. */
export function ReopenForm({ ids, day, label }: { ids: Ids; day: string; label: string }) {
  const [state, action] = useActionState<FormState, FormData>(reopenDayAction, {});
  return (
    <form action={action} className="flex flex-wrap items-center gap-2" data-testid="reopen-form">
      <Hidden fields={{ ...ids, day }} />
      <ActionSubmit label={label} variant="plain" />
      <ActionOutcome state={state} />
    </form>
  );
}

/**
 * A booking still on a closed day: move it (another day and time; the slot is held first, so a full or
 * closed one is refused with its reason) or cancel it on the clinic's side (a reason for the patient;
 * the whole deposit is refunded). Each behind a disclosure, so a row stays one line until used.
 */
export function BookingActions({ ids, reservationId, suggestedDay, time }: { ids: Ids & { moveCommandId: string }; reservationId: string; suggestedDay: string; time: string }) {
  const t = useTranslations('manage.closures');
  const [moved, move] = useActionState<FormState, FormData>(moveBookingAction, {});
  const [cancelled, cancel] = useActionState<FormState, FormData>(cancelBookingAction, {});
  const summary = 'inline-flex min-h-9 cursor-pointer list-none items-center rounded border px-3 py-1.5 text-sm font-medium [&::-webkit-details-marker]:hidden';
  return (
    <div className="flex flex-wrap gap-2">
      <details className="open:w-full" open={!!moved.formError || !!moved.fieldErrors}>
        <summary className={`${summary} border-stone-300 bg-white text-stone-800 hover:bg-stone-50`}>{t('move')}</summary>
        <form action={move} noValidate className="mt-2 flex flex-col gap-2" data-testid="move-form">
          <Hidden fields={{ clinicId: ids.clinicId, commandId: ids.moveCommandId, reservationId }} />
          <div className="grid max-w-md grid-cols-2 gap-2">
            <Input name="day" type="date" label={t('moveDay')} state={moved} value={suggestedDay} />
            <Input name="time" type="time" label={t('moveTime')} state={moved} value={time} />
          </div>
          <div>
            <ActionSubmit label={t('moveSubmit')} variant="primary" />
          </div>
          <ActionOutcome state={moved} showOk />
        </form>
      </details>
      <details className="open:w-full" open={!!cancelled.formError || !!cancelled.fieldErrors}>
        <summary className={`${summary} border-red-300 bg-white text-red-800 hover:bg-red-50`}>{t('cancel')}</summary>
        <form action={cancel} noValidate className="mt-2 flex flex-col gap-2" data-testid="cancel-form">
          <Hidden fields={{ clinicId: ids.clinicId, commandId: ids.commandId, reservationId }} />
          <Input name="reason" label={t('cancelReason')} hint={t('cancelHint')} state={cancelled} className="max-w-md" />
          <div>
            <ActionSubmit label={t('cancelSubmit')} variant="danger" />
          </div>
          <ActionOutcome state={cancelled} showOk />
        </form>
      </details>
    </div>
  );
}
