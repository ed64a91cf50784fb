import type { Metadata } from 'next';
import localFont from 'next/font/local';
import { NextIntlClientProvider } from 'next-intl';
import { getLocale, getTranslations } from 'next-intl/server';
import { SiteHeader } from './components/site-header';
import './globals.css';

// Every page depends on the signed-in user (the header) and the chosen language (a cookie), so each
// request renders; what the public pages read is cached below the page, in lib/queries/public-cache.ts
// (dropped when the worker announces a catalogue or schedule change), not in Next's route cache.
export const dynamic = 'force-dynamic';

// Self-hosted (from the pretendard package), so Korean renders the same on machines without a Korean
// font (headless chromium here showed boxes). One variable file covers every weight.
const pretendard = localFont({
  src: '../node_modules/pretendard/dist/web/variable/woff2/PretendardVariable.woff2',
  weight: '45 920',
  display: 'swap',
  fallback: ['Apple SD Gothic Neo', 'Noto Sans KR', 'Malgun Gothic', 'system-ui', 'sans-serif'],
});

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('app');
  return { title: { default: t('name'), template: `%s · ${t('name')}` }, description: t('tagline') };
}

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const locale = await getLocale();
  const t = await getTranslations('app');
  return (
    <html lang={locale}>
      <body className={`${pretendard.className} min-h-screen bg-stone-50 text-stone-900 antialiased`}>
        {/* No messages to the client here: each segment whose client components translate hands them
            their own namespaces (lib/i18n/client-namespaces.ts), so a page does not carry the whole UI's. */}
        <NextIntlClientProvider messages={{}}>
          <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:px-3 focus:py-2">
            {t('skipToContent')}
          </a>
          <SiteHeader />
          <main id="main" className="mx-auto max-w-5xl px-4 py-8">
            {children}
          </main>
        </NextIntlClientProvider>
      </body>
    </html>
  );
}
