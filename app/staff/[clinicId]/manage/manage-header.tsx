import Link from 'next/link';
import { getTranslations } from 'next-intl/server';
import { StaffTabs } from '../staff-nav';

export type ManageSection = 'treatments' | 'hours' | 'closures' | 'policy';

const sectionPath: Record<ManageSection, string> = { treatments: '', hours: '/hours', closures: '/closures', policy: '/policy' };

/** The manage pages' header: the staff tabs (Clinic current), the title and the four sections. */
export async function ManageHeader({ clinicId, clinicName, current, title }: { clinicId: string; clinicName: string; current: ManageSection; title?: string }) {
  const t = await getTranslations('manage');
  const sections = (['treatments', 'hours', 'closures', 'policy'] as const).map((key) => ({ key, href: `/staff/${clinicId}/manage${sectionPath[key]}`, label: t(`sections.${key}`) }));
  return (
    <header className="flex flex-col gap-3">
      <h1 className="text-2xl font-bold">{title ?? t('title', { clinic: clinicName })}</h1>
      <StaffTabs clinicId={clinicId} current="manage" />
      <nav aria-label={t('sectionsLabel')} className="flex flex-wrap gap-2">
        {sections.map((s) => (
          <Link
            key={s.key}
            href={s.href}
            aria-current={s.key === current ? 'page' : undefined}
            className={`rounded-full border px-3 py-1 text-sm ${s.key === current ? 'border-brand-600 bg-brand-50 font-medium text-brand-700' : 'border-stone-300 bg-white text-stone-700 hover:bg-stone-50'}`}
          >
            {s.label}
          </Link>
        ))}
      </nav>
    </header>
  );
}
