'use server';

import { cookies } from 'next/headers';
import { revalidatePath } from 'next/cache';
import { isLocale, localeCookie } from '@/lib/i18n/config';
import { postedForm } from './validated';

export async function setLocaleAction(formData: FormData): Promise<void> {
  const locale = postedForm(formData).get('locale');
  if (!isLocale(locale)) return;
  (await cookies()).set(localeCookie, locale, { path: '/', maxAge: 60 * 60 * 24 * 365, sameSite: 'lax' });
  revalidatePath('/', 'layout');
}
