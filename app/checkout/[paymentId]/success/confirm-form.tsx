'use client';

import { useActionState, useEffect, useRef } from 'react';
import { useTranslations } from 'next-intl';
import { confirmAction } from '@/app/actions/checkout';
import type { FormState } from '@/app/actions/validated';
import { SubmitButton } from '@/app/components/form';

/**
 * The success URL's confirmation, sent as a server action (pages only read): submitted once on
 * arrival; without JavaScript the button does it. Confirming twice is harmless (idempotent).
 */
export function ConfirmForm(props: { paymentId: string; paymentKey: string; orderId: string; amount: string }) {
  const t = useTranslations('checkout');
  const tAll = useTranslations();
  const [state, action] = useActionState<FormState, FormData>(confirmAction, {});
  const form = useRef<HTMLFormElement>(null);
  const sent = useRef(false);
  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    form.current?.requestSubmit();
  }, []);
  return (
    <form ref={form} action={action} className="flex flex-col gap-3" data-testid="confirm-form">
      <input type="hidden" name="paymentId" value={props.paymentId} />
      <input type="hidden" name="paymentKey" value={props.paymentKey} />
      <input type="hidden" name="orderId" value={props.orderId} />
      <input type="hidden" name="amount" value={props.amount} />
      {state.formError ? (
        <p role="alert" data-testid="form-error" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
          {tAll.has(state.formError as never) ? tAll(state.formError as never) : tAll('errors.unexpected')}
        </p>
      ) : (
        <p role="status">{t('confirming')}</p>
      )}
      <SubmitButton label={t('confirm')} pendingLabel={t('confirming')} />
    </form>
  );
}
