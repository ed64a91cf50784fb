import { forbidden } from 'next/navigation';
import { currentUser } from '@/lib/auth/guard';
import { recordRefusal } from '@/lib/auth/refusals';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/**
 * The proxy sends refused requests here (`?from=<the path refused>`); this records the refusal as a
 * security event (issue 10 item 6: refusals appear in the trail) and renders app/forbidden.tsx with
 * status 403. Only the signed-in account's own refusal is recorded, so a hand-made link adds at
 * most a record about oneself.
 */
export default async function ForbiddenPage(props?: { searchParams?: SearchParams }) {
  const params = (await props?.searchParams) ?? {};
  const from = typeof params.from === 'string' && /^\/[\w\-./%]{0,200}$/.test(params.from) ? params.from : null;
  const user = from ? await currentUser() : null;
  if (user && from) await recordRefusal(user, { at: from, by: 'proxy' });
  forbidden();
}
