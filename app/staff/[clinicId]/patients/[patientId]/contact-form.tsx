'use client';

import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { useFormStatus } from 'react-dom';
import { revealContactAction } from '@/app/actions/staff-patient';
import type { FormState } from '@/app/actions/validated';

function Reveal() {
  const t = useTranslations('access');
  const { pending } = useFormStatus();
  return (
    <button type="submit" disabled={pending} aria-busy={pending} className="min-h-9 rounded border border-stone-300 bg-white px-3 py-1.5 text-sm font-medium text-stone-800 hover:bg-stone-50 disabled:opacity-60">
      {t('showContact')}
    </button>
  );
}

/** "Show contact": nothing personal is on the page until the staff member asks (and the read is logged on the server). */
export function ContactReveal({ clinicId, patientId }: { clinicId: string; patientId: string }) {
  const t = useTranslations('access');
  const tAll = useTranslations();
  const [state, formAction] = useActionState<FormState, FormData>(revealContactAction, {});
  const shown = state.ok === 'access.contactShown' && state.values;
  return (
    <div className="flex flex-col gap-3" aria-live="polite">
      {shown ? (
        <dl data-testid="patient-contact" className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-stone-600">{t('phone')}</dt>
          <dd className="break-all">{state.values!.phone || t('none')}</dd>
          <dt className="text-stone-600">{t('email')}</dt>
          <dd className="break-all">{state.values!.email || t('none')}</dd>
        </dl>
      ) : state.ok === 'access.contactErased' ? (
        <p className="text-sm text-stone-600">{t('contactErased')}</p>
      ) : (
        <form action={formAction} className="flex flex-wrap items-center gap-2">
          <input type="hidden" name="clinicId" value={clinicId} />
          <input type="hidden" name="patientId" value={patientId} />
          <Reveal />
        </form>
      )}
      {state.ok === 'access.contactShown' ? <p className="text-xs text-stone-600">{t('contactShown')}</p> : null}
      {state.formError ? (
        <p role="alert" className="text-sm text-red-800">
          {tAll(state.formError as never)}
        </p>
      ) : null}
    </div>
  );
}
