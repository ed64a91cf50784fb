import { timeZone, type Locale } from './i18n/config';

const intlLocale: Record<Locale, string> = { ko: 'ko-KR', en: 'en-KR' };

/** A KRW amount (whole won; prices are VAT-inclusive), e.g. ₩150,000. */
export function formatKrw(amount: number, locale: Locale): string {
  return new Intl.NumberFormat(intlLocale[locale], { style: 'currency', currency: 'KRW', maximumFractionDigits: 0 }).format(amount);
}

/** Date and time in Seoul, e.g. 2026. 11. 26. 오후 2:30 / 26 Nov 2026, 2:30 pm. */
export function formatSeoulDateTime(at: Date, locale: Locale): string {
  return new Intl.DateTimeFormat(intlLocale[locale], { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(at);
}

/** The calendar date in Seoul, e.g. 2026년 11월 26일 목요일. */
export function formatSeoulDate(at: Date, locale: Locale): string {
  return new Intl.DateTimeFormat(intlLocale[locale], { timeZone, dateStyle: 'full' }).format(at);
}
