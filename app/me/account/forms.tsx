'use client';

import * as Dialog from '@radix-ui/react-dialog';
import { useActionState, useState } from 'react';
import { useFormStatus } from 'react-dom';
import { useTranslations } from 'next-intl';
import { changeContactAction, consentAction, eraseMyDataAction } from '@/app/actions/account';
import type { FormState } from '@/app/actions/validated';
import { Field, FormError, SubmitButton } from '@/app/components/form';

function Saved({ state }: { state: FormState }) {
  const t = useTranslations();
  if (!state.ok) return null;
  return (
    <p role="status" data-testid="form-ok" className="rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
      {t(state.ok as never)}
    </p>
  );
}

export function ContactForm({ commandId, phone, email }: { commandId: string; phone: string; email: string }) {
  const t = useTranslations('account.contact');
  const tAll = useTranslations();
  const [state, action] = useActionState<FormState, FormData>(changeContactAction, {});
  const e = state.fieldErrors ?? {};
  return (
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-3">
      <FormError message={state.formError ? tAll(state.formError as never) : undefined} />
      <Saved state={state} />
      <input type="hidden" name="commandId" value={commandId} />
      <Field name="phone" type="tel" label={t('phone')} hint={t('phoneHint')} autoComplete="tel-national" defaultValue={state.values?.phone ?? phone} errors={e.phone} />
      <Field name="email" type="email" label={t('email')} autoComplete="email" defaultValue={state.values?.email ?? email} errors={e.email} />
      <div>
        <SubmitButton label={t('save')} pendingLabel={t('saving')} />
      </div>
    </form>
  );
}

export function ConsentForm({ commandId, purpose, given, label }: { commandId: string; purpose: string; given: boolean; label: string }) {
  const t = useTranslations('account.consents');
  const tAll = useTranslations();
  const [state, action, pending] = useActionState<FormState, FormData>(consentAction, {});
  return (
    <form action={action} className="flex flex-col items-end gap-1">
      <input type="hidden" name="commandId" value={commandId} />
      <input type="hidden" name="purpose" value={purpose} />
      <input type="hidden" name="decision" value={given ? 'withdraw' : 'give'} />
      <button
        type="submit"
        disabled={pending}
        aria-label={given ? t('withdrawOf', { purpose: label }) : t('giveOf', { purpose: label })}
        className="rounded border border-stone-300 px-3 py-1 text-sm hover:bg-stone-100 disabled:opacity-60"
      >
        {given ? t('withdraw') : t('give')}
      </button>
      {state.formError && (
        <p role="alert" className="text-xs text-red-700">
          {tAll(state.formError as never)}
        </p>
      )}
    </form>
  );
}

/** "Erase my data" behind a confirmation dialog (Radix: focus trapped, Escape closes, labelled). */
export function EraseDialog({ commandId }: { commandId: string }) {
  const t = useTranslations('account.erase');
  const tAll = useTranslations();
  const [state, action] = useActionState<FormState, FormData>(eraseMyDataAction, {});
  const [understood, setUnderstood] = useState(false);
  return (
    <Dialog.Root>
      <Dialog.Trigger className="mt-3 rounded border border-red-300 px-4 py-2 font-medium text-red-800 hover:bg-red-50">{t('open')}</Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 bg-black/40" />
        <Dialog.Content className="fixed left-1/2 top-1/2 w-[calc(100vw-2rem)] max-w-md -translate-x-1/2 -translate-y-1/2 rounded-lg bg-white p-5 shadow-xl">
          <Dialog.Title className="text-lg font-semibold text-red-800">{t('dialogTitle')}</Dialog.Title>
          <Dialog.Description className="mt-2 text-sm text-stone-700">{t('dialogBody')}</Dialog.Description>
          <ul className="mt-2 list-inside list-disc text-sm text-stone-700">
            <li>{t('consequenceData')}</li>
            <li>{t('consequenceReservations')}</li>
            <li>{t('consequenceSignOut')}</li>
          </ul>
          <form action={action} className="mt-4 flex flex-col gap-3">
            <FormError message={state.formError ? tAll(state.formError as never) : undefined} />
            <input type="hidden" name="commandId" value={commandId} />
            <label className="flex items-start gap-2 text-sm">
              <input type="checkbox" name="confirm" className="mt-1" checked={understood} onChange={(e) => setUnderstood(e.target.checked)} />
              <span>{t('confirmLabel')}</span>
            </label>
            <div className="flex flex-wrap justify-end gap-2">
              <Dialog.Close className="rounded border border-stone-300 px-4 py-2 text-sm hover:bg-stone-100">{t('keep')}</Dialog.Close>
              <EraseButton disabled={!understood} label={t('confirm')} pendingLabel={t('erasing')} />
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function EraseButton({ disabled, label, pendingLabel }: { disabled: boolean; label: string; pendingLabel: string }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" disabled={disabled || pending} aria-busy={pending} className="rounded bg-red-700 px-4 py-2 text-sm font-medium text-white hover:bg-red-800 disabled:opacity-50">
      {pending ? pendingLabel : label}
    </button>
  );
}
