'use client';

import Link from 'next/link';
import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { bookAction } from '@/app/actions/booking';
import type { FormState } from '@/app/actions/validated';
import { SubmitButton } from '@/app/components/form';

/** Refusals that mean "this time is gone": the patient picks another slot. */
const SLOT_GONE = new Set(['domainErrors.schedule.slot_over_capacity', 'domainErrors.booking.hold_expired']);

export function BookForm(props: { clinicId: string; treatmentId: string; startsAt: string; kind: string; commandId: string; otherSlotsUrl: string; submitLabel: string }) {
  const t = useTranslations('booking');
  const tAll = useTranslations();
  const [state, action] = useActionState<FormState, FormData>(bookAction, {});
  const slotGone = !!state.formError && SLOT_GONE.has(state.formError);
  const fieldMessages = Object.values(state.fieldErrors ?? {}).flat();
  const message = (key: string) => (tAll.has(key as never) ? tAll(key as never, state.formErrorValues as never) : tAll('errors.unexpected'));
  return (
    <form action={action} className="mt-4 flex flex-col gap-3" data-testid="book-form">
      {slotGone ? (
        <div role="alert" data-testid="form-error" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
          <p className="font-semibold">{t('slotFull')}</p>
          <Link href={props.otherSlotsUrl} className="mt-1 inline-block underline">{t('pickAnother')}</Link>
        </div>
      ) : (
        state.formError && (
          <div role="alert" data-testid="form-error" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
            <p>{message(state.formError)}</p>
            {fieldMessages.map((k) => (
              <p key={k}>{message(k)}</p>
            ))}
          </div>
        )
      )}
      <input type="hidden" name="clinicId" value={props.clinicId} />
      <input type="hidden" name="treatmentId" value={props.treatmentId} />
      <input type="hidden" name="startsAt" value={props.startsAt} />
      <input type="hidden" name="kind" value={props.kind} />
      <input type="hidden" name="commandId" value={props.commandId} />
      <div className="flex flex-col gap-1">
        <label htmlFor="booking-note" className="text-sm font-medium">{t('note')}</label>
        <textarea
          id="booking-note"
          name="note"
          rows={3}
          maxLength={1000}
          defaultValue={state.values?.note}
          aria-describedby="booking-note-hint"
          aria-invalid={state.fieldErrors?.note ? true : undefined}
          className="rounded border border-stone-300 bg-white px-3 py-2 text-sm"
        />
        <p id="booking-note-hint" className="text-xs text-stone-500">{t('noteHint')}</p>
      </div>
      {!slotGone && <SubmitButton label={props.submitLabel} pendingLabel={t('submitting')} />}
    </form>
  );
}
