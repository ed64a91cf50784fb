import type { Metadata } from 'next';
import Link from 'next/link';
import { getTranslations } from 'next-intl/server';
import { listAccounts } from '@/lib/queries/admin';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('admin'))('title') };
}

export default async function AdminPage() {
  const accounts = await listAccounts();
  const [t, tRoles] = await Promise.all([getTranslations('admin'), getTranslations('roles')]);
  return (
    <section>
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      <p className="mt-2">
        <Link href="/admin/projections" className="text-brand-700 underline">{t('projections')}</Link>
      </p>
      <h2 className="mt-6 text-lg font-semibold">{t('accounts')}</h2>
      <div className="mt-2 overflow-x-auto">
        <table className="w-full border-collapse bg-white text-sm">
          <thead>
            <tr className="border-b text-left">
              <th scope="col" className="p-2">{t('name')}</th>
              <th scope="col" className="p-2">{t('email')}</th>
              <th scope="col" className="p-2">{t('role')}</th>
              <th scope="col" className="p-2">{t('clinic')}</th>
              <th scope="col" className="p-2">{t('active')}</th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((a) => (
              <tr key={a.id} className="border-b last:border-0">
                <td className="p-2">{a.name}</td>
                <td className="p-2">{a.email}</td>
                <td className="p-2">{tRoles(a.role)}</td>
                <td className="p-2">{a.clinicId ?? '—'}</td>
                <td className="p-2">{a.active ? '✓' : '✗'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
