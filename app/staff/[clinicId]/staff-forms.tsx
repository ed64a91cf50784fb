'use client';

import { useActionState, useId, type ReactNode } from 'react';
import { useTranslations } from 'next-intl';
import type { FormState } from '@/app/actions/validated';
import { ActionOutcome, ActionSubmit, type ActionTone } from '@/app/components/form';

type Action = (previous: FormState, formData: FormData) => Promise<FormState>;




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
  variant?: ActionTone;
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
      <ActionSubmit label={label} variant={variant} />
      <ActionOutcome state={state} />
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
