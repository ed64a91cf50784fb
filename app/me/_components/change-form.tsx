'use client';

import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import type { FormState } from '@/app/actions/validated';
import { FormError, SubmitButton } from '@/app/components/form';

type Action = (previous: FormState, formData: FormData) => Promise<FormState>;

/**
 * The confirm step of a cancellation or a reschedule: the command id and what the patient was shown
 * travel with the form (hidden), so a double submit is one command and a changed cost is caught.
 */
export function ChangeForm({
  action,
  hidden,
  reasons,
  submitLabel,
  pendingLabel,
  danger = false,
}: {
  action: Action;
  hidden: Record<string, string>;
  /** Cancel only: the reason choices (value → label). */
  reasons?: ReadonlyArray<{ value: string; label: string }>;
  submitLabel: string;
  pendingLabel: string;
  danger?: boolean;
}) {
  const t = useTranslations();
  const [state, formAction] = useActionState<FormState, FormData>(action, {});
  const reasonError = state.fieldErrors?.reason?.length;
  return (
    <form action={formAction} className="flex flex-col gap-4" data-testid="change-form">
      <FormError message={state.formError ? t(state.formError as never) : undefined} />
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      {reasons && (
        <fieldset className="flex flex-col gap-2" aria-describedby={reasonError ? 'reason-error' : undefined}>
          <legend className="text-sm font-medium">{t('me.cancel.reason')}</legend>
          {reasons.map((r, i) => (
            <label key={r.value} className="flex items-center gap-2 text-sm">
              <input type="radio" name="reason" value={r.value} defaultChecked={state.values?.reason ? state.values.reason === r.value : i === 0} required />
              {r.label}
            </label>
          ))}
          {reasonError ? (
            <p id="reason-error" className="text-sm text-red-700">
              {t('me.cancel.reasonRequired')}
            </p>
          ) : null}
        </fieldset>
      )}
      <div className={danger ? '[&>button]:bg-red-700 [&>button:hover]:bg-red-800' : ''}>
        <SubmitButton label={submitLabel} pendingLabel={pendingLabel} />
      </div>
    </form>
  );
}
