import type { Metadata } from 'next';
import Link from 'next/link';
import { getTranslations } from 'next-intl/server';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('security'))('sentTitle') };
}

/** What every registration answers, whether the address was new or already had an account. */
export default async function RegistrationSentPage() {
  const t = await getTranslations('security');
  return (
    <section className="mx-auto max-w-sm">
      <h1 className="mb-4 text-2xl font-bold">{t('sentTitle')}</h1>
      <p className="mb-2" data-testid="registration-sent">
        {t('sentBody')}
      </p>
      <p className="mb-6 text-sm text-stone-600">{t('sentHint')}</p>
      <Link href="/signin" className="text-brand-700 underline">
        {t('toSignIn')}
      </Link>
    </section>
  );
}
