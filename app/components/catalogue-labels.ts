import type { Locale } from '@/lib/i18n/config';

/** A clinic's or treatment's name in the reader's language (the Korean name is always there). */
export function localName(x: { nameKo: string; nameEn: string }, locale: Locale): string {
  return locale === 'ko' ? x.nameKo : x.nameEn || x.nameKo;
}

/**
 * Districts are stored bilingual, "서울 강남구 · Gangnam-gu, Seoul": the reader's half (the whole
 * text when it has no second half).
 */
export function districtLabel(district: string, locale: Locale): string {
  const [ko, en] = district.split(' · ');
  return (locale === 'ko' ? ko : en) || district;
}

/** A treatment category code's label (the `categories` messages), or the code itself for a new one. */
export function categoryLabel(t: { (key: string): string; has(key: string): boolean }, code: string): string {
  return t.has(code) ? t(code) : code;
}
