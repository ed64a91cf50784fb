'use client';

import Link from 'next/link';
import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { signInAction, type FormState } from '../actions/auth';
import { Field, FormError, SubmitButton } from '../components/form';

export function SignInForm({ callbackUrl }: { callbackUrl: string }) {
  const t = useTranslations('signIn');
  const tAll = useTranslations();
  const [state, action] = useActionState<FormState, FormData>(signInAction, {});
  return (
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-4">
      <FormError message={state.formError ? tAll(state.formError as never, state.formErrorValues as never) : undefined} />
      <input type="hidden" name="callbackUrl" value={callbackUrl} />
      <Field name="email" type="email" label={t('email')} autoComplete="username" required defaultValue={state.values?.email} errors={state.fieldErrors?.email} />
      <Field name="password" type="password" label={t('password')} autoComplete="current-password" required errors={state.fieldErrors?.password} />
      <SubmitButton label={t('submit')} pendingLabel={t('submitting')} />
      <p className="text-sm text-stone-600">
        {t('noAccount')}{' '}
        <Link href="/register" className="text-brand-700 underline">
          {t('register')}
        </Link>
      </p>
    </form>
  );
}
