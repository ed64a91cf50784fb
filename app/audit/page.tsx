import type { Metadata } from 'next';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { recentSecurityEvents } from '@/lib/queries/audit';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('audit'))('title') };
}

export default async function AuditPage() {
  const events = await recentSecurityEvents();
  const [t, locale] = await Promise.all([getTranslations('audit'), getLocale() as Promise<Locale>]);
  return (
    <section>
      <h1 className="text-2xl font-bold">{t('title')}</h1>
      <h2 className="mt-6 text-lg font-semibold">{t('securityEvents')}</h2>
      <p className="text-sm text-stone-600">{t('intro')}</p>
      {events.length === 0 ? (
        <p className="mt-4">{t('none')}</p>
      ) : (
        <div className="mt-4 overflow-x-auto">
          <table className="w-full border-collapse bg-white text-sm">
            <thead>
              <tr className="border-b text-left">
                <th scope="col" className="p-2">{t('time')}</th>
                <th scope="col" className="p-2">{t('type')}</th>
                <th scope="col" className="p-2">{t('account')}</th>
                <th scope="col" className="p-2">{t('ip')}</th>
                <th scope="col" className="p-2">{t('detail')}</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id} className="border-b last:border-0">
                  <td className="whitespace-nowrap p-2 tabular-nums">{formatSeoulDateTime(e.occurredAt, locale)}</td>
                  <td className="p-2">{t(`types.${e.type}`)}</td>
                  <td className="p-2">{e.email ?? '—'}</td>
                  <td className="p-2 tabular-nums">{e.ip}</td>
                  <td className="p-2 font-mono text-xs">{e.detail ? JSON.stringify(e.detail) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
