/**
 * The live apply step: one PostgreSQL transaction per batch that takes the apply lock, applies the
 * events to every live projection (per-stream revisions included), advances the projections'
 * checkpoints and notifies waiters. Shared by the worker and the tests.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { comparePositions, type Position } from '../eventstore';
import { applyBatch, HandlerFailed, type ApplyResult, type DecodedEvent } from './runner';
import { projectionRegistry } from './schema';
import type { Projection, ProjectionTx } from './types';

/** pg_advisory_xact_lock key taken by every live batch and by a rebuild's switch: one writer at a time. */
export const APPLY_LOCK = 7_271_901_001;
/** pg_advisory_lock key held by a running rebuild (one rebuild at a time). */
export const REBUILD_LOCK = 7_271_901_002;
/** NOTIFY channel: a checkpoint advanced (payload: the new checkpoint, encoded). */
export const CHECKPOINT_CHANNEL = 'yeyak_projections';

export type RegistryRow = typeof projectionRegistry.$inferSelect;

/** Creates the registry rows of projections that have none yet (status 'building'). */
export async function ensureRegistry(database: Database, projections: readonly Projection[]): Promise<void> {
  if (projections.length === 0) return;
  await database.db
    .insert(projectionRegistry)
    .values(projections.map((p) => ({ name: p.name })))
    .onConflictDoNothing();
}

export async function readRegistry(db: Database['db'] | ProjectionTx): Promise<RegistryRow[]> {
  return db.select().from(projectionRegistry);
}

/** A projection is live when its tables were built by this code's version. Others wait for a (re)build. */
export function isLive(projection: Projection, row: RegistryRow | undefined): boolean {
  return row !== undefined && row.status === 'live' && row.version === projection.version;
}

export function needsBuild(projection: Projection, row: RegistryRow | undefined): boolean {
  return !isLive(projection, row);
}

export interface LiveBatchResult extends ApplyResult {
  live: string[];
}

/**
 * Applies a decoded batch to the live projections in one transaction and moves their checkpoint to
 * what `checkpoint(outcomes)` returns (if ahead), in the same transaction, then NOTIFYs waiters
 * (delivered at commit). Throws only on infrastructure errors (nothing is committed then).
 */
export async function applyLiveBatch(
  database: Database,
  projections: readonly Projection[],
  events: readonly DecodedEvent[],
  options: {
    skip?: ReadonlySet<string>;
    /** The checkpoint to record given the batch's outcomes (computed inside the transaction). */
    checkpoint?: (outcomes: ApplyResult['outcomes']) => Position | undefined;
  } = {},
): Promise<LiveBatchResult & { checkpoint: Position | undefined }> {
  try {
    return await liveTransaction(database, projections, events, options, false);
  } catch (error) {
    // A handler threw: everything was rolled back; apply again, isolating the failing event(s).
    if (error instanceof HandlerFailed) return liveTransaction(database, projections, events, options, true);
    throw error;
  }
}

async function liveTransaction(
  database: Database,
  projections: readonly Projection[],
  events: readonly DecodedEvent[],
  options: Parameters<typeof applyLiveBatch>[3] & object,
  isolate: boolean,
): Promise<LiveBatchResult & { checkpoint: Position | undefined }> {
  return database.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${APPLY_LOCK})`);
    const registry = new Map((await readRegistry(tx as unknown as ProjectionTx)).map((r) => [r.name, r]));
    const live = projections.filter((p) => isLive(p, registry.get(p.name)));
    const result = await applyBatch(tx as unknown as ProjectionTx, live, events, { skip: options.skip, isolate });
    if (live.length > 0) {
      const names = live.map((p) => p.name);
      const cp = options.checkpoint?.(result.outcomes);
      await tx.execute(sql`
        update projection_registry set
          events_applied = events_applied + ${result.handled},
          checkpoint_commit = case when ${cp !== undefined} and (checkpoint_commit, checkpoint_prepare) < (${(cp?.commit ?? 0n).toString()}::bigint, ${(cp?.prepare ?? 0n).toString()}::bigint)
            then ${(cp?.commit ?? 0n).toString()}::bigint else checkpoint_commit end,
          checkpoint_prepare = case when ${cp !== undefined} and (checkpoint_commit, checkpoint_prepare) < (${(cp?.commit ?? 0n).toString()}::bigint, ${(cp?.prepare ?? 0n).toString()}::bigint)
            then ${(cp?.prepare ?? 0n).toString()}::bigint else checkpoint_prepare end,
          checkpoint_at = now(), updated_at = now()
        where name in ${sql`(${sql.join(
          names.map((n) => sql`${n}`),
          sql`, `,
        )})`}`);
      if (cp) await tx.execute(sql`select pg_notify(${CHECKPOINT_CHANNEL}, ${`${cp.commit}:${cp.prepare}`})`);
    }
    return { ...result, live: live.map((p) => p.name), checkpoint: live.length > 0 ? options.checkpoint?.(result.outcomes) : undefined };
  });
}

export function maxPosition(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (!a) return b;
  if (!b) return a;
  return comparePositions(a, b) >= 0 ? a : b;
}
