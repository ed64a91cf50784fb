/**
 * Operator commands for the read side (/admin/projections). They are not domain commands (nothing
 * is appended to the event log): they leave requests for the worker, which rebuilds, retries or
 * skips. The server action authorises (admin) before calling them.
 */
import { sql } from 'drizzle-orm';
import { db } from '../db/client';
import { allProjections } from '../projections/registry';
import { projectionSkips } from '../projections/schema';
import { PROJECTIONS_GROUP } from '../projections/worker';
import { appEventStore } from '../runtime/event-store';

/** Names of every projection this code knows (what a rebuild request may name). */
export const projectionNames = allProjections.map((p) => p.name) as [string, ...string[]];

/** Asks the worker to rebuild these projections: it replays the log into new tables and switches. */
export async function requestProjectionRebuild(names: readonly string[]): Promise<void> {
  const unknown = names.filter((n) => !projectionNames.includes(n));
  if (unknown.length) throw new RangeError(`unknown projections: ${unknown.join(', ')}`);
  await db().execute(sql`
    insert into projection_registry (name, rebuild_requested_at) select n, now() from unnest(${`{${names.join(',')}}`}::text[]) as n
    on conflict (name) do update set rebuild_requested_at = now(), updated_at = now()`);
}

/** Redelivers every parked event to the worker (each is tried again; still failing → parked again). */
export async function replayParkedEvents(): Promise<void> {
  await (await appEventStore()).groups.replayParked(PROJECTIONS_GROUP);
}

/**
 * Skips one parked event: the worker acknowledges it without applying it (its stream's revision
 * moves past it) when the parked events are redelivered, which this also requests.
 * Returns false when no such event is parked.
 */
export async function skipParkedEvent(eventId: string, requestedBy: string): Promise<boolean> {
  const store = await appEventStore();
  const parked = (await store.groups.listParked(PROJECTIONS_GROUP, { maxCount: 1000 })).find((p) => p.event.eventId === eventId);
  if (!parked) return false;
  await db()
    .insert(projectionSkips)
    .values({ eventId: parked.event.eventId, streamId: parked.event.streamId, revision: parked.event.revision, requestedBy })
    .onConflictDoNothing();
  await store.groups.replayParked(PROJECTIONS_GROUP);
  return true;
}
