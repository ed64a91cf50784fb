import { redirect } from 'next/navigation';
import { requireUser } from '@/lib/auth/guard';
import { homeFor } from '@/lib/auth/roles';

/** /staff sends staff to their own clinic's dashboard. */
export default async function StaffIndex() {
  const user = await requireUser({ roles: ['staff'], callbackUrl: '/staff' });
  redirect(homeFor(user));
}
