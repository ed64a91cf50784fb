/**
 * The live projection worker: consumes the persistent subscription group `projections` and applies
 * what it delivers in batches (lib/projections/engine.ts), acking after commit.
 *
 * - The group handler only queues the message; a loop takes everything queued (up to batchSize)
 *   and applies it in one transaction. Acks follow the commit; a crash before them means redelivery,
 *   which the per-stream revisions turn into skips.
 * - Outcomes: applied / duplicate → ack; gap → nack('retry') after a short delay (the missing event
 *   is on its way); handler failure → nack('retry') with backoff, and at the group's maxRetryCount
 *   nack('park') with the error: the event waits on the admin page, the rest goes on.
 * - An infrastructure error (PostgreSQL restarting) retries the same batch with backoff while this
 *   consumer is still the active one; if it lost the group, the batch is dropped (redelivered to the
 *   next active consumer).
 * - Status (lag, events/s, parked count) is written to projection_registry about once a second.
 * - Projections that need a build (new, or their version changed) and rebuilds requested from the
 *   admin page are rebuilt here, in the background, while the others keep going live.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { inArray } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/client';
import { comparePositions, GroupAlreadyExists, type EventStore, type GroupConsumer, type GroupMessage, type Position } from '../eventstore';
import { applyLiveBatch, ensureRegistry, needsBuild, readRegistry } from './engine';
import { rebuildProjections, RebuildInProgress } from './rebuild';
import { decodeEvents, type Outcome, type PersonalDecryptor } from './runner';
import { projectionSkips } from './schema';
import type { Projection } from './types';

export const PROJECTIONS_GROUP = 'projections';

export interface ProjectionWorkerOptions {
  store: EventStore;
  database: Database;
  projections: readonly Projection[];
  log: Logger;
  decryptor?: PersonalDecryptor;
  group?: string;
  consumerId?: string;
  /** Events applied per transaction at most (also the group's maxInFlight). Default 500. */
  batchSize?: number;
  /** Deliveries before a failing event is parked (the group's maxRetryCount). Default 5. */
  maxRetryCount?: number;
  /** Run the automatic (re)builds and admin rebuild requests. Default true. */
  rebuilds?: boolean;
  statusIntervalMs?: number;
}

export interface WorkerStats {
  batches: number;
  applied: number;
  duplicates: number;
  gaps: number;
  failures: number;
  parked: number;
  /** Time spent applying batches (decode + transaction + acks). */
  batchMs: number;
}


export class ProjectionWorker {
  readonly group: string;
  readonly stats: WorkerStats = { batches: 0, applied: 0, duplicates: 0, gaps: 0, failures: 0, parked: 0, batchMs: 0 };
  private consumer: GroupConsumer | undefined;
  private queue: GroupMessage[] = [];
  private wake: (() => void) | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private statusTimer: ReturnType<typeof setInterval> | undefined;
  private rebuildTimer: ReturnType<typeof setInterval> | undefined;
  private rebuilding: Promise<void> | undefined;
  private readonly pendingRetry = new Map<string, Position>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly batchSize: number;
  private readonly maxRetryCount: number;
  private rate = { at: Date.now(), applied: 0, perSecond: 0 };

  constructor(private readonly options: ProjectionWorkerOptions) {
    this.group = options.group ?? PROJECTIONS_GROUP;
    this.batchSize = options.batchSize ?? 500;
    this.maxRetryCount = options.maxRetryCount ?? 5;
  }

  get active(): boolean {
    return this.consumer?.active ?? false;
  }

