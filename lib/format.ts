import { timeZone, type Locale } from './i18n/config';

const intlLocale: Record<Locale, string> = { ko: 'ko-KR', en: 'en-KR' };

// Building an Intl formatter costs ≈ 25–50 µs, formatting with one ≈ 0.3 µs: one per locale and style.
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function cached<F extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => F): F {
  let f = formatters.get(key) as F | undefined;
  if (!f) formatters.set(key, (f = make()));
  return f;
}

/** A KRW amount (whole won; prices are VAT-inclusive), e.g. ₩150,000. */
export function formatKrw(amount: number, locale: Locale): string {
  return cached(`krw|${locale}`, () => new Intl.NumberFormat(intlLocale[locale], { style: 'currency', currency: 'KRW', maximumFractionDigits: 0 })).format(amount);
}

/**
 * Date and time in Seoul on the 24-hour clock, as Korean booking apps show slots: 2026. 11. 26. 14:30 /
 * 26 Nov 2026, 14:30. (Newer ICU data gives Korean "PM 2:30" on the 12-hour clock, not 오후.)
 */
export function formatSeoulDateTime(at: Date, locale: Locale): string {
  return cached(`datetime|${locale}`, () => new Intl.DateTimeFormat(intlLocale[locale], { timeZone, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' })).format(at);
}

/** The time of day in Seoul on the 24-hour clock, e.g. 14:30. */
export function formatSeoulTime(at: Date | string, locale: Locale): string {
  return cached(`time|${locale}`, () => new Intl.DateTimeFormat(intlLocale[locale], { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })).format(new Date(at));
}

/** The calendar date in Seoul, e.g. 2026년 11월 26일 목요일. */
export function formatSeoulDate(at: Date, locale: Locale): string {
  return cached(`date|${locale}`, () => new Intl.DateTimeFormat(intlLocale[locale], { timeZone, dateStyle: 'full' })).format(at);
}

/** A short clinic day in Seoul, e.g. 12월 2일 (수) / Wed, 2 Dec. `day` is yyyy-mm-dd or an instant. */
export function formatSeoulShortDate(day: string | Date, locale: Locale): string {
  const at = typeof day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(day) ? new Date(`${day}T12:00:00+09:00`) : new Date(day);
  return cached(`short|${locale}`, () => new Intl.DateTimeFormat(intlLocale[locale], { timeZone, month: 'short', day: 'numeric', weekday: 'short' })).format(at);
}
