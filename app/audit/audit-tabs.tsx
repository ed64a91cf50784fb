import Link from 'next/link';
import { getTranslations } from 'next-intl/server';
import { currentUser } from '@/lib/auth/guard';

type Tab = 'trail' | 'access' | 'review' | 'integrity';

/**
 * The audit pages' tabs. The monthly review is the auditors' sign-off; a clinic manager sees the trail,
 * the access log and the integrity check of their clinic. Hiding a tab is convenience only: every
 * page and query checks the caller itself (lib/auth/audit-scope.ts).
 */
export async function AuditTabs({ current }: { current: Tab }) {
  const [t, user] = await Promise.all([getTranslations('auditTabs'), currentUser()]);
  const auditor = user?.role === 'auditor';
  const tabs: Array<{ key: Tab; href: string }> = [
    { key: 'trail', href: '/audit' },
    { key: 'access', href: '/audit/access' },
    ...(auditor ? [{ key: 'review' as const, href: '/audit/access/review' }] : []),
    { key: 'integrity', href: '/audit/integrity' },
  ];
  return (
    <nav aria-label={t('sections')} className="flex gap-1 overflow-x-auto border-b border-stone-200">
      {tabs.map((tab) => (
        <Link
          key={tab.key}
          href={tab.href}
          aria-current={tab.key === current ? 'page' : undefined}
          className={`-mb-px shrink-0 border-b-2 px-3 py-2 text-sm font-medium ${tab.key === current ? 'border-brand-600 text-brand-700' : 'border-transparent text-stone-600 hover:text-stone-900'}`}
        >
          {t(tab.key)}
        </Link>
      ))}
    </nav>
  );
}
