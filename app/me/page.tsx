import type { Metadata } from 'next';
import Link from 'next/link';
import { getTranslations } from 'next-intl/server';
import { requireUser } from '@/lib/auth/guard';
import { StillProcessing } from '../components/still-processing';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('me'))('title') };
}

export default async function MyReservationsPage({ searchParams }: { searchParams: Promise<{ processing?: string }> }) {
  const user = await requireUser({ roles: ['patient'], callbackUrl: '/me' });
  const [t, { processing }] = await Promise.all([getTranslations('me'), searchParams]);
  // Reservations arrive with the booking issue; until then a patient truly has none.
  return (
    <section>
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      {processing && <StillProcessing />}
      <p className="mt-2">{t('welcome', { name: user.name })}</p>
      <p className="mt-6 text-stone-600">{t('none')}</p>
      <Link href="/" className="mt-2 inline-block text-brand-700 underline">{t('browse')}</Link>
    </section>
  );
}
