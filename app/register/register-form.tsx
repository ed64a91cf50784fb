'use client';

import Link from 'next/link';
import { useActionState } from 'react';
import { useTranslations } from 'next-intl';
import { registerAction, type FormState } from '../actions/auth';
import { Field, FormError, SubmitButton } from '../components/form';

export function RegisterForm() {
  const t = useTranslations('register');
  const tAll = useTranslations();
  const tErrors = useTranslations('errors');
  const [state, action] = useActionState<FormState, FormData>(registerAction, {});
  const e = state.fieldErrors ?? {};
  return (
    // The key remounts the inputs with what was typed after each failed submit.
    <form key={JSON.stringify(state)} action={action} noValidate className="flex flex-col gap-4">
      <FormError message={state.formError ? tAll(state.formError as never, state.formErrorValues as never) : undefined} />
      <Field name="name" label={t('name')} autoComplete="name" required defaultValue={state.values?.name} errors={e.name} />
      <Field name="email" type="email" label={t('email')} autoComplete="email" required defaultValue={state.values?.email} errors={e.email} />
      <Field name="password" type="password" label={t('password')} hint={t('passwordHint')} autoComplete="new-password" required errors={e.password} />
      <Field name="confirmPassword" type="password" label={t('confirmPassword')} autoComplete="new-password" required errors={e.confirmPassword} />
      <Field name="phone" type="tel" label={t('phone')} hint={t('phoneHint')} autoComplete="tel-national" required defaultValue={state.values?.phone} errors={e.phone} />
      <Field name="birthDate" type="date" label={t('birthDate')} autoComplete="bday" required defaultValue={state.values?.birthDate} errors={e.birthDate} />
      <div className="flex flex-col gap-1">
        <label className="flex items-start gap-2 text-sm">
          <input
            type="checkbox"
            name="consent"
            defaultChecked={state.values?.consent === 'on'}
            aria-invalid={!!e.consent?.length || undefined}
            aria-describedby={e.consent?.length ? 'field-consent-error' : undefined}
            className="mt-1"
          />
          <span>{t('consent')}</span>
        </label>
        {!!e.consent?.length && (
          <p id="field-consent-error" className="text-sm text-red-700" data-testid="error-consent">
            {e.consent.map((k) => tErrors(k as never)).join(' ')}
          </p>
        )}
      </div>
      <SubmitButton label={t('submit')} pendingLabel={t('submitting')} />
      <p className="text-sm text-stone-600">
        {t('haveAccount')}{' '}
        <Link href="/signin" className="text-brand-700 underline">
          {t('signIn')}
        </Link>
      </p>
    </form>
  );
}
