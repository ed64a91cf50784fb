import type { Metadata } from 'next';
import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatSeoulDate, formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { consentPurposes, myAccount } from '@/lib/queries/account';
import { ConsentForm, ContactForm, EraseDialog } from './forms';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('account'))('title') };
}

export default async function AccountPage() {
  // Decrypted personal data, for its owner only: the query reads with the session's patient id.
  const [account, t, locale] = await Promise.all([myAccount(), getTranslations('account'), getLocale() as Promise<Locale>]);
  const erased = t('erased');
  return (
    <article className="flex max-w-2xl flex-col gap-6">
      <Link href="/me" className="text-sm text-brand-700 underline">← {t('back')}</Link>
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      {!account ? (
        <p role="status" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm">{t('notYet')}</p>
      ) : (
        <>
          <section aria-labelledby="profile" className="rounded-lg border border-stone-200 bg-white p-4">
            <h2 id="profile" className="text-lg font-semibold">{t('profile')}</h2>
            {account.erased && (
              <p role="status" className="mt-2 rounded border border-stone-300 bg-stone-100 px-3 py-2 text-sm" data-testid="erased-notice">
                {t('erasedNotice', { at: account.erasedAt ? formatSeoulDateTime(account.erasedAt, locale) : '' })}
              </p>
            )}
            <dl className="mt-2 grid grid-cols-1 gap-x-6 gap-y-1 text-sm sm:grid-cols-[auto_1fr]" data-testid="profile">
              <dt className="text-stone-500">{t('name')}</dt>
              <dd data-testid="profile-name">{account.name ?? erased}</dd>
              <dt className="text-stone-500">{t('birthDate')}</dt>
              <dd>{account.birthDate ?? erased}</dd>
              <dt className="text-stone-500">{t('phone')}</dt>
              <dd data-testid="profile-phone">{account.phone ?? erased}</dd>
              <dt className="text-stone-500">{t('email')}</dt>
              <dd className="break-all">{account.email ?? erased}</dd>
              <dt className="text-stone-500">{t('since')}</dt>
              <dd>{formatSeoulDate(account.registeredAt, locale)}</dd>
            </dl>
          </section>

          {!account.erased && (
            <>
              <section aria-labelledby="contact" className="rounded-lg border border-stone-200 bg-white p-4">
                <h2 id="contact" className="text-lg font-semibold">{t('contact.title')}</h2>
                <p className="mb-3 text-sm text-stone-600">{t('contact.intro')}</p>
                <ContactForm commandId={crypto.randomUUID()} phone={account.phone ?? ''} email={account.email ?? ''} />
              </section>

              <section aria-labelledby="consents" className="rounded-lg border border-stone-200 bg-white p-4">
                <h2 id="consents" className="text-lg font-semibold">{t('consents.title')}</h2>
                <ul className="mt-2 flex flex-col divide-y divide-stone-100">
                  {consentPurposes.map((purpose) => {
                    const given = account.consents[purpose];
                    return (
                      <li key={purpose} className="flex flex-wrap items-center justify-between gap-2 py-3" data-testid={`consent-${purpose}`}>
                        <div className="min-w-0">
                          <p className="text-sm font-medium">{t(`consents.purposes.${purpose}`)}</p>
                          <p className="text-xs text-stone-600">
                            {given ? t('consents.givenAt', { at: formatSeoulDateTime(new Date(given.at), locale), version: given.version }) : t('consents.notGiven')}
                          </p>
                        </div>
                        {purpose === 'personal-data' ? (
                          <p className="text-xs text-stone-500">{t('consents.required')}</p>
                        ) : (
                          <ConsentForm commandId={crypto.randomUUID()} purpose={purpose} given={!!given} label={t(`consents.purposes.${purpose}`)} />
                        )}
                      </li>
                    );
                  })}
                </ul>
              </section>

              <section aria-labelledby="erase" className="rounded-lg border border-red-200 bg-white p-4">
                <h2 id="erase" className="text-lg font-semibold text-red-800">{t('erase.title')}</h2>
                <p className="mt-1 text-sm text-stone-700">{t('erase.intro')}</p>
                <EraseDialog commandId={crypto.randomUUID()} />
              </section>
            </>
          )}
        </>
      )}
    </article>
  );
}
