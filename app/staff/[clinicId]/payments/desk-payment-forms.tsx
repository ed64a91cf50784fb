'use client';

import { useActionState, useId, type ReactNode } from 'react';
import { useTranslations } from 'next-intl';
import { collectCardAction, collectCashAction, noShowAction, refundAction } from '@/app/actions/desk';
import type { FormState } from '@/app/actions/validated';
import { ActionOutcome, ActionSubmit, type ActionTone } from '@/app/components/form';

type Action = (previous: FormState, formData: FormData) => Promise<FormState>;
type Ids = { clinicId: string; commandId: string };




/** One desk command as a form: the hidden ids (the command id among them: a double click is one command), fields, a button. */
function DeskForm({ action, hidden, label, variant = 'plain', testId, children }: { action: Action; hidden: Record<string, string>; label: string; variant?: ActionTone; testId: string; children?: (state: FormState) => ReactNode }) {
  const [state, formAction] = useActionState<FormState, FormData>(action, {});
  return (
    <form action={formAction} className="flex flex-wrap items-end gap-2" data-testid={testId}>
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      {children?.(state)}
      <ActionSubmit label={label} variant={variant} />
      <ActionOutcome state={state} showOk />
    </form>
  );
}

/** A labelled input whose field error is announced and tied to it. */
function Field({ name, label, state, inputMode, placeholder, hint, wide = false }: { name: string; label: string; state: FormState; inputMode?: 'numeric' | 'text'; placeholder?: string; hint?: string; wide?: boolean }) {
  const t = useTranslations('desk.errors');
  const id = useId();
  const errors = state.fieldErrors?.[name];
  const invalid = !!errors?.length;
  const described = [hint ? `${id}-hint` : null, invalid ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`flex min-w-0 flex-col gap-1 ${wide ? 'basis-full sm:basis-auto sm:flex-1' : 'w-32'}`}>
      <label htmlFor={id} className="text-xs font-medium text-stone-700">
        {label}
      </label>
      <input
        id={id}
        name={name}
        inputMode={inputMode}
        placeholder={placeholder}
        autoComplete="off"
        defaultValue={state.values?.[name]}
        aria-required
        aria-invalid={invalid || undefined}
        aria-describedby={described}
        className={`min-h-9 w-full min-w-0 rounded border bg-white px-2 py-1.5 text-sm ${invalid ? 'border-red-600' : 'border-stone-300'}`}
      />
      {hint && (
        <p id={`${id}-hint`} className="text-xs text-stone-500">
          {hint}
        </p>
      )}
      {invalid && (
        <p id={`${id}-error`} className="text-sm text-red-700" data-testid={`error-${name}`}>
          {errors.map((key) => t(key as never)).join(' ')}
        </p>
      )}
    </div>
  );
}

/** Collect an open bill: by card through the gateway, or in cash (the whole bill). */
export function CollectForms({ paymentId, cashLabel, cashAmountKrw, cardCommandId, cashCommandId, clinicId }: { clinicId: string; paymentId: string; cashLabel: string; cashAmountKrw: number; cardCommandId: string; cashCommandId: string }) {
  const t = useTranslations('desk');
  return (
    <div className="flex flex-col gap-2">
      <DeskForm action={collectCardAction} hidden={{ clinicId, commandId: cardCommandId, paymentId }} label={t('payByCard')} variant="primary" testId="collect-card-form">
        {(state) => <Field name="cardNumber" label={t('cardNumber')} state={state} inputMode="numeric" placeholder="4242 4242 4242 4242" hint={t('cardHint')} wide />}
      </DeskForm>
      <DeskForm action={collectCashAction} hidden={{ clinicId, commandId: cashCommandId, paymentId, amountKrw: String(cashAmountKrw) }} label={cashLabel} testId="collect-cash-form" />
    </div>
  );
}

/** A partial or full refund; the reason is required; the domain refuses more than can be refunded. */
export function RefundForm({ paymentId, refundableLabel, ...ids }: Ids & { paymentId: string; refundableLabel: string }) {
  const t = useTranslations('desk');
  return (
    <details className="group rounded border border-stone-200 bg-stone-50 p-2 open:bg-white">
      <summary className="cursor-pointer text-sm font-medium text-stone-700">
        {t('refundSummary')} <span className="font-normal text-stone-500">{refundableLabel}</span>
      </summary>
      <div className="mt-2">
        <DeskForm action={refundAction} hidden={{ ...ids, paymentId }} label={t('refund')} variant="danger" testId="refund-form">
          {(state) => (
            <>
              <Field name="amountKrw" label={t('refundAmount')} state={state} inputMode="numeric" />
              <Field name="reason" label={t('refundReason')} state={state} wide />
            </>
          )}
        </DeskForm>
      </div>
    </details>
  );
}

export function NoShowForm({ reservationId, ...ids }: Ids & { reservationId: string }) {
  const t = useTranslations('desk');
  return <DeskForm action={noShowAction} hidden={{ ...ids, reservationId }} label={t('recordNoShow')} variant="danger" testId="no-show-form" />;
}