  async start(): Promise<void> {
    const { store, database, projections, log } = this.options;
    await ensureRegistry(database, projections);
    const settings = { maxInFlight: this.batchSize, maxRetryCount: this.maxRetryCount, messageTimeoutMs: 60_000, checkpointAfterMs: 200 };
    try {
      await store.groups.create(this.group, { startFrom: 'start', ...settings });
      log.info({ group: this.group }, 'created the persistent subscription group');
    } catch (error) {
      if (!(error instanceof GroupAlreadyExists)) throw error;
      const info = await store.groups.info(this.group);
      if (info.settings.maxInFlight !== settings.maxInFlight || info.settings.maxRetryCount !== settings.maxRetryCount) {
        await store.groups.update(this.group, settings);
      }
    }
    this.loop = this.run();
    this.consumer = store.groups.connect(
      this.group,
      (message) => {
        this.queue.push(message);
        this.wake?.();
      },
      {
        consumerId: this.options.consumerId,
        onActive: () => log.info({ group: this.group, consumer: this.consumer?.consumerId }, 'active consumer of the group'),
        onError: (error) => log.warn({ err: error }, 'group consumer recovered from an error'),
      },
    );
    this.statusTimer = setInterval(() => void this.writeStatus().catch((error) => log.warn({ err: error }, 'status update failed')), this.options.statusIntervalMs ?? 1000);
    if (this.options.rebuilds !== false) {
      this.rebuildTimer = setInterval(() => this.maybeRebuild(), 2000);
      this.maybeRebuild();
    }
  }

