/**
 * Rebuild: replay the whole log (a catch-up read with readAll, not the group) into shadow tables in
 * the schema `projections_next`, then switch in one transaction once caught up. Pages keep reading
 * the old tables (and the live worker keeps updating them) until the switch.
 *
 *   1. take the rebuild lock (one rebuild at a time); create projections_next.<table> LIKE each live
 *      table (indexes renamed to the live names), revision tables included;
 *   2. read pages from the start, apply them with search_path = projections_next, public (the same
 *      handlers and runner as the live worker, so the same per-stream revisions are built);
 *   3. when a page comes back short, open the switch transaction: take the apply lock (the live
 *      worker waits), read and apply what is left, then move each live table out
 *      (projections_old) and its shadow in (or, for shared tables in 'merge' mode, upsert the rows),
 *      mark the projections live at this code's version with the rebuild's checkpoint, and commit.
 *
 * Every event the live worker applied before the switch is in the log before it (the group only
 * delivers committed events below the read horizon), so the final read under the apply lock sees it;
 * events the rebuild applied and the group delivers later are skipped as duplicates by the new
 * revision tables.
 */
import { getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import { getTableColumns, sql } from 'drizzle-orm';
import postgres from 'postgres';
import type { Database } from '../db/client';
import { comparePositions, type EventStore, type Position, type RecordedEvent } from '../eventstore';
import { safeBegin, safeTransaction } from '../db/connection-loss';
import { APPLY_LOCK, CHECKPOINT_CHANNEL, ensureRegistry, REBUILD_LOCK } from './engine';
import { attachRowStore, copyRows, RetainBudget, RowStore } from './row-store';
import { applyBatch, decodeEvents, HandlerFailed, type DecodedEvent, type PersonalDecryptor } from './runner';
import { followsStream, type Projection, type ProjectionTable, type ProjectionTx } from './types';

export const SHADOW_SCHEMA = 'projections_next';
const OLD_SCHEMA = 'projections_old';

export class RebuildInProgress extends Error {
  override readonly name = 'RebuildInProgress';
}

export class RebuildFailed extends Error {
  override readonly name = 'RebuildFailed';
  constructor(
    readonly event: RecordedEvent,
    readonly reason: string,
  ) {
    super(`event ${event.eventId} (${event.type}, ${event.streamId}@${event.revision}) failed: ${reason}`);
  }
}

export interface RebuildProgress {
  /** Events read from the log so far. */
  events: number;
  /** Position reached and the log's head when the rebuild started (progress is by position). */
  position: Position | undefined;
  head: Position | undefined;
  /** 0..1 */
  fraction: number;
  eventsPerSecond: number;
  etaSeconds: number | undefined;
  phase: 'copying' | 'switching' | 'done';
}

export interface RebuildOptions {
  store: EventStore;
  database: Database;
  projections: readonly Projection[];
  decryptor?: PersonalDecryptor;
  pageSize?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Projections applied at once during the copy (each needs a connection of the pool). Default 4. */
  concurrency?: number;
  /** Aborts between pages (the shadow tables are dropped; the live ones are untouched). */
  signal?: AbortSignal;
  /** Rows kept in memory across pages, over all projections (row-store.ts). Default 10,000 (DEFAULT_RETAINED_ROWS). */
  retainedRows?: number;
  /** Called once with what the build keeps in memory (tests, diagnostics); all of it is released when the build ends. */
  onMemory?: (memory: RebuildMemory) => void;
}

/** What a build keeps in memory while it copies: the row stores and the streams' revisions. */
export interface RebuildMemory {
  budget: RetainBudget;
  stores: ReadonlyMap<Projection, RowStore>;
  /** The last revision of every stream read so far (each projection's revision table is its streams' part of it). */
  revisions: Map<string, number>;
}

/** Rows a build keeps across pages by default: with the revisions and known keys, a 1M-event build stays near the worker's memory goal. */
export const DEFAULT_RETAINED_ROWS = 10_000;

export interface RebuildResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  checkpoint: Position | undefined;
  /** What the copy held in memory at most: rows retained (after each page), keys known, streams' revisions. */
  memory?: { retainedRowsPeak: number; knownKeys: number; streams: number };
  /** Wall seconds of each phase. */
  phases?: RebuildPhases;
}

