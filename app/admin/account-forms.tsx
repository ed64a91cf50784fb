'use client';

import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { setClinicManagerAction } from '@/app/actions/admin-accounts';
import type { FormState } from '@/app/actions/validated';
import { ActionOutcome, ActionSubmit } from '@/app/components/form';

/** A staff account's manager flag and the one button that flips it. */
export function ClinicManagerForm({ userId, clinicManager, name }: { userId: string; clinicManager: boolean; name: string }) {
  const t = useTranslations('admin.manager');
  const [state, action] = useActionState<FormState, FormData>(setClinicManagerAction, {});
  return (
    <form action={action} className="flex flex-wrap items-center gap-2" data-testid={`clinic-manager-${userId}`} aria-label={t('formLabel', { name })}>
      <span>{clinicManager ? t('yes') : t('no')}</span>
      <input type="hidden" name="userId" value={userId} />
      <input type="hidden" name="clinicManager" value={clinicManager ? 'false' : 'true'} />
      <ActionSubmit label={clinicManager ? t('revoke') : t('grant')} variant={clinicManager ? 'danger' : 'plain'} />
      <ActionOutcome state={state} />
    </form>
  );
}
