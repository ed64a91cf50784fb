import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { RegisterForm } from './register-form';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('register'))('title') };
}

export default async function RegisterPage() {
  const t = await getTranslations('register');
  return (
    <section className="mx-auto max-w-sm">
      <h1 className="mb-6 text-2xl font-bold">{t('title')}</h1>
      <RegisterForm />
    </section>
  );
}
