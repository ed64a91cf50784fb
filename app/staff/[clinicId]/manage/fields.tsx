'use client';

import { useId, type ReactNode } from 'react';
import { useFormStatus } from 'react-dom';
import { useTranslations } from 'next-intl';
import type { FormState } from '@/app/actions/validated';

/**
 * The manager's form parts: labelled inputs prefilled with the current value (or what was typed, after
 * a refused submit), their zod errors (keys under manage.errors) tied to them, and the form's outcome.
 */

/** An amount as people read it in a field (99,000); the action reads it back with or without the commas. */
export const amount = (krw: number | undefined) => (krw === undefined ? undefined : krw.toLocaleString('en-US'));

export const inputClass = (invalid: boolean) => `min-h-10 w-full min-w-0 rounded border bg-white px-3 py-2 text-sm ${invalid ? 'border-red-600' : 'border-stone-300'}`;

export function FieldErrors({ id, errors }: { id: string; errors?: string[] }) {
  const t = useTranslations('manage.errors');
  if (!errors?.length) return null;
  return (
    <p id={id} className="text-sm text-red-700" data-testid="field-error">
      {errors.map((key) => t(key as never)).join(' ')}
    </p>
  );
}

/** A text or number input; `suffix` is its unit (원, 분, 시간), `hint` says what is allowed. */
export function Input({
  name,
  label,
  state,
  value,
  suffix,
  hint,
  numeric = false,
  type = 'text',
  list,
  className = '',
}: {
  name: string;
  label: string;
  state: FormState;
  value?: string | number;
  suffix?: string;
  hint?: string;
  numeric?: boolean;
  type?: string;
  list?: string;
  className?: string;
}) {
  const id = useId();
  const errors = state.fieldErrors?.[name];
  const invalid = !!errors?.length;
  const describedBy = [hint && `${id}-hint`, invalid && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`flex min-w-0 flex-col gap-1 ${className}`}>
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      <div className="flex items-center gap-2">
        <input
          id={id}
          name={name}
          type={type}
          list={list}
          inputMode={numeric ? 'numeric' : undefined}
          defaultValue={state.values?.[name] ?? (value === undefined ? '' : String(value))}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          className={`${inputClass(invalid)} ${numeric ? 'text-right tabular-nums' : ''}`}
        />
        {suffix ? <span className="shrink-0 text-sm text-stone-600">{suffix}</span> : null}
      </div>
      {hint ? (
        <p id={`${id}-hint`} className="text-xs text-stone-500">
          {hint}
        </p>
      ) : null}
      <FieldErrors id={`${id}-error`} errors={errors} />
    </div>
  );
}

/** A checkbox; after a refused submit it shows what was sent (absent = unchecked). */
export function Checkbox({ name, label, state, checked, hint }: { name: string; label: ReactNode; state: FormState; checked: boolean; hint?: string }) {
  const id = useId();
  const value = state.values ? state.values[name] === 'on' : checked;
  return (
    <div className="flex flex-col gap-0.5">
      <label htmlFor={id} className="flex items-start gap-2 text-sm">
        <input id={id} type="checkbox" name={name} defaultChecked={value} className="mt-0.5 size-4 accent-brand-600" />
        <span>{label}</span>
      </label>
      {hint ? <p className="pl-6 text-xs text-stone-500">{hint}</p> : null}
    </div>
  );
}

/** A choice of a few options as radio buttons in a fieldset. */
export function Radios({ name, legend, state, value, options }: { name: string; legend: string; state: FormState; value: string; options: ReadonlyArray<{ value: string; label: string; hint?: string }> }) {
  const current = state.values?.[name] ?? value;
  const errors = state.fieldErrors?.[name];
  const id = useId();
  return (
    <fieldset className="flex flex-col gap-1.5" aria-describedby={errors?.length ? `${id}-error` : undefined}>
      <legend className="mb-1 text-sm font-medium">{legend}</legend>
      {options.map((o) => (
        <label key={o.value} className="flex items-start gap-2 text-sm">
          <input type="radio" name={name} value={o.value} defaultChecked={current === o.value} className="mt-0.5 size-4 accent-brand-600" />
          <span>
            {o.label}
            {o.hint ? <span className="block text-xs text-stone-500">{o.hint}</span> : null}
          </span>
        </label>
      ))}
      <FieldErrors id={`${id}-error`} errors={errors} />
    </fieldset>
  );
}

export function Hidden({ fields }: { fields: Record<string, string> }) {
  return (
    <>
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
    </>
  );
}

/** What the last submit did: the refusal (a domain error's own message, or "check the fields") or the saved outcome. */
export function Outcome({ state }: { state: FormState }) {
  const t = useTranslations();
  return (
    <div aria-live="polite">
      {state.formError ? (
        <p role="alert" data-testid="form-error" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
          {t(state.formError as never, state.formErrorValues as never)}
        </p>
      ) : state.ok ? (
        <p role="status" data-testid="form-ok" className="rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {t(state.ok as never)}
        </p>
      ) : null}
    </div>
  );
}

export function Save({ label, pendingLabel, tone = 'primary' }: { label: string; pendingLabel: string; tone?: 'primary' | 'danger' }) {
  const { pending } = useFormStatus();
  const colours = tone === 'danger' ? 'bg-red-700 hover:bg-red-800' : 'bg-brand-600 hover:bg-brand-700';
  return (
    <button type="submit" disabled={pending} aria-busy={pending} className={`min-h-10 rounded px-4 py-2 text-sm font-medium text-white disabled:opacity-60 ${colours}`}>
      {pending ? pendingLabel : label}
    </button>
  );
}

/** A form's card: a titled white box. */
export function Card({ title, description, children, testId }: { title: string; description?: ReactNode; children: ReactNode; testId?: string }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="flex flex-col gap-4 rounded-lg border border-stone-200 bg-white p-4 sm:p-5" data-testid={testId}>
      <div className="flex flex-col gap-1">
        <h2 id={id} className="text-lg font-semibold">
          {title}
        </h2>
        {description ? <p className="text-sm text-stone-600">{description}</p> : null}
      </div>
      {children}
    </section>
  );
}
