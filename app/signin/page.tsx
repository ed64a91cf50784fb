import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { SignInForm } from './sign-in-form';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('signIn'))('title') };
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string; registered?: string }> }) {
  const { callbackUrl } = await searchParams;
  const t = await getTranslations('signIn');
  return (
    <section className="mx-auto max-w-sm">
      <h1 className="mb-6 text-2xl font-bold">{t('title')}</h1>
      <SignInForm callbackUrl={typeof callbackUrl === 'string' ? callbackUrl : ''} />
    </section>
  );
}
