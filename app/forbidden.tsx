import Link from 'next/link';
import { getTranslations } from 'next-intl/server';
import { currentUser } from '@/lib/auth/guard';
import { homeFor } from '@/lib/auth/roles';

export default async function Forbidden() {
  const [t, user] = await Promise.all([getTranslations('forbidden'), currentUser()]);
  return (
    <section className="mx-auto max-w-md text-center">
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      <p className="mt-2 text-stone-600">{t('body')}</p>
      <Link href={user ? homeFor(user) : '/'} className="mt-4 inline-block text-brand-700 underline">{t('home')}</Link>
    </section>
  );
}
