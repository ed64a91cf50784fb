'use client';

import Link from 'next/link';
import { useActionState, useState } from 'react';
import { useTranslations } from 'next-intl';
import { payAction } from '@/app/actions/checkout';
import type { FormState } from '@/app/actions/validated';
import { SubmitButton } from '@/app/components/form';

export interface TestCard {
  number: string;
  /** i18n key under checkout.testCards */
  outcome: string;
}

/**
 * The card step, shaped like a Korean PG's payment window: one card-number field, the sandbox's
 * test cards listed (a tap fills the field), pay, or cancel back to the failure URL.
 */
export function CardWidget({ paymentId, payLabel, cancelUrl, testCards }: { paymentId: string; payLabel: string; cancelUrl: string; testCards: TestCard[] }) {
  const t = useTranslations('checkout');
  const tAll = useTranslations();
  const [state, action] = useActionState<FormState, FormData>(payAction, {});
  const [card, setCard] = useState(state.values?.cardNumber ?? '');
  const cardErrors = state.fieldErrors?.cardNumber ?? [];
  const message = (key: string) => (tAll.has(key as never) ? tAll(key as never) : tAll('errors.unexpected'));
  return (
    <form action={action} className="flex flex-col gap-4" data-testid="card-widget" noValidate>
      {state.formError && !cardErrors.length && (
        <div role="alert" data-testid="form-error" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
          {message(state.formError)}
        </div>
      )}
      <input type="hidden" name="paymentId" value={paymentId} />
      <fieldset className="flex flex-col gap-2">
        <legend className="mb-1 text-sm font-semibold">{t('method')}</legend>
        <label htmlFor="card-number" className="text-sm font-medium">{t('cardNumber')}</label>
        <input
          id="card-number"
          name="cardNumber"
          inputMode="numeric"
          autoComplete="cc-number"
          placeholder="0000 0000 0000 0000"
          value={card}
          onChange={(e) => setCard(e.target.value)}
          aria-invalid={cardErrors.length ? true : undefined}
          aria-describedby={cardErrors.length ? 'card-number-error' : 'card-number-hint'}
          className={`rounded-lg border bg-white px-3 py-3 font-mono text-lg tracking-wider ${cardErrors.length ? 'border-red-600' : 'border-stone-300'}`}
        />
        {cardErrors.length ? (
          <p id="card-number-error" className="text-sm text-red-700" data-testid="error-cardNumber">
            {cardErrors.map(message).join(' ')}
          </p>
        ) : (
          <p id="card-number-hint" className="text-xs text-stone-500">{t('cardHint')}</p>
        )}
      </fieldset>

      <section aria-labelledby="test-cards" className="rounded-lg border border-dashed border-amber-400 bg-amber-50 p-3" data-testid="test-cards">
        <h3 id="test-cards" className="text-sm font-semibold">{t('testCardsTitle')}</h3>
        <p className="text-xs text-stone-600">{t('testCardsIntro')}</p>
        <ul className="mt-2 flex flex-col gap-1">
          {testCards.map((c) => (
            <li key={c.number} className="grid grid-cols-[1fr_auto] items-center gap-x-2 text-sm">
              <span>
                <code className="block font-mono">{c.number}</code>
                <span className="block text-xs text-stone-600">{t(`testCards.${c.outcome}` as never)}</span>
              </span>
              <button type="button" onClick={() => setCard(c.number)} className="rounded border border-stone-300 bg-white px-2 py-1 text-xs" aria-label={t('useCard', { number: c.number })}>
                {t('use')}
              </button>
            </li>
          ))}
        </ul>
      </section>

      <SubmitButton label={payLabel} pendingLabel={t('paying')} />
      <Link href={cancelUrl} className="text-center text-sm text-stone-600 underline">{t('cancel')}</Link>
    </form>
  );
}
