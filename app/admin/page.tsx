import type { Metadata } from 'next';
import Link from 'next/link';
import { getTranslations } from 'next-intl/server';
import { listAccounts } from '@/lib/queries/admin';
import { Table } from '../components/table';
import { ClinicManagerForm } from './account-forms';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('admin'))('title') };
}

export default async function AdminPage() {
  const accounts = await listAccounts();
  const [t, tRoles, tPayments] = await Promise.all([getTranslations('admin'), getTranslations('roles'), getTranslations('adminPayments')]);
  return (
    <section>
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      <p className="mt-2">
        <Link href="/admin/projections" className="text-brand-700 underline">{t('projections')}</Link>
      </p>
      <p className="mt-1">
        <Link href="/admin/payments" className="text-brand-700 underline">{tPayments('link')}</Link>
      </p>
      <h2 className="mt-6 text-lg font-semibold">{t('accounts')}</h2>
      <div className="mt-2">
        <Table
          caption={t('accounts')}
          rows={accounts}
          rowKey={(a) => a.id}
          columns={[
            { header: t('name'), cell: (a) => (a.erased ? t('erased') : a.name), rowHeader: true },
            { header: t('email'), cell: (a) => (a.erased ? t('erased') : a.email) },
            { header: t('role'), cell: (a) => tRoles(a.role) },
            { header: t('clinic'), cell: (a) => a.clinicId ?? '—' },
            { header: t('manager.column'), cell: (a) => (a.role === 'staff' && a.clinicId ? <ClinicManagerForm userId={a.id} clinicManager={a.clinicManager} name={a.name} /> : '—') },
            { header: t('active'), cell: (a) => (a.active ? '✓' : '✗') },
          ]}
        />
      </div>
    </section>
  );
}
