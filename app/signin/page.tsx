import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { SignInForm } from './sign-in-form';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('signIn'))('title') };
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string; verified?: string }> }) {
  const { callbackUrl, verified } = await searchParams;
  const t = await getTranslations('signIn');
  const tSecurity = await getTranslations('security');
  return (
    <section className="mx-auto max-w-sm">
      <h1 className="mb-6 text-2xl font-bold">{t('title')}</h1>
      {verified === '1' && (
        <p role="status" data-testid="verified" className="mb-4 rounded-md bg-emerald-50 p-3 text-sm text-emerald-900">
          {tSecurity('verified')}
        </p>
      )}
      {verified === '0' && (
        <p role="alert" data-testid="verify-failed" className="mb-4 rounded-md bg-red-50 p-3 text-sm text-red-800">
          {tSecurity('verifyFailed')}
        </p>
      )}
      <SignInForm callbackUrl={typeof callbackUrl === 'string' ? callbackUrl : ''} />
    </section>
  );
}
