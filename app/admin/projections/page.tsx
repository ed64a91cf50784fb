import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { requireUser } from '@/lib/auth/guard';
import { projectionsStatus } from '@/lib/queries/projections';
import { ProjectionsLive } from './projections-live';

export const dynamic = 'force-dynamic';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('projections'))('title') };
}

export default async function ProjectionsPage() {
  await requireUser({ roles: ['admin'], callbackUrl: '/admin/projections' });
  const [status, t] = await Promise.all([projectionsStatus(), getTranslations('projections')]);
  return (
    <section>
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      <p className="mt-1 text-sm text-stone-600">{t('intro')}</p>
      <ProjectionsLive initial={status} />
    </section>
  );
}