  /** Graceful stop: finishes the batch in progress, leaves the rest unacked (redelivered), releases the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    clearInterval(this.statusTimer);
    clearInterval(this.rebuildTimer);
    await this.loop;
    for (const t of this.timers) clearTimeout(t);
    await this.consumer?.stop();
    await this.rebuilding?.catch(() => {});
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      if (this.queue.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 1000).unref?.();
        });
        this.wake = undefined;
        continue;
      }
      const batch = this.queue.splice(0, this.batchSize);
      for (;;) {
        try {
          await this.process(batch);
          failures = 0;
          break;
        } catch (error) {
          failures++;
          this.options.log.error({ err: error, events: batch.length, attempt: failures }, 'batch failed; retrying');
          if (this.stopping || !this.active) break; // not acked: redelivered to whoever is active
          if (failures >= 8) {
            // Not an outage that passes: hand the events back to the group (retry, then park).
            for (const m of batch) this.nackLater(m, `batch failed: ${String((error as Error)?.message ?? error)}`, 0);
            failures = 0;
            break;
          }
          await sleep(Math.min(5000, 100 * 2 ** failures));
        }
      }
    }
  }

  private async process(batch: GroupMessage[]): Promise<void> {
    const began = performance.now();
    const { database, projections, decryptor } = this.options;
    for (const m of batch) this.pendingRetry.delete(key(m.event.position));
    const replayedIds = batch.filter((m) => m.replayed).map((m) => m.event.eventId);
    const skip = new Set<string>();
    if (replayedIds.length > 0) {
      const rows = await database.db.select({ eventId: projectionSkips.eventId }).from(projectionSkips).where(inArray(projectionSkips.eventId, replayedIds));
      for (const r of rows) skip.add(r.eventId);
    }
    const decoded = await decodeEvents(
      batch.map((m) => m.event),
      decryptor,
    );
    // The checkpoint may only pass events that are all done: it stops before the first event still to be retried.
    const checkpointOf = (outcomes: Outcome[]): Position | undefined => {
      const retrying: Position[] = [...this.pendingRetry.values()];
      batch.forEach((m, i) => {
        const o = outcomes[i]!;
        if (o.kind === 'gap' || (o.kind === 'failed' && m.retryCount < this.maxRetryCount)) retrying.push(m.event.position);
      });
      const lowest = retrying.reduce<Position | undefined>((min, p) => (!min || comparePositions(p, min) < 0 ? p : min), undefined);
      let cp: Position | undefined;
      batch.forEach((m, i) => {
        const o = outcomes[i]!;
        if (m.replayed || (o.kind !== 'applied' && o.kind !== 'duplicate')) return;
        if (lowest && comparePositions(m.event.position, lowest) >= 0) return;
        if (!cp || comparePositions(m.event.position, cp) > 0) cp = m.event.position;
      });
      return cp;
    };
    const result = await applyLiveBatch(database, projections, decoded, { skip, checkpoint: checkpointOf });
    const acks: Promise<void>[] = [];
    batch.forEach((m, i) => {
      const o = result.outcomes[i]!;
      if (o.kind === 'applied' || o.kind === 'duplicate') {
        if (o.kind === 'applied') this.stats.applied++;
        else this.stats.duplicates++;
        acks.push(m.ack());
      } else if (o.kind === 'gap') {
        this.stats.gaps++;
        this.pendingRetry.set(key(m.event.position), m.event.position);
        this.nackLater(m, o.reason, Math.min(1000, 20 * 2 ** m.retryCount));
      } else {
        this.stats.failures++;
        this.options.log.warn({ eventId: m.event.eventId, type: m.event.type, stream: m.event.streamId, retry: m.retryCount, reason: o.reason }, 'projection failed on an event');
        if (m.retryCount >= this.maxRetryCount) {
          this.stats.parked++;
          acks.push(m.nack('park', o.reason));
        } else {
          this.pendingRetry.set(key(m.event.position), m.event.position);
          this.nackLater(m, o.reason, Math.min(2000, 50 * 2 ** m.retryCount));
        }
      }
    });
    if (skip.size > 0) await database.db.update(projectionSkips).set({ appliedAt: new Date() }).where(inArray(projectionSkips.eventId, [...skip]));
    await Promise.all(acks);
    this.stats.batches++;
    this.stats.batchMs += performance.now() - began;
  }

  private nackLater(message: GroupMessage, reason: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      message.nack('retry', reason).catch((error) => this.options.log.warn({ err: error }, 'nack failed'));
    }, delayMs);
    this.timers.add(timer);
  }

  private maybeRebuild(): void {
    if (this.rebuilding || this.stopping) return;
    this.rebuilding = (async () => {
      const { database, projections, store, log, decryptor } = this.options;
      const registry = new Map((await readRegistry(database.db)).map((r) => [r.name, r]));
      const due = projections.filter((p) => needsBuild(p, registry.get(p.name)) || registry.get(p.name)?.rebuildRequestedAt);
      // A failed automatic build is not retried in a loop: it waits for a new request from the admin page.
      const todo = due.filter((p) => {
        const row = registry.get(p.name);
        return row?.rebuildRequestedAt || !(row?.rebuildError && row.rebuildFinishedAt && (!row.rebuildStartedAt || row.rebuildFinishedAt >= row.rebuildStartedAt));
      });
      if (todo.length === 0) return;
      log.info({ projections: todo.map((p) => p.name) }, 'rebuilding projections from the log');
      try {
        const result = await rebuildProjections({ store, database, projections: todo, decryptor });
        log.info({ projections: todo.map((p) => p.name), events: result.events, eventsPerSecond: Math.round(result.eventsPerSecond) }, 'rebuild switched live');
      } catch (error) {
        if (error instanceof RebuildInProgress) log.info('a rebuild is already running elsewhere');
        else log.error({ err: error, projections: todo.map((p) => p.name) }, 'rebuild failed');
      }
    })()
      .catch((error) => this.options.log.error({ err: error }, 'rebuild check failed'))
      .finally(() => {
        this.rebuilding = undefined;
      });
  }

  private async writeStatus(): Promise<void> {
    if (!this.active) return;
    const { database, store } = this.options;
    const now = Date.now();
    const dt = (now - this.rate.at) / 1000;
    if (dt >= 1) {
      this.rate = { at: now, applied: this.stats.applied, perSecond: (this.stats.applied - this.rate.applied) / dt };
    }
    const info = await store.groups.info(this.group);
    const rows = await readRegistry(database.db);
    const lagByCheckpoint = new Map<string, { events: number; ms: number }>();
    for (const row of rows.filter((r) => r.status === 'live')) {
      const cp = { commit: row.checkpointCommit, prepare: row.checkpointPrepare };
      const k = key(cp);
      if (!lagByCheckpoint.has(k)) {
        const after = (await store.readAll({ fromPosition: cp.prepare === 0n ? 'start' : cp, maxCount: 501 })).filter((e) => comparePositions(e.position, cp) > 0);
        lagByCheckpoint.set(k, { events: after.length, ms: after[0] ? Math.max(0, now - after[0].recordedAt.getTime()) : 0 });
      }
      const lag = lagByCheckpoint.get(k)!;
      await database.sql`
        update projection_registry set lag_events = ${lag.events}, lag_ms = ${lag.ms}, events_per_second = ${this.rate.perSecond},
          parked_count = ${info.parkedCount}, worker_id = ${this.consumer?.consumerId ?? null}, status_at = now()
        where name = ${row.name}`;
    }
  }
}

function key(p: Position): string {
  return `${p.commit}:${p.prepare}`;
}
