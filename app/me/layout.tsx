import { ClientMessages } from '@/app/components/client-messages';

/** Hands this segment's client components their messages only (lib/i18n/client-namespaces.ts). */
export default function Layout({ children }: { children: React.ReactNode }) {
  return <ClientMessages segment="me">{children}</ClientMessages>;
}
