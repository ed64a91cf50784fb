'use client';

import { useActionState, useId } from 'react';
import { useTranslations } from 'next-intl';
import { reconcileNowAction, resolveStuckPaymentAction, retryStuckPaymentAction } from '@/app/actions/admin-payments';
import type { FormState } from '@/app/actions/validated';
import { FormError, SubmitButton } from '@/app/components/form';

function Outcome({ state }: { state: FormState }) {
  const t = useTranslations();
  return (
    <>
      <FormError message={state.formError ? t(state.formError as never) : undefined} />
      {state.ok ? (
        <p role="status" className="text-sm text-green-800" data-testid="form-ok">
          {t(state.ok as never)}
        </p>
      ) : null}
    </>
  );
}

export function ReconcileNowForm() {
  const t = useTranslations('adminPayments');
  const [state, action] = useActionState<FormState, FormData>(reconcileNowAction, {});
  return (
    <form action={action} className="flex flex-col gap-2" data-testid="reconcile-now">
      <SubmitButton label={t('reconcileNow')} pendingLabel={t('reconciling')} />
      <Outcome state={state} />
    </form>
  );
}

export function RetryForm({ paymentId }: { paymentId: string }) {
  const t = useTranslations('adminPayments');
  const [state, action] = useActionState<FormState, FormData>(retryStuckPaymentAction, {});
  return (
    <form action={action} className="flex flex-col gap-1">
      <input type="hidden" name="paymentId" value={paymentId} />
      <div>
        <SubmitButton label={t('retry')} pendingLabel={t('retrying')} />
      </div>
      <Outcome state={state} />
    </form>
  );
}

export function ResolveForm({ paymentId }: { paymentId: string }) {
  const t = useTranslations('adminPayments');
  const [state, action] = useActionState<FormState, FormData>(resolveStuckPaymentAction, {});
  const id = useId();
  const noteError = state.fieldErrors?.note?.length;
  return (
    <form action={action} className="flex flex-col gap-1">
      <input type="hidden" name="paymentId" value={paymentId} />
      <label htmlFor={`${id}-note`} className="text-xs font-medium">
        {t('note')}
      </label>
      <textarea
        id={`${id}-note`}
        name="note"
        rows={2}
        required
        minLength={3}
        maxLength={500}
        defaultValue={state.values?.note}
        aria-invalid={noteError ? true : undefined}
        aria-describedby={noteError ? `${id}-note-error` : `${id}-note-hint`}
        className={`w-full rounded border bg-white px-2 py-1 text-sm ${noteError ? 'border-red-600' : 'border-stone-300'}`}
      />
      {noteError ? (
        <p id={`${id}-note-error`} className="text-xs text-red-700">
          {t('noteLength')}
        </p>
      ) : (
        <p id={`${id}-note-hint`} className="text-xs text-stone-500">
          {t('noteHint')}
        </p>
      )}
      <div className="[&>button]:bg-red-700 [&>button:hover]:bg-red-800">
        <SubmitButton label={t('resolve')} pendingLabel={t('resolving')} />
      </div>
      <Outcome state={state} />
    </form>
  );
}
