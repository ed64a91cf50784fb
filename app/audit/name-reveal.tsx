'use client';

import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { useFormStatus } from 'react-dom';
import { revealPatientNameAction } from '@/app/actions/audit';
import type { FormState } from '@/app/actions/validated';

function Reveal() {
  const t = useTranslations('audit');
  const { pending } = useFormStatus();
  return (
    <button type="submit" disabled={pending} aria-busy={pending} className="rounded border border-stone-300 bg-white px-2 py-0.5 text-xs text-stone-800 hover:bg-stone-50 disabled:opacity-60">
      {t('showName')}
    </button>
  );
}

/** The patient's pseudonymous id, and their name only when the auditor asks (the server records the read). */
export function PatientCell({ patientId }: { patientId: string }) {
  const t = useTranslations('audit');
  const tAll = useTranslations();
  const [state, formAction] = useActionState<FormState, FormData>(revealPatientNameAction, {});
  return (
    <div className="flex flex-col items-start gap-1" aria-live="polite">
      <span className="font-mono text-xs break-all">{patientId}</span>
      {state.ok === 'audit.nameShown' ? (
        <span data-testid="patient-name" className="text-sm font-medium">{state.values?.name}</span>
      ) : state.ok === 'audit.nameErased' ? (
        <span className="text-xs text-stone-600">{t('nameErased')}</span>
      ) : (
        <form action={formAction}>
          <input type="hidden" name="patientId" value={patientId} />
          <Reveal />
        </form>
      )}
      {state.formError ? (
        <span role="alert" className="text-xs text-red-800">
          {tAll(state.formError as never)}
        </span>
      ) : null}
    </div>
  );
}
