export const locales = ['ko', 'en'] as const;
export type Locale = (typeof locales)[number];
export const defaultLocale: Locale = 'ko';
export const localeCookie = 'YEYAK_LOCALE';
/** Clinics are in Seoul: every date and time is shown in Seoul time, whatever the reader's machine says. */
export const timeZone = 'Asia/Seoul';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (locales as readonly string[]).includes(value);
}
