'use client';

import { useTranslations } from 'next-intl';
import { addTreatmentAction, moveVisitAction, revertVisitAction } from '@/app/actions/staff';
import { CommandForm, Select, TextInput } from '../staff-forms';

type Ids = { clinicId: string; visitId: string; commandId: string };

/** Move forward to `to` (the next stage, or discharge). */
export function MoveForm({ to, ...ids }: Ids & { to: 'consultation' | 'procedure' | 'recovery' | 'discharged' }) {
  const t = useTranslations('visitBoard');
  return <CommandForm action={moveVisitAction} hidden={{ ...ids, to }} label={t(`moveTo.${to}`)} variant={to === 'discharged' ? 'plain' : 'primary'} testId={`move-${to}`} />;
}

/** Back one stage; the reason is required. Behind a disclosure so a card stays small. */
export function RevertForm(ids: Ids) {
  const t = useTranslations('visitBoard');
  return (
    <details className="group text-sm" data-testid="revert">
      <summary className="cursor-pointer text-stone-600 underline-offset-2 hover:underline">{t('revert')}</summary>
      <CommandForm action={revertVisitAction} hidden={ids} label={t('revertSubmit')} variant="danger" testId="revert-form" className="mt-2 flex flex-col gap-2">
        {(state) => <TextInput name="reason" label={t('revertReason')} state={state} />}
      </CommandForm>
    </details>
  );
}

/** Add a treatment mid-visit (priced from the catalogue when added). */
export function AddTreatmentForm({ treatments, ...ids }: Ids & { treatments: ReadonlyArray<{ value: string; label: string }> }) {
  const t = useTranslations('visitBoard');
  if (treatments.length === 0) return null;
  return (
    <CommandForm action={addTreatmentAction} hidden={ids} label={t('addTreatment')} testId="add-treatment-form" className="flex flex-col gap-2">
      {() => <Select name="treatmentId" label={t('treatmentToAdd')} options={treatments} />}
    </CommandForm>
  );
}
