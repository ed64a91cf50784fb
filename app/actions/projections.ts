'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { requireUser } from '@/lib/auth/guard';
import { projectionNames, replayParkedEvents, requestProjectionRebuild, skipParkedEvent } from '@/lib/commands/projections';
import { postedForm } from './validated';

export type ProjectionActionResult = { ok: true } | { ok: false; error: 'invalid' | 'not-parked' };

const RebuildInput = z.object({ name: z.union([z.literal('all'), z.enum(projectionNames)]) });

/** Asks the worker to rebuild a projection (or all): it replays the log into new tables and switches. */
export async function requestRebuildAction(formData: FormData): Promise<ProjectionActionResult> {
  await requireUser({ roles: ['admin'], callbackUrl: '/admin/projections' });
  const parsed = RebuildInput.safeParse({ name: postedForm(formData).get('name') });
  if (!parsed.success) return { ok: false, error: 'invalid' };
  await requestProjectionRebuild(parsed.data.name === 'all' ? projectionNames : [parsed.data.name]);
  revalidatePath('/admin/projections');
  return { ok: true };
}

/** Redelivers every parked event to the worker (each is tried again; still failing → parked again). */
export async function retryParkedAction(): Promise<ProjectionActionResult> {
  await requireUser({ roles: ['admin'], callbackUrl: '/admin/projections' });
  await replayParkedEvents();
  revalidatePath('/admin/projections');
  return { ok: true };
}

const SkipInput = z.object({ eventId: z.uuid() });

/** Skips one parked event (the worker acknowledges it without applying it). */
export async function skipParkedAction(formData: FormData): Promise<ProjectionActionResult> {
  const user = await requireUser({ roles: ['admin'], callbackUrl: '/admin/projections' });
  const parsed = SkipInput.safeParse({ eventId: postedForm(formData).get('eventId') });
  if (!parsed.success) return { ok: false, error: 'invalid' };
  if (!(await skipParkedEvent(parsed.data.eventId, user.id))) return { ok: false, error: 'not-parked' };
  revalidatePath('/admin/projections');
  return { ok: true };
}
