'use client';

import { useTranslations } from 'next-intl';
import { useFormStatus } from 'react-dom';

/** A labelled input whose errors are announced and tied to it (aria-describedby). */
export function Field({
  name,
  label,
  type = 'text',
  errors,
  hint,
  defaultValue,
  autoComplete,
  required,
}: {
  name: string;
  label: string;
  type?: string;
  errors?: string[];
  hint?: string;
  defaultValue?: string;
  autoComplete?: string;
  required?: boolean;
}) {
  const t = useTranslations('errors');
  const id = `field-${name}`;
  const hasErrors = !!errors?.length;
  const describedBy = [hint && `${id}-hint`, hasErrors && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      <input
        id={id}
        name={name}
        type={type}
        defaultValue={defaultValue}
        autoComplete={autoComplete}
        required={required}
        aria-invalid={hasErrors || undefined}
        aria-describedby={describedBy}
        className={`rounded border bg-white px-3 py-2 ${hasErrors ? 'border-red-600' : 'border-stone-300'}`}
      />
      {hint && (
        <p id={`${id}-hint`} className="text-xs text-stone-500">
          {hint}
        </p>
      )}
      {hasErrors && (
        <p id={`${id}-error`} className="text-sm text-red-700" data-testid={`error-${name}`}>
          {errors.map((key) => t(key as never)).join(' ')}
        </p>
      )}
    </div>
  );
}

export function SubmitButton({ label, pendingLabel }: { label: string; pendingLabel: string }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" disabled={pending} aria-busy={pending} className="rounded bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700 disabled:opacity-60">
      {pending ? pendingLabel : label}
    </button>
  );
}

export function FormError({ message }: { message?: string }) {
  if (!message) return null;
  return (
    <div role="alert" data-testid="form-error" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
      {message}
    </div>
  );
}

/** Button styles of the small one-command forms (staff and desk). */
export const actionTone = {
  primary: 'bg-brand-600 text-white hover:bg-brand-700',
  plain: 'border border-stone-300 bg-white text-stone-800 hover:bg-stone-50',
  danger: 'border border-red-300 bg-white text-red-800 hover:bg-red-50',
} as const;
export type ActionTone = keyof typeof actionTone;

/** The submit button of a one-command form: disabled while its action runs (one click, one command). */
export function ActionSubmit({ label, variant }: { label: string; variant: ActionTone }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" disabled={pending} aria-busy={pending} className={`min-h-9 shrink-0 rounded px-3 py-1.5 text-sm font-medium disabled:opacity-60 ${actionTone[variant]}`}>
      {label}
    </button>
  );
}

/**
 * What a one-command form's action said: a refusal (the domain error's message) as an alert; a success
 * as a status, shown (`showOk`) or only announced to screen readers (the page itself shows the change).
 */
export function ActionOutcome({ state, showOk = false }: { state: { formError?: string; formErrorValues?: Record<string, number | string>; ok?: string }; showOk?: boolean }) {
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
      <p role="status" {...(showOk ? { 'data-testid': 'form-ok', className: 'w-full text-sm text-green-800' } : { className: 'sr-only' })}>
        {t(state.ok as never)}
      </p>
    );
  }
  return null;
}
