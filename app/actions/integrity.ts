'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { sealLogNow } from '@/lib/commands/integrity';
import { validatedActionWithUser } from './validated';

/** "Seal now" on /audit/integrity: auditors only (the command checks again). */
export const sealNowAction = validatedActionWithUser({ schema: z.object({}), roles: ['auditor'], callbackUrl: '/audit/integrity' }, async (_data, { user, origin }) => {
  await sealLogNow(user, origin);
  revalidatePath('/audit/integrity');
  return { ok: 'integrity.sealed' };
});
