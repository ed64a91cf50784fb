'use server';

/**
 * The admin page's account actions: make a staff account its clinic's manager, or take the flag away
 * (lib/auth/accounts.ts setClinicManager, through lib/auth/session.ts: recorded as a 'role_changed' security event). Admin only.
 */
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { changeClinicManager } from '@/lib/auth/session';
import { validatedActionWithUser } from './validated';

const PAGE = '/admin';

const clinicManagerSchema = z.object({
  userId: z.uuid({ error: 'invalid' }),
  clinicManager: z.enum(['true', 'false'], { error: 'invalid' }).transform((v) => v === 'true'),
});

export const setClinicManagerAction = validatedActionWithUser({ schema: clinicManagerSchema, roles: ['admin'], callbackUrl: PAGE }, async ({ userId, clinicManager }, ctx) => {
  const outcome = await changeClinicManager(ctx.user, userId, clinicManager, ctx.origin);
  if (outcome === 'not-found' || outcome === 'not-staff') return { formError: `admin.manager.${outcome}` };
  revalidatePath(PAGE);
  return { ok: clinicManager ? 'admin.manager.granted' : 'admin.manager.revoked' };
});