/** A build's phases: shadow tables created, the copy (pages), revision tables COPYed, deferred indexes built, the switch. */
export interface RebuildPhases {
  shadow: number;
  copy: number;
  revisions: number;
  indexes: number;
  switch: number;
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

function tablesOf(projection: Projection): ProjectionTable[] {
  return [...projection.tables, { table: projection.revisions as PgTable }];
}

function tableName(table: PgTable): string {
  return getTableConfig(table).name;
}

/** Index definitions without their name and schema, to match a shadow table's indexes with the live ones. */
function normalizeIndexDef(def: string): string {
  return def.replace(/INDEX \S+ ON (ONLY )?\S+ /, 'INDEX ON ');
}

/**
 * Creates the shadow tables. Their non-unique indexes are dropped and returned, to be built once
 * after the copy (one bulk index build is much cheaper than maintaining them row by row).
 */
async function createShadow(database: Database, liveSchema: string, projections: readonly Projection[]): Promise<string[]> {
  const deferred: string[] = [];
  const s = database.sql;
  await s.unsafe(`drop schema if exists ${q(SHADOW_SCHEMA)} cascade`);
  await s.unsafe(`create schema ${q(SHADOW_SCHEMA)}`);
  // Tables are independent: created four at a time (about ten catalog statements each, one after the
  // other, were 0.7 s of a 100k-event rebuild). The deferred indexes are listed in the tables' order.
  const names = projections.flatMap((projection) => tablesOf(projection).map(({ table }) => tableName(table)));
  const perTable: string[][] = names.map(() => []);
  const queue = names.map((name, i) => ({ name, i }));
  await Promise.all(
    Array.from({ length: Math.min(4, queue.length) }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) perTable[job.i] = await createShadowTable(database, liveSchema, job.name);
    }),
  );
  for (const list of perTable) deferred.push(...list);
  return deferred;
}

async function createShadowTable(database: Database, liveSchema: string, name: string): Promise<string[]> {
  const deferred: string[] = [];
  const s = database.sql;
  await s.unsafe(`create table ${q(SHADOW_SCHEMA)}.${q(name)} (like ${q(liveSchema)}.${q(name)} including all)`);
  const indexes = await s<{ schema: string; indexname: string; indexdef: string; unique: boolean; constraint: boolean }[]>`
    select n.nspname as schema, c.relname as indexname, pg_get_indexdef(i.indexrelid) as indexdef, i.indisunique as unique,
      exists (select 1 from pg_constraint k where k.conindid = i.indexrelid and k.connamespace = n.oid and k.conname = c.relname) as constraint
    from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
    join pg_class t on t.oid = i.indrelid
    where t.relname = ${name} and n.nspname in (${liveSchema}, ${SHADOW_SCHEMA})`;
  const live = indexes.filter((i) => i.schema === liveSchema);
  const shadow = indexes.filter((i) => i.schema === SHADOW_SCHEMA);
  const byDef = new Map(live.map((i) => [normalizeIndexDef(i.indexdef), i.indexname]));
  for (const index of shadow) {
    if (!index.unique) {
      const liveName = byDef.get(normalizeIndexDef(index.indexdef));
      await s.unsafe(`drop index ${q(SHADOW_SCHEMA)}.${q(index.indexname)}`);
      deferred.push(index.indexdef.replace(/^CREATE INDEX \S+ ON /, `CREATE INDEX ${q(liveName ?? index.indexname)} ON `));
      continue;
    }
    const wanted = byDef.get(normalizeIndexDef(index.indexdef));
    if (wanted && wanted !== index.indexname) {
      if (index.constraint) {
        await s.unsafe(`alter table ${q(SHADOW_SCHEMA)}.${q(name)} rename constraint ${q(index.indexname)} to ${q(wanted)}`);
      } else {
        await s.unsafe(`alter index ${q(SHADOW_SCHEMA)}.${q(index.indexname)} rename to ${q(wanted)}`);
      }
    }
  }
  return deferred;
}

