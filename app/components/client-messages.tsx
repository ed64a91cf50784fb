import { NextIntlClientProvider } from 'next-intl';
import { getMessages } from 'next-intl/server';
import { clientNamespaces, pickNamespaces, type ClientSegment } from '@/lib/i18n/client-namespaces';

/** The messages a route segment's client components need (lib/i18n/client-namespaces.ts), and only those. */
export async function ClientMessages({ segment, children }: { segment: ClientSegment; children: React.ReactNode }) {
  const messages = pickNamespaces(await getMessages(), clientNamespaces[segment]);
  return <NextIntlClientProvider messages={messages}>{children}</NextIntlClientProvider>;
}
