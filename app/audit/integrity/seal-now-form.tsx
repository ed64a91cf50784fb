'use client';

import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { sealNowAction } from '@/app/actions/integrity';
import { ActionOutcome, ActionSubmit } from '../../components/form';

export function SealNowForm() {
  const t = useTranslations('integrity');
  const [state, action] = useActionState(sealNowAction, {});
  return (
    <form action={action} className="flex flex-wrap items-center gap-3">
      <ActionSubmit label={t('sealNow')} variant="plain" />
      <ActionOutcome state={state} showOk />
    </form>
  );
}
