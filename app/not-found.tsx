import Link from 'next/link';
import { getTranslations } from 'next-intl/server';

export default async function NotFound() {
  const t = await getTranslations('notFound');
  return (
    <section className="mx-auto max-w-md text-center">
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      <Link href="/" className="mt-4 inline-block text-brand-700 underline">{t('home')}</Link>
    </section>
  );
}
