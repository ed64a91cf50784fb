import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { currentUser } from '@/lib/auth/guard';
import { formatSeoulDate } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { shiftDay } from '@/lib/queries/staff';

type Tab = 'today' | 'board' | 'payments' | 'stats' | 'manage';

/**
 * The staff pages' tabs (one list for every staff page): Today, Board, Payments, Statistics, and for a
 * clinic manager Clinic (running the clinic). Hiding that tab is convenience only: the manage pages and
 * actions refuse non-managers themselves. The day-bar pages carry the day shown to one another.
 */
export async function StaffTabs({ clinicId, current, day, today }: { clinicId: string; current: Tab; day?: string; today?: string }) {
  const [t, tDesk, tStats, tManage, user] = await Promise.all([getTranslations('staffToday'), getTranslations('desk'), getTranslations('clinicStats'), getTranslations('manage'), currentUser()]);
  const onDay = day && day !== today ? `?day=${day}` : '';
  const tabs: Array<{ key: Tab; href: string; label: string }> = [
    { key: 'today', href: `/staff/${clinicId}${onDay}`, label: t('tabToday') },
    { key: 'board', href: `/staff/${clinicId}/board${onDay}`, label: t('tabBoard') },
    { key: 'payments', href: `/staff/${clinicId}/payments${onDay}`, label: tDesk('tabPayments') },
    { key: 'stats', href: `/staff/${clinicId}/stats`, label: tStats('tab') },
    ...(user?.isClinicManager && user.clinicId === clinicId ? [{ key: 'manage' as const, href: `/staff/${clinicId}/manage`, label: tManage('tab') }] : []),
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
          {tab.label}
        </Link>
      ))}
    </nav>
  );
}

/**
 * The day pages' header: the title (the clinic's dashboard, or the page's own), the tabs and the day
 * shown (any day can be opened).
 */
export async function StaffHeader({ clinicId, clinicName, day, today, current, title }: { clinicId: string; clinicName: string; day: string; today: string; current: 'today' | 'board' | 'payments'; title?: string }) {
  const [t, tStaff, locale] = await Promise.all([getTranslations('staffToday'), getTranslations('staff'), getLocale() as Promise<Locale>]);
  const base = current === 'today' ? `/staff/${clinicId}` : `/staff/${clinicId}/${current}`;
  const dayHref = (d: string) => (d === today ? base : `${base}?day=${d}`);
  const link = 'rounded border border-stone-300 bg-white px-2.5 py-1 text-sm hover:bg-stone-50';
  return (
    <header className="flex flex-col gap-3">
      <h1 className="text-2xl font-bold">{title ?? tStaff('title', { clinic: clinicName })}</h1>
      <StaffTabs clinicId={clinicId} current={current} day={day} today={today} />
      <div className="flex flex-wrap items-center gap-2">
        <p className="mr-auto font-medium" data-testid="staff-day">
          {formatSeoulDate(new Date(`${day}T12:00:00+09:00`), locale)}
          {day === today ? <span className="ml-2 rounded bg-brand-50 px-1.5 py-0.5 text-xs text-brand-700">{t('isToday')}</span> : null}
        </p>
        <Link href={dayHref(shiftDay(day, -1))} className={link}>
          {t('previousDay')}
        </Link>
        {day !== today && (
          <Link href={base} className={link}>
            {t('backToToday')}
          </Link>
        )}
        <Link href={dayHref(shiftDay(day, 1))} className={link}>
          {t('nextDay')}
        </Link>
        <form method="get" action={base} className="flex items-center gap-1">
          <label htmlFor="staff-day-picker" className="sr-only">
            {t('pickDay')}
          </label>
          <input id="staff-day-picker" type="date" name="day" defaultValue={day} className="rounded border border-stone-300 bg-white px-2 py-1 text-sm" />
          <button type="submit" className={link}>
            {t('open')}
          </button>
        </form>
      </div>
    </header>
  );
}
