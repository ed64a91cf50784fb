'use client';

import { useActionState, useId, type ReactNode } from 'react';
import { useTranslations } from 'next-intl';
import { useFormStatus } from 'react-dom';
import { collectCardAction, collectCashAction, noShowAction, refundAction } from '@/app/actions/desk';
import type { FormState } from '@/app/actions/validated';

type Action = (previous: FormState, formData: FormData) => Promise<FormState>;
type Ids = { clinicId: string; commandId: string };

const tone = {
  primary: 'bg-brand-600 text-white hover:bg-brand-700',
  plain: 'border border-stone-300 bg-white text-stone-800 hover:bg-stone-50',
  danger: 'border border-red-300 bg-white text-red-800 hover:bg-red-50',
} as const;

function Submit({ label, variant }: { label: string; variant: keyof typeof tone }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" disabled={pending} aria-busy={pending} className={`min-h-9 shrink-0 rounded px-3 py-1.5 text-sm font-medium disabled:opacity-60 ${tone[variant]}`}>
      {label}
    </button>
  );
}

/** The action's answer: a refusal (the domain error's message) as an alert, a success as a status. */
function Outcome({ state }: { state: FormState }) {
  const t = useTranslations();
  if (state.formError && state.formError !== 'errors.fixFields') {
    return (
      <p role="alert" data-testid="form-error" className="w-full text-sm text-red-800">
        {t(state.formError as never, state.formErrorValues as never)}
      </p>
    );
  }
  if (state.ok) {
    return (
      <p role="status" data-testid="form-ok" className="w-full text-sm text-green-800">
        {t(state.ok as never)}
      </p>
    );
  }
  return null;
}

/** One desk command as a form: the hidden ids (the command id among them: a double click is one command), fields, a button. */
function DeskForm({ action, hidden, label, variant = 'plain', testId, children }: { action: Action; hidden: Record<string, string>; label: string; variant?: keyof typeof tone; testId: string; children?: (state: FormState) => ReactNode }) {
  const [state, formAction] = useActionState<FormState, FormData>(action, {});
  return (
    <form action={formAction} className="flex flex-wrap items-end gap-2" data-testid={testId}>
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      {children?.(state)}
      <Submit label={label} variant={variant} />
      <Outcome state={state} />
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