async function switchTables(tx: ProjectionTx, liveSchema: string, projections: readonly Projection[]): Promise<void> {
  await tx.execute(sql.raw(`drop schema if exists ${q(OLD_SCHEMA)} cascade`));
  await tx.execute(sql.raw(`create schema ${q(OLD_SCHEMA)}`));
  for (const projection of projections) {
    for (const spec of tablesOf(projection)) {
      const name = tableName(spec.table);
      const live = `${q(liveSchema)}.${q(name)}`;
      const shadow = `${q(SHADOW_SCHEMA)}.${q(name)}`;
      if (spec.mode === 'merge') {
        const cols = (spec.mergeColumns ?? []).map((js) => {
          const column = (spec.table as unknown as Record<string, { name: string }>)[js];
          if (!column) throw new Error(`merge column ${js} not in ${name}`);
          return column.name;
        });
        const key = (spec.table as unknown as Record<string, { name: string }>)[spec.mergeKey ?? 'id']!.name;
        const list = cols.map(q).join(', ');
        const updates = cols.filter((c) => c !== key).map((c) => `${q(c)} = excluded.${q(c)}`).join(', ');
        await tx.execute(
          sql.raw(`insert into ${live} (${list}) select ${list} from ${shadow} on conflict (${q(key)}) do update set ${updates}`),
        );
        if (spec.mergeDeleteMissing) {
          const m = spec.mergeDeleteMissing;
          await tx.execute(
            sql.raw(
              `delete from ${live} l where l.${q(m.scopeColumn)} in (select ${q(m.scopeKey)} from ${q(SHADOW_SCHEMA)}.${q(m.scopeTable)})
               and not exists (select 1 from ${shadow} s where s.${q(key)} = l.${q(key)})`,
            ),
          );
        }
      } else {
        await tx.execute(sql.raw(`alter table ${live} set schema ${q(OLD_SCHEMA)}`));
        await tx.execute(sql.raw(`alter table ${shadow} set schema ${q(liveSchema)}`));
      }
    }
  }
  await tx.execute(sql.raw(`drop schema ${q(OLD_SCHEMA)} cascade`));
  await tx.execute(sql.raw(`drop schema ${q(SHADOW_SCHEMA)} cascade`));
}

async function headPosition(store: EventStore): Promise<Position | undefined> {
  const [last] = await store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1 });
  return last?.position;
}

