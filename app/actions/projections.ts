'use server';

import { revalidatePath } from 'next/cache';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { requireUser } from '@/lib/auth/guard';
import { db } from '@/lib/db/client';
import { allProjections } from '@/lib/projections/registry';
import { projectionSkips } from '@/lib/projections/schema';
import { PROJECTIONS_GROUP } from '@/lib/projections/worker';
import { appEventStore } from '@/lib/runtime/event-store';

export type ProjectionActionResult = { ok: true } | { ok: false; error: 'invalid' | 'not-parked' };

const RebuildInput = z.object({ name: z.union([z.literal('all'), z.enum(allProjections.map((p) => p.name) as [string, ...string[]])]) });

/** Asks the worker to rebuild a projection (or all): it replays the log into new tables and switches. */
export async function requestRebuildAction(formData: FormData): Promise<ProjectionActionResult> {
  await requireUser({ roles: ['admin'], callbackUrl: '/admin/projections' });
  const parsed = RebuildInput.safeParse({ name: formData.get('name') });
  if (!parsed.success) return { ok: false, error: 'invalid' };
  const names = parsed.data.name === 'all' ? allProjections.map((p) => p.name) : [parsed.data.name];
  await db().execute(sql`
    insert into projection_registry (name, rebuild_requested_at) select n, now() from unnest(${`{${names.join(',')}}`}::text[]) as n
    on conflict (name) do update set rebuild_requested_at = now(), updated_at = now()`);
  revalidatePath('/admin/projections');
  return { ok: true };
}

/** Redelivers every parked event to the worker (each is tried again; still failing → parked again). */
export async function retryParkedAction(): Promise<ProjectionActionResult> {
  await requireUser({ roles: ['admin'], callbackUrl: '/admin/projections' });
  await (await appEventStore()).groups.replayParked(PROJECTIONS_GROUP);
  revalidatePath('/admin/projections');
  return { ok: true };
}

const SkipInput = z.object({ eventId: z.uuid() });

/**
 * Skips one parked event: the worker acknowledges it without applying it (its stream's revision
 * moves past it) when the parked events are redelivered, which this also requests.
 */
export async function skipParkedAction(formData: FormData): Promise<ProjectionActionResult> {
  const user = await requireUser({ roles: ['admin'], callbackUrl: '/admin/projections' });
  const parsed = SkipInput.safeParse({ eventId: formData.get('eventId') });
  if (!parsed.success) return { ok: false, error: 'invalid' };
  const store = await appEventStore();
  const parked = (await store.groups.listParked(PROJECTIONS_GROUP, { maxCount: 1000 })).find((p) => p.event.eventId === parsed.data.eventId);
  if (!parked) return { ok: false, error: 'not-parked' };
  await db()
    .insert(projectionSkips)
    .values({ eventId: parked.event.eventId, streamId: parked.event.streamId, revision: parked.event.revision, requestedBy: user.id })
    .onConflictDoNothing();
  await store.groups.replayParked(PROJECTIONS_GROUP);
  revalidatePath('/admin/projections');
  return { ok: true };
}
