'use client';

import { useActionState, useId, type ReactNode } from 'react';
import { useTranslations } from 'next-intl';
import { useFormStatus } from 'react-dom';
import type { FormState } from '@/app/actions/validated';

type Action = (previous: FormState, formData: FormData) => Promise<FormState>;

const tone = {
  primary: 'bg-brand-600 text-white hover:bg-brand-700',
  plain: 'border border-stone-300 bg-white text-stone-800 hover:bg-stone-50',
  danger: 'border border-red-300 bg-white text-red-800 hover:bg-red-50',
} as const;

function Submit({ label, variant }: { label: string; variant: keyof typeof tone }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" disabled={pending} aria-busy={pending} className={`min-h-9 rounded px-3 py-1.5 text-sm font-medium disabled:opacity-60 ${tone[variant]}`}>
      {label}
    </button>
  );
}

/** What an action said: its form error (alert) or its success (status), translated. */
function Outcome({ state }: { state: FormState }) {
  const t = useTranslations();
  if (state.formError && state.formError !== 'errors.fixFields') {
    return (
      <p role="alert" data-testid="form-error" className="w-full text-sm text-red-800">
        {t(state.formError as never)}
      </p>
    );
  }
  if (state.ok) {
    return (
      <p role="status" className="sr-only">
        {t(state.ok as never)}
      </p>
    );
  }
  return null;
}

/**
 * One staff command as a small form: hidden fields (the command id among them, so a double click is
 * one command), optional visible fields, one submit button.
 */
export function CommandForm({
  action,
  hidden,
  label,
  variant = 'plain',
  testId,
  children,
  className = 'flex flex-wrap items-end gap-2',
}: {
  action: Action;
  hidden: Record<string, string>;
  label: string;
  variant?: keyof typeof tone;
  testId?: string;
  /** Visible fields, rendered before the button; they read the state for their errors. */
  children?: (state: FormState) => ReactNode;
  className?: string;
}) {
  const [state, formAction] = useActionState<FormState, FormData>(action, {});
  return (
    <form action={formAction} className={className} data-testid={testId}>
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      {children?.(state)}
      <Submit label={label} variant={variant} />
      <Outcome state={state} />
    </form>
  );
}

/** A labelled text input whose error (from the action's field errors) is announced and tied to it. */
export function TextInput({
  name,
  label,
  state,
  type = 'text',
  placeholder,
  hideLabel = false,
  autoComplete,
}: {
  name: string;
  label: string;
  state: FormState;
  type?: string;
  placeholder?: string;
  hideLabel?: boolean;
  autoComplete?: string;
}) {
  const t = useTranslations('staffForms');
  const id = useId();
  const errors = state.fieldErrors?.[name];
  const hasErrors = !!errors?.length;
  return (
    <div className="flex min-w-0 flex-1 flex-col gap-1">
      <label htmlFor={id} className={hideLabel ? 'sr-only' : 'text-sm font-medium'}>
        {label}
      </label>
      <input
        id={id}
        name={name}
        type={type}
        placeholder={placeholder}
        autoComplete={autoComplete}
        defaultValue={state.values?.[name]}
        aria-required
        aria-invalid={hasErrors || undefined}
        aria-describedby={hasErrors ? `${id}-error` : undefined}
        className={`min-h-9 w-full min-w-0 rounded border bg-white px-2 py-1.5 text-sm ${hasErrors ? 'border-red-600' : 'border-stone-300'}`}
      />
      {hasErrors && (
        <p id={`${id}-error`} className="text-sm text-red-700" data-testid={`error-${name}`}>
          {errors.map((key) => t(key as never)).join(' ')}
        </p>
      )}
    </div>
  );
}

/** A choice of options (e.g. a treatment to add). */
export function Select({ name, label, options }: { name: string; label: string; options: ReadonlyArray<{ value: string; label: string }> }) {
  const id = useId();
  return (
    <div className="flex min-w-0 flex-1 flex-col gap-1">
      <label htmlFor={id} className="sr-only">
        {label}
      </label>
      <select id={id} name={name} className="min-h-9 w-full min-w-0 rounded border border-stone-300 bg-white px-2 py-1.5 text-sm">
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}
