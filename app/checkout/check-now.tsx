'use client';

import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { checkPaymentAction } from '@/app/actions/checkout';
import type { FormState } from '@/app/actions/validated';
import { SubmitButton } from '@/app/components/form';

/** Ask the gateway now about a payment whose outcome is unknown (the reconciliation's step, for this one payment). */
export function CheckNow({ paymentId }: { paymentId: string }) {
  const t = useTranslations('checkout');
  const tAll = useTranslations();
  const [state, action] = useActionState<FormState, FormData>(checkPaymentAction, {});
  return (
    <form action={action} className="flex flex-col gap-2">
      <input type="hidden" name="paymentId" value={paymentId} />
      <SubmitButton label={t('checkNow')} pendingLabel={t('checking')} />
      {state.ok && <p role="status" className="text-sm text-stone-600">{tAll(state.ok as never)}</p>}
      {state.formError && <p role="alert" className="text-sm text-red-700">{tAll.has(state.formError as never) ? tAll(state.formError as never) : tAll('errors.unexpected')}</p>}
    </form>
  );
}
