/**
 * The live apply step: one PostgreSQL transaction per batch that takes the apply lock, applies the
 * events to every live projection (per-stream revisions included), advances the projections'
 * checkpoints and notifies waiters. Shared by the worker and the tests.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { safeTransaction } from '../db/connection-loss';
import { comparePositions, type Position } from '../eventstore';
import { writeStatements } from './rows';
import { applyBatch, HandlerFailed, rawClient, type ApplyResult, type DecodedEvent } from './runner';
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

/**
 * The live projections at the last batch (per database): the next batch issues its statements for
 * them at once, pipelined behind the apply lock, and checks the registry (read after the lock, in the
 * same pipeline) before committing; if it changed (a rebuild switched), the transaction is rolled back
 * and run again with the registry just read.
 */
const liveCache = new WeakMap<Database, Map<string, Pick<RegistryRow, 'status' | 'version'>>>();

class RegistryChanged extends Error {
  constructor(readonly registry: Map<string, Pick<RegistryRow, 'status' | 'version'>>) {
    super('projection_registry changed: apply the batch again');
  }
}

async function liveTransaction(
  database: Database,
  projections: readonly Projection[],
  events: readonly DecodedEvent[],
  options: Parameters<typeof applyLiveBatch>[3] & object,
  isolate: boolean,
): Promise<LiveBatchResult & { checkpoint: Position | undefined }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await liveAttempt(database, projections, events, options, isolate);
    } catch (error) {
      if (!(error instanceof RegistryChanged) || attempt >= 3) throw error;
      liveCache.set(database, error.registry);
    }
  }
}

async function liveAttempt(
  database: Database,
  projections: readonly Projection[],
  events: readonly DecodedEvent[],
  options: Parameters<typeof applyLiveBatch>[3] & object,
  isolate: boolean,
): Promise<LiveBatchResult & { checkpoint: Position | undefined }> {
  return safeTransaction(database.db, async (tx) => {
    // Sent together, in this order (rawClient: call order is wire order): the lock; then the registry,
    // whose snapshot is taken once the lock is held; then (applyBatch) the revisions.
    const pg = rawClient(tx as unknown as ProjectionTx);
    let lock: Promise<unknown> | undefined;
    let registryRead!: Promise<Array<{ name: string; status: RegistryRow['status']; version: number | null }>>;
    const send = () => {
      lock = pg`select pg_advisory_xact_lock(${APPLY_LOCK})`.execute();
      registryRead = pg<Array<{ name: string; status: RegistryRow['status']; version: number | null }>>`select name, status, version from projection_registry`.execute();
      lock.catch(() => {});
      registryRead.catch(() => {});
    };
    let cached = liveCache.get(database);
    if (!cached) {
      send();
      cached = new Map((await registryRead).map((r) => [r.name, r]));
      liveCache.set(database, cached);
    }
    const known = cached;
    const live = projections.filter((p) => isLive(p, known.get(p.name) as RegistryRow | undefined));
    // The registry must say the same as the cache; it is read before anything of this batch is
    // written (sent first), and if it changed (a rebuild switched) this attempt is rolled back.
    let check: Promise<unknown> | undefined;
    const checked = () =>
      (check ??= Promise.all([lock, registryRead]).then(([, rows]) => {
        const now = new Map(rows.map((r) => [r.name, r]));
        const same = projections.every((p) => isLive(p, now.get(p.name) as RegistryRow | undefined) === isLive(p, known.get(p.name) as RegistryRow | undefined));
        if (!same) throw new RegistryChanged(now);
      }));
    let cp: Position | undefined;
    const result = await applyBatch(tx as unknown as ProjectionTx, live, events, {
      skip: options.skip,
      isolate,
      beforeRead: lock ? undefined : send,
      onOutcomes: async (outcomes, collector) => {
        await checked();
        if (live.length === 0) return;
        cp = options.checkpoint?.(outcomes.outcomes);
        const c = cp ? { commit: cp.commit.toString(), prepare: cp.prepare.toString() } : undefined;
        const names = live.map((p) => p.name);
        const advance = c
          ? sql`, checkpoint_commit = case when (checkpoint_commit, checkpoint_prepare) < (${c.commit}::bigint, ${c.prepare}::bigint) then ${c.commit}::bigint else checkpoint_commit end,
              checkpoint_prepare = case when (checkpoint_commit, checkpoint_prepare) < (${c.commit}::bigint, ${c.prepare}::bigint) then ${c.prepare}::bigint else checkpoint_prepare end`
          : sql``;
        const update = sql`
          update projection_registry set events_applied = events_applied + ${outcomes.handled}${advance}, checkpoint_at = now(), updated_at = now()
          where name = any(${sql.param(names)}::text[])`;
        const notify = cp ? sql`select pg_notify(${CHECKPOINT_CHANNEL}, ${`${cp.commit}:${cp.prepare}`})` : undefined;
        if (collector) {
          await writeStatements(tx as unknown as ProjectionTx, projectionRegistry, [update]);
          if (notify) collector.setFinal(notify);
        } else {
          await tx.execute(update);
          if (notify) await tx.execute(notify);
        }
      },
    });
    await checked();
    return { ...result, live: live.map((p) => p.name), checkpoint: cp };
  });
}

export function maxPosition(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (!a) return b;
  if (!b) return a;
  return comparePositions(a, b) >= 0 ? a : b;
}
