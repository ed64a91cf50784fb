import Link from 'next/link';
import { getLocale, getTranslations } from 'next-intl/server';
import { signOutAction } from '../actions/auth';
import { setLocaleAction } from '../actions/locale';
import { currentUser } from '@/lib/auth/guard';
import { homeFor } from '@/lib/auth/roles';
import { locales } from '@/lib/i18n/config';

const localeNames = { ko: '한국어', en: 'English' } as const;

export async function SiteHeader() {
  const [user, t, tRoles, locale] = await Promise.all([currentUser(), getTranslations('nav'), getTranslations('roles'), getLocale()]);
  const roleLink = user && { patient: 'myReservations', staff: 'staffHome', auditor: 'audit', admin: 'admin' }[user.role];
  return (
    <header className="border-b border-stone-200 bg-white">
      <nav aria-label="Main" className="mx-auto flex max-w-5xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
        <Link href="/" className="text-xl font-bold text-brand-700">
          예약 <span className="text-sm font-medium text-stone-500">Yeyak</span>
        </Link>
        <ul className="flex flex-wrap items-center gap-4 text-sm">
          <li>
            <Link href="/" className="hover:underline">{t('clinics')}</Link>
          </li>
          {user && roleLink && (
            <li>
              <Link href={homeFor(user)} className="hover:underline">{t(roleLink)}</Link>
            </li>
          )}
          {/* A clinic manager also reads their clinic's audit trail and access log. */}
          {user?.role === 'staff' && user.isClinicManager && (
            <li>
              <Link href="/audit" className="hover:underline">{t('audit')}</Link>
            </li>
          )}
        </ul>
        <div className="ml-auto flex flex-wrap items-center gap-3 text-sm">
          <form action={setLocaleAction} className="flex items-center gap-1">
            <span className="sr-only">{t('language')}</span>
            {locales.map((l) => (
              <button
                key={l}
                name="locale"
                value={l}
                aria-pressed={l === locale}
                lang={l}
                className={`rounded px-2 py-1 ${l === locale ? 'bg-stone-200 font-semibold' : 'hover:bg-stone-100'}`}
              >
                {localeNames[l]}
              </button>
            ))}
          </form>
          {user ? (
            <>
              <span className="text-stone-600" data-testid="signed-in-as">
                {t('signedInAs', { name: user.name || t('erasedName'), role: tRoles(user.role) })}
              </span>
              <form action={signOutAction}>
                <button className="rounded border border-stone-300 px-3 py-1 hover:bg-stone-100">{t('signOut')}</button>
              </form>
            </>
          ) : (
            <>
              <Link href="/signin" className="hover:underline">{t('signIn')}</Link>
              <Link href="/register" className="rounded bg-brand-600 px-3 py-1 text-white hover:bg-brand-700">{t('register')}</Link>
            </>
          )}
        </div>
      </nav>
    </header>
  );
}