/** Rebuilds `projections` from the whole log and switches them live. */
export async function rebuildProjections(options: RebuildOptions): Promise<RebuildResult> {
  const { store, database, projections } = options;
  const pageSize = options.pageSize ?? 5000;
  const concurrency = options.concurrency ?? 4;
  const names = projections.map((p) => p.name);
  if (names.length === 0) return { events: 0, seconds: 0, eventsPerSecond: 0, checkpoint: undefined };
  await ensureRegistry(database, projections);
  // The session lock is held on a client of its own, never a reserved connection of the pool: a
  // reserved connection whose session was cut (PostgreSQL restart) makes postgres.js 3.4.9 crash the
  // process on the next query sent on it (see connection-loss.ts). Ending this client ends the session,
  // which releases the lock; nothing is sent on it after the lock was taken.
  const lockClient = postgres({ ...database.sql.options, max: 1, idle_timeout: null, max_lifetime: null } as never);
  const endLock = () => lockClient.end({ timeout: 5 }).catch(() => {});
  let locked = false;
  try {
    [{ locked }] = (await lockClient`select pg_try_advisory_lock(${REBUILD_LOCK}) as locked`) as unknown as [{ locked: boolean }];
  } catch (error) {
    await endLock();
    throw error;
  }
  if (!locked) {
    await endLock();
    throw new RebuildInProgress('another rebuild is running');
  }
  const started = Date.now();
  let events = 0;
  let cursor: Position | undefined;
  // What the build keeps in memory (RebuildMemory), all of it let go of when it ends, however it ends.
  let budget: RetainBudget | undefined;
  const revisions = new Map<string, number>();
  let retainedPeak = 0;
  let knownKeys = 0;
  let streams = 0;
  const phases: RebuildPhases = { shadow: 0, copy: 0, revisions: 0, indexes: 0, switch: 0 };
  try {
    const [{ schema: liveSchema }] = (await database.sql`select current_schema() as schema`) as unknown as [{ schema: string }];
    const head = await headPosition(store);
    await database.sql`
      update projection_registry set rebuild_started_at = now(), rebuild_finished_at = null, rebuild_events = 0,
        rebuild_total = ${head ? Number(head.prepare) : 0}, rebuild_error = null, rebuild_requested_at = null,
        rebuild_events_per_second = null, updated_at = now()
      where name in ${database.sql(names)}`;
    let phaseStart = Date.now();
    const phase = (name: keyof RebuildPhases) => {
      const now = Date.now();
      phases[name] = (now - phaseStart) / 1000;
      phaseStart = now;
    };
    const deferredIndexes = await createShadow(database, liveSchema, projections);
    phase('shadow');

    let lastReport = 0;
    const report = async (phase: RebuildProgress['phase'], force = false) => {
      const now = Date.now();
      if (!force && now - lastReport < 500) return;
      lastReport = now;
      const seconds = Math.max(0.001, (now - started) / 1000);
      const eventsPerSecond = events / seconds;
      const fraction = phase === 'done' ? 1 : head && cursor && head.prepare > 0n ? Math.min(1, Number(cursor.prepare) / Number(head.prepare)) : head ? 0 : 1;
      const etaSeconds = fraction > 0 && fraction < 1 ? (seconds / fraction) * (1 - fraction) : phase === 'done' ? 0 : undefined;
      options.onProgress?.({ events, position: cursor, head, fraction, eventsPerSecond, etaSeconds, phase });
      await database.sql`
        update projection_registry set rebuild_events = ${events}, rebuild_events_per_second = ${eventsPerSecond},
          rebuild_total = ${head ? Number(head.prepare) : 0}, updated_at = now()
        where name in ${database.sql(names)}`.catch(() => {});
    };

    // The shadow revision tables are written by this rebuild only, page after page, every event applied
    // (a gap or failure stops the rebuild): their content is kept in memory too, so pages need not read
    // them. Every projection applies every event of the streams it follows, so its revision table is
    // the part it follows of one map of all streams (`revisions`). Projections go through the pages at
    // their own pace, so each page carries what that map held for its streams before it (`before`,
    // taken when the page is read, in log order): what each projection's table holds when it applies it
    // (the runner asks only for the streams of the page that the projection follows).
    const remember = (page: readonly RecordedEvent[]): Map<string, number> => {
      const before = new Map<string, number>();
      for (const e of page) {
        if (before.has(e.streamId)) continue;
        const revision = revisions.get(e.streamId);
        if (revision !== undefined) before.set(e.streamId, revision);
      }
      for (const e of page) if ((revisions.get(e.streamId) ?? -1) < e.revision) revisions.set(e.streamId, e.revision);
      return before;
    };

    /** Reads the next page after the cursor (readAll is inclusive of its start). */
    const readAfter = async (from: Position | undefined): Promise<RecordedEvent[]> => {
      const page = await store.readAll({ fromPosition: from ?? 'start', maxCount: pageSize + (from ? 1 : 0) });
      return from ? page.filter((e) => comparePositions(e.position, from) > 0).slice(0, pageSize) : page;
    };
    const nextPage = () => readAfter(cursor);

    /**
     * A page in `tx`; a handler error is reported with its event (found by applying again, isolated, in
     * a throwaway transaction, without the row store: the shadow tables hold every page before this one).
     */
    const applyTo = async (targets: readonly Projection[], page: RecordedEvent[], decoded: DecodedEvent[], before: Map<string, number>) => {
      let result: Awaited<ReturnType<typeof applyBatch>> | undefined;
      await safeTransaction(database.db, async (probe) => {
        await probe.execute(sql.raw(`set local search_path to ${q(SHADOW_SCHEMA)}, ${q(liveSchema)}`));
        result = await applyBatch(probe as unknown as ProjectionTx, targets, decoded, { isolate: true, knownRevisions: () => before });
        throw new Error('probe');
      }).catch(() => {});
      result?.outcomes.forEach((o, i) => {
        if (o.kind === 'failed' || o.kind === 'gap') throw new RebuildFailed(page[i]!, o.reason);
      });
      throw new Error('a projection failed on this page but not when isolated');
    };
    const applyPage = async (tx: ProjectionTx, page: RecordedEvent[]) => {
      const decoded = await decodeEvents(page, options.decryptor);
      await applyChecked(tx, projections, page, decoded, remember(page)); // the switch transaction: it commits or the rebuild fails
      events += page.length;
      cursor = page[page.length - 1]!.position;
    };
    const applyChecked = async (tx: ProjectionTx, targets: readonly Projection[], page: RecordedEvent[], decoded: DecodedEvent[], before: Map<string, number>, store?: RowStore) => {
      try {
        if (store) attachRowStore(tx, store);
        const { outcomes } = await applyBatch(tx, targets, decoded, { knownRevisions: () => before, writeRevisions: !store });
        outcomes.forEach((o, i) => {
          if (o.kind === 'failed' || o.kind === 'gap') throw new RebuildFailed(page[i]!, o.reason);
        });
      } catch (error) {
        if (error instanceof HandlerFailed) await applyTo(targets, page, decoded, before);
        throw error;
      }
      if (store) {
        try {
          await store.flush(tx);
        } catch (error) {
          // A row refused by the table (a constraint): the isolated apply names the event.
          await applyTo(targets, page, decoded, before);
          throw error;
        }
      }
    };
    // Per projection, what its shadow tables hold, across pages (row-store.ts). Within a shared budget
    // of retained rows, so that a rebuild of millions of events keeps a bounded memory.
    budget = new RetainBudget(options.retainedRows ?? DEFAULT_RETAINED_ROWS);
    const stores = new Map<Projection, RowStore>(projections.map((p) => [p, new RowStore(budget!)]));
    options.onMemory?.({ budget, stores, revisions });
    const pageSettings = `select set_config('search_path', ${sqlString(`${q(SHADOW_SCHEMA)}, ${q(liveSchema)}`)}, true), set_config('synchronous_commit', 'off', true)`;

    // Copy: each page in one transaction per projection, into the shadow tables. Projections are
    // independent (each writes and reads its own tables only), so each goes through the pages at its
    // own pace, in order, `concurrency` transactions at a time (the projection furthest behind first):
    // no lane waits for the slowest projection of each page. Pages are read and decoded ahead (at most
    // AHEAD pages beyond the slowest projection) and let go of once every projection has applied them.
    // A copy transaction does not wait for its commit to be flushed (synchronous_commit off): a crash
    // loses the shadow tables anyway, and the switch's commit (synchronous) is flushed after everything before it.
    interface CopyPage {
      events: RecordedEvent[];
      decoded: DecodedEvent[];
      before: Map<string, number>;
      /** Projections that have not applied it yet. */
      left: number;
    }
    const AHEAD = 1;
    const pages = new Map<number, Promise<CopyPage | undefined>>();
    let lastRead: Promise<{ position: Position | undefined; more: boolean }> = Promise.resolve({ position: cursor, more: true });
    let requested = -1;
    /** Page `k` (0-based), the pages before it read first (in log order); undefined past the end of the log. */
    const pageAt = (k: number): Promise<CopyPage | undefined> => {
      while (requested < k) {
        const n = ++requested;
        const read = lastRead.then(async ({ position, more }) => {
          if (!more) return undefined;
          const events = await readAfter(position);
          return events.length === 0 ? undefined : { events, before: remember(events) };
        });
        lastRead = read.then((r) => ({ position: r ? r.events[r.events.length - 1]!.position : undefined, more: !!r && r.events.length >= pageSize }));
        lastRead.catch(() => {});
        const page = read.then(async (r): Promise<CopyPage | undefined> => (r ? { ...r, decoded: await decodeEvents(r.events, options.decryptor), left: projections.length } : undefined));
        page.catch(() => {});
        pages.set(n, page);
      }
      return pages.get(k)!;
    };
    const applied = new Map<Projection, number>(projections.map((p) => [p, 0])); // pages applied
    let waiters: Array<() => void> = [];
    const progressed = () => {
      const wake = waiters;
      waiters = [];
      for (const w of wake) w();
    };
    const slowest = () => Math.min(...applied.values());
    let free = Math.max(1, concurrency);
    const waiting: Array<{ page: number; go: () => void }> = [];
    const acquire = (page: number) => {
      if (free > 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise<void>((go) => {
        waiting.push({ page, go });
        waiting.sort((a, b) => a.page - b.page);
      });
    };
    const release = () => {
      const next = waiting.shift();
      if (next) next.go();
      else free++;
    };
    let failure: { error: unknown } | undefined;
    const lane = async (projection: Projection) => {
      for (let k = 0; ; k++) {
        while (!failure && k > slowest() + AHEAD) await new Promise<void>((wake) => waiters.push(wake));
        if (failure) return;
        if (options.signal?.aborted) throw new Error('rebuild aborted');
        const page = await pageAt(k);
        if (!page || failure) return;
        void pageAt(k + 1); // read ahead while this one is applied
        await acquire(k);
        try {
          if (failure) return;
          await safeTransaction(database.db, async (tx) => {
            await tx.execute(sql.raw(pageSettings));
            await applyChecked(tx as unknown as ProjectionTx, [projection], page.events, page.decoded, page.before, stores.get(projection));
          });
        } finally {
          release();
        }
        applied.set(projection, k + 1);
        if (--page.left === 0) {
          // Every projection has it: its events count, and it is let go of.
          pages.delete(k);
          events += page.events.length;
          cursor = page.events[page.events.length - 1]!.position;
          await report('copying');
        }
        progressed();
      }
    };
    await Promise.allSettled(
      projections.map((projection) =>
        lane(projection).catch((error: unknown) => {
          failure ??= { error };
          progressed();
        }),
      ),
    );
    pages.clear();
    if (failure) throw failure.error;
    retainedPeak = budget.peak;
    knownKeys = budget.knownKeys;
    budget.release();
    stores.clear();

    phase('copy');

    // The revision tables, kept in memory during the copy: one COPY each (the switch's pages upsert),
    // each in a transaction of its own, `concurrency` at a time. A COPY on the pool itself could have
    // another query pipelined behind it (the live worker shares the pool), which makes the server end
    // the session: the 1M-event build failed so, with 'write EPIPE'.
    const revisionQueue = [...projections];
    await Promise.all(
      Array.from({ length: Math.min(concurrency, revisionQueue.length) }, async () => {
        for (let projection = revisionQueue.shift(); projection; projection = revisionQueue.shift()) {
          const rows: Array<{ streamId: string; revision: number }> = [];
          for (const [streamId, revision] of revisions) if (followsStream(projection, streamId)) rows.push({ streamId, revision });
          const columns = Object.entries(getTableColumns(projection.revisions) as Record<string, PgColumn>);
          const table = `${q(SHADOW_SCHEMA)}.${q(tableName(projection.revisions))}`;
          await safeBegin(database.sql, (tx) => copyRows(tx, table, columns, rows));
        }
      }),
    );

    phase('revisions');

    // Secondary indexes, built once (outside the switch, which should hold the apply lock briefly),
    // two at a time (the trigram index alone takes as long as all the others).
    const indexQueue = [...deferredIndexes].sort((a, b) => Number(/ using gin /i.test(b)) - Number(/ using gin /i.test(a)));
    await Promise.all(
      [0, 1].map(async () => {
        for (let ddl = indexQueue.shift(); ddl; ddl = indexQueue.shift()) await database.sql.unsafe(ddl);
      }),
    );

    // Switch: under the apply lock, catch up with what was appended meanwhile, then swap.
    phase('indexes');
    await report('switching', true);
    await safeTransaction(database.db, async (tx) => {
      const t = tx as unknown as ProjectionTx;
      await tx.execute(sql`select pg_advisory_xact_lock(${APPLY_LOCK})`);
      await tx.execute(sql.raw(`set local search_path to ${q(SHADOW_SCHEMA)}, ${q(liveSchema)}`));
      for (let rest = await nextPage(); rest.length > 0; rest = await nextPage()) await applyPage(t, rest);
      await tx.execute(sql.raw(`set local search_path to ${q(liveSchema)}`));
      await switchTables(t, liveSchema, projections);
      const cp = cursor ?? { commit: 0n, prepare: 0n };
      for (const projection of projections) {
        await tx.execute(sql`
          update projection_registry set version = ${projection.version}, status = 'live',
            checkpoint_commit = ${cp.commit.toString()}::bigint, checkpoint_prepare = ${cp.prepare.toString()}::bigint,
            checkpoint_at = now(), events_applied = ${events}, rebuild_finished_at = now(), rebuild_events = ${events},
            rebuild_events_per_second = ${events / Math.max(0.001, (Date.now() - started) / 1000)}, rebuild_error = null, updated_at = now()
          where name = ${projection.name}`);
      }
      await tx.execute(sql`select pg_notify(${CHECKPOINT_CHANNEL}, ${`${cp.commit}:${cp.prepare}`})`);
    });
    phase('switch');
    await report('done', true);
    const seconds = (Date.now() - started) / 1000;
    streams = revisions.size;
    return { events, seconds, eventsPerSecond: events / Math.max(0.001, seconds), checkpoint: cursor, memory: { retainedRowsPeak: retainedPeak, knownKeys, streams }, phases };
  } catch (error) {
    await database.sql`
      update projection_registry set rebuild_error = ${String(error instanceof Error ? error.message : error).slice(0, 2000)},
        rebuild_finished_at = now(), updated_at = now()
      where name in ${database.sql(names)}`.catch(() => {});
    await database.sql.unsafe(`drop schema if exists ${q(SHADOW_SCHEMA)} cascade`).catch(() => {});
    throw error;
  } finally {
    budget?.release();
    revisions.clear();
    await endLock();
  }
}
