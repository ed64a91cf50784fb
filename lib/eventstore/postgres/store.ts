/**
 * PostgreSQL backend of the event store port (the default). Schema: drizzle/0001_eventstore.sql.
 *
 * Append (group commit): the appends a process has waiting go together, in one transaction and one
 * statement (es_append_batch, drizzle/0017 and 0023), each with its own outcome; with nothing else running an
 * append goes at once. Every transaction takes its streams' advisory locks in a fixed order before its
 * first write. A stream whose head this process knows is chained and written in one round trip; any
 * other is locked, read and written in one transaction (it waits for the stream, it never spins), so an
 * `any` append cannot fail from contention. See docs/eventstore.md.
 *
 * Reading $all in order without skipping: positions come from a sequence taken at insert time, but
 * transactions commit in any order, so "position > checkpoint" would skip an event whose transaction
 * took a lower position and committed after a reader passed it. Instead each event records its
 * transaction id (xid8) and readers only read events of transactions older than the oldest one still
 * running (xid < es_horizon(): pg_snapshot_xmin of the snapshot, leaving out transactions of other
 * databases, drizzle/0023), in (xid, position) order, checkpointing the pair: every transaction below
 * that horizon that could write events here has finished, so nothing can appear there later.
 * Per-stream order: a transaction takes all its stream locks before its first write (where its xid is
 * assigned), so an append of revision r+1 only writes after the append of r committed and released the
 * lock, and its xid is higher; xid order therefore agrees with revision order within a stream.
 */
import postgres from 'postgres';
import { DuplicateEventId, EventStoreClosed, EventStoreUnavailable, InvalidEvent, StreamNotFound, WrongExpectedVersion } from '../errors';
import { chainEncodedEvents, comparePositions, encodeEventsForAppend, satisfies, validateExpectedRevision, validateStreamId, type EncodedEvent } from '../envelope';
import { hmacKeyObject, StreamChainVerifier, type VerifiableEvent } from '../hash-chain';
import type { KeyObject } from 'node:crypto';
import type {
  AppendOptions,
  AppendResult,
  BrokenLink,
  CatchUpSubscription,
  CurrentRevision,
  EventHandler,
  EventStore,
  ExpectedRevision,
  JsonObject,
  NewEvent,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
  VerifyOptions,
  VerifyResult,
} from '../types';
import { PgGroups } from './groups';
import { Notifier } from './notifier';
import { EVENT_COLUMNS, filterSql, pgPosition, toRecordedEvent, type EventRow } from './rows';
import { PgCatchUpSubscription } from './subscription';

export interface PostgresEventStoreOptions {
  databaseUrl: string;
  hmacKey: string | Buffer;
  /** Keys used before a rotation: verification still accepts events chained with them (by key id). */
  previousHmacKeys?: readonly (string | Buffer)[];
  /** Connection pool size (default 10). */
  maxConnections?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** Stream heads remembered from this process's own appends, to skip the head read (default 10 000). */
  headCacheSize?: number;
  /** Append batches (transactions) of this process running at once (default 2); see append. */
  maxBatchesInFlight?: number;
  /** Keep the batches in flight of similar size (default true; false only to measure the difference, bench/eventstore.ts). */
  balancedBatches?: boolean;
  onError?: (error: unknown) => void;
}

interface Head {
  revision: number;
  hash: string;
}

/** One call of append, waiting for or in a batch. */
interface Pending {
  streamId: string;
  expected: ExpectedRevision;
  events: EncodedEvent[];
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
  /** Lock the stream before reading its head (its head moved under an earlier try). */
  lock: boolean;
  attempts: number;
}

/** A batch chained to the heads: es_append_batch's arguments and what each append became. */
interface Plan {
  streamsJson: string;
  eventsJson: string;
  /** The appends written, with the revision of their last event. */
  written: Map<Pending, number>;
  /** Appends not written because their expectation was not met, with the revision they met instead. */
  refused: Map<Pending, CurrentRevision>;
  /** Each written stream's head after the batch. */
  lastHeads: Map<string, Head>;
}

/** es_append_batch's rows: one per stream (see drizzle/0023). */
interface BatchRow {
  kind: 'ok' | 'moved' | 'duplicate';
  stream_id: string;
  last_xid: string | null;
  /** ok: the first revision written; moved: the current head (null: no stream). */
  revision: string | null;
  last_hash: string | null;
  /** ok: the positions of the stream's events written, in revision order. */
  positions: string[] | null;
}

/** One batch's limits: appends, and events (one big append still goes, alone). */
const MAX_BATCH_APPENDS = 256;
const MAX_BATCH_EVENTS = 2000;
/** A locked append whose head still moved: only a writer bypassing the stream lock can cause it. */
const MAX_LOCKED_ATTEMPTS = 5;

export class PostgresEventStore implements EventStore {
  readonly backend = 'postgres' as const;
  readonly sql: postgres.Sql;
  readonly notifier: Notifier;
  readonly groups: PgGroups;
  private readonly key: string | Buffer;
  /** The writing key first, then the keys before rotations (docs/security.md). */
  private readonly verifyKeys: readonly (string | Buffer)[];
  /** The same key, prepared once for the append path's HMACs. */
  private readonly keyObject: KeyObject;
  private readonly heads = new Map<string, Head>();
  private readonly headCacheSize: number;
  private readonly subscriptions = new Set<PgCatchUpSubscription>();
  /** Appends waiting for a batch, in arrival order. */
  // Batching state is mutated in place, never reassigned: an object made with Object.create(store)
  // (tests wrap the store so) must share it, not shadow it with properties of its own.
  private readonly queue: Pending[] = [];
  /** Streams written by a running batch. */
  private readonly busy = new Set<string>();
  private readonly running = { batches: 0, appends: 0 };
  /**
   * Written batches (transactions) and the appends they held, since the store opened (for the benchmark):
   * `sizes[n]` counts the batches that wrote n appends.
   */
  readonly batchStats = { batches: 0, appends: 0, sizes: [] as number[] };
  private readonly maxBatchesInFlight: number;
  private readonly balancedBatches: boolean;
  private readonly drainWaiters: Array<() => void> = [];
  private closed = false;
  readonly onError: (error: unknown) => void;

  constructor(options: PostgresEventStoreOptions) {
    if (!options.hmacKey || options.hmacKey.length < 16) throw new InvalidEvent('The event HMAC key must be at least 16 bytes');
    this.key = options.hmacKey;
    this.verifyKeys = [options.hmacKey, ...(options.previousHmacKeys ?? [])];
    this.keyObject = hmacKeyObject(options.hmacKey);
    this.headCacheSize = options.headCacheSize ?? 10_000;
    this.maxBatchesInFlight = options.maxBatchesInFlight ?? 2;
    this.balancedBatches = options.balancedBatches ?? true;
    this.onError = options.onError ?? (() => {});
    this.sql = postgres(options.databaseUrl, {
      max: options.maxConnections ?? 10,
      onnotice: () => {},
      connection: { application_name: options.applicationName ?? 'yeyak-eventstore' },
    });
    this.notifier = new Notifier(this.sql, this.onError);
    this.groups = new PgGroups(this);
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreClosed();
  }

  // --- append (group commit) -------------------------------------------------------------------

  async append(streamId: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    const expected = options.expectedRevision ?? 'any';
    validateExpectedRevision(expected);
    const encoded = encodeEventsForAppend(streamId, events);
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamId, expected, events: encoded, resolve, reject, lock: false, attempts: 0 });
      this.pump();
    });
  }

  /**
   * Starts a batch of the waiting appends while fewer than maxBatchesInFlight run. An append with
   * nothing running ahead of it goes at once (an idle writer waits for nobody); appends arriving while
   * batches run wait for one to finish and then go together.
   */
  private pump(): void {
    while (this.running.batches < this.maxBatchesInFlight && this.queue.length > 0) {
      const limit = this.balancedBatchLimit();
      if (limit === 0) break;
      const batch = this.takeBatch(limit);
      if (batch.length === 0) break;
      const streams = new Set(batch.map((m) => m.streamId));
      for (const streamId of streams) this.busy.add(streamId);
      this.running.batches++;
      this.running.appends += batch.length;
      void this.writeBatch(batch)
        // writeBatch settles every append itself; this only catches a bug in it.
        .catch((error) => batch.forEach((m) => m.reject(error)))
        .finally(() => {
          this.running.batches--;
          this.running.appends -= batch.length;
          for (const streamId of streams) this.busy.delete(streamId);
          this.pump();
        });
    }
    if (this.running.batches === 0 && this.queue.length === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /**
   * How many waiting appends the next batch may take (0: none yet), so that the batches in flight stay
   * of similar size. A batch that finishes hands its writers back together, and their next appends
   * arrive together; left to themselves, 16 writers with 2 batches in flight settled into batches of
   * 15 and 1 (bench/eventstore.ts: appends per transaction 6.3–6.9, but 15 for the median append), so
   * half the transactions — each a round trip, a function call, a commit — carried one append. So:
   * - a batch takes at most an even share of the appends waiting and in flight (a lone append with
   *   nothing running still goes at once, alone);
   * - with a batch running, another starts once at least half as many appends wait as the running
   *   batches hold on average; fewer wait for the next one to finish (at most one batch's time) and go
   *   with the appends that arrive then.
   */
  private balancedBatchLimit(): number {
    const waiting = this.queue.length;
    if (this.maxBatchesInFlight <= 1 || !this.balancedBatches) return waiting;
    // An even share of everything in flight or waiting.
    const share = Math.ceil((waiting + this.running.appends) / this.maxBatchesInFlight);
    if (this.running.batches === 0) return Math.min(waiting, share);
    const average = this.running.appends / this.running.batches;
    return 2 * waiting >= average ? Math.min(waiting, share) : 0;
  }

  /**
   * The waiting appends that go together, in arrival order: none of a stream that a running batch
   * writes (it chains to that batch's outcome), none that repeats an event id of an earlier one (it
   * settles after it, as a repeat), within the size limits; the next ones of a stream held back stay too.
   */
  private takeBatch(maxAppends: number): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const held = new Set<string>();
    const ids = new Set<string>();
    let events = 0;
    const appendsLimit = Math.min(MAX_BATCH_APPENDS, Math.max(1, maxAppends));
    for (const m of this.queue) {
      const fits = batch.length === 0 || (batch.length < appendsLimit && events + m.events.length <= MAX_BATCH_EVENTS);
      if (!fits || this.busy.has(m.streamId) || held.has(m.streamId) || m.events.some((e) => ids.has(e.eventId))) {
        held.add(m.streamId);
        rest.push(m);
        continue;
      }
      batch.push(m);
      events += m.events.length;
      for (const e of m.events) ids.add(e.eventId);
    }
    this.queue.length = 0;
    for (const m of rest) this.queue.push(m);
    return batch;
  }

  /**
   * A stream whose head this process knows (its own last append, or no_stream for one it has not
   * seen) is chained and written in one statement, no lock held across a round trip; if the head
   * moved, it is locked next time. Any other stream is locked first, its head read, then written in
   * the same transaction: it waits for the stream instead of spinning. Both kinds go at the same time.
   */
  private async writeBatch(batch: Pending[]): Promise<void> {
    const lockStream = new Map<string, boolean>();
    for (const m of batch) {
      const known = lockStream.get(m.streamId);
      if (known === undefined) {
        const remembered = this.heads.get(m.streamId);
        lockStream.set(m.streamId, m.lock || !(remembered ? satisfies(m.expected, remembered.revision) : m.expected === 'no_stream'));
      } else if (m.lock) lockStream.set(m.streamId, true);
    }
    const optimistic = batch.filter((m) => !lockStream.get(m.streamId));
    const locked = batch.filter((m) => lockStream.get(m.streamId));
    await Promise.all([optimistic.length > 0 && this.writeOptimistic(optimistic), locked.length > 0 && this.writeLocked(locked, false)]);
  }

  private async writeOptimistic(members: Pending[]): Promise<void> {
    const plan = this.plan(members, (streamId) => this.heads.get(streamId) ?? null);
    let rows: BatchRow[];
    try {
      rows = await this.sql<BatchRow[]>`
        select kind, stream_id, last_xid::text, revision::text, last_hash, positions
        from es_append_batch(${plan.streamsJson}::text::jsonb, ${plan.eventsJson}::text::jsonb)`;
    } catch (error) {
      await this.afterFailedBatch(members, error);
      return;
    }
    await this.settle(members, plan, rows, false);
  }

  /** Locks the streams, reads their heads, chains to them and writes, in one transaction (two round trips). */
  private async writeLocked(members: Pending[], alone: boolean): Promise<void> {
    const streams = [...new Set(members.map((m) => m.streamId))];
    let plan: Plan;
    let rows: BatchRow[] = [];
    let connection: postgres.ReservedSql;
    try {
      connection = await this.sql.reserve();
    } catch (error) {
      await this.afterFailedBatch(members, error, alone);
      return;
    }
    try {
      // Sent together (pipelined); the heads are read after the lock is held.
      const [, heads] = await Promise.all([
        connection`begin`,
        connection<{ stream_id: string; revision: string; last_hash: string }[]>`
          select stream_id, revision::text, last_hash from es_lock_heads(${streams}::text[])`,
      ]);
      const headOf = new Map(heads.map((h) => [h.stream_id, { revision: Number(h.revision), hash: h.last_hash }]));
      plan = this.plan(members, (streamId) => headOf.get(streamId) ?? null);
      if (plan.written.size === 0) await connection`commit`;
      else {
        [rows] = await Promise.all([
          connection<BatchRow[]>`
            select kind, stream_id, last_xid::text, revision::text, last_hash, positions
            from es_append_batch(${plan.streamsJson}::text::jsonb, ${plan.eventsJson}::text::jsonb)`,
          connection`commit`,
        ]);
      }
    } catch (error) {
      await connection`rollback`.catch(() => {});
      connection.release();
      await this.afterFailedBatch(members, error, alone);
      return;
    }
    connection.release();
    await this.settle(members, plan, rows, alone);
  }

  /**
   * Chains the appends, stream by stream in arrival order, to the given heads: an append whose
   * expectation the head (after the appends before it) does not meet is not written but refused
   * after the batch (or found to be a repeat).
   */
  private plan(members: Pending[], headOf: (streamId: string) => Head | null): Plan {
    const heads = new Map<string, Head | null>();
    const chainedFrom = new Map<string, number>();
    const written: Plan['written'] = new Map();
    const refused = new Map<Pending, CurrentRevision>();
    const parts: string[] = [];
    for (const m of members) {
      const head = heads.has(m.streamId) ? heads.get(m.streamId)! : headOf(m.streamId);
      heads.set(m.streamId, head);
      const actual: CurrentRevision = head ? head.revision : 'no_stream';
      if (!satisfies(m.expected, actual)) {
        refused.set(m, actual);
        continue;
      }
      if (!chainedFrom.has(m.streamId)) chainedFrom.set(m.streamId, head ? head.revision : -1);
      const from = head ? head.revision + 1 : 0;
      const last = m.events.length - 1;
      const stream = JSON.stringify(m.streamId);
      const chained = chainEncodedEvents(this.keyObject, m.streamId, m.events, from, head?.hash ?? null, (i) => `"s":${stream},"rev":${from + i},`);
      parts.push(chained.json.slice(1, -1));
      written.set(m, from + last);
      heads.set(m.streamId, { revision: from + last, hash: chained.lastHash });
    }
    const lastHeads = new Map<string, Head>();
    const streams: string[] = [];
    for (const [streamId, h] of chainedFrom) {
      const head = heads.get(streamId)!;
      lastHeads.set(streamId, head);
      streams.push(`{"s":${JSON.stringify(streamId)},"h":${h},"r":${head.revision},"l":${JSON.stringify(head.hash)}}`);
    }
    return { streamsJson: `[${streams.join(',')}]`, eventsJson: `[${parts.join(',')}]`, written, refused, lastHeads };
  }

  /** Each append gets its outcome: written, refused (or a repeat), again later (head moved), or alone (duplicate id). */
  private async settle(members: Pending[], plan: Plan, rows: BatchRow[], alone: boolean): Promise<void> {
    const moved = new Map<string, Head | null>();
    const duplicate = new Set<string>();
    const ok = new Map<string, BatchRow>();
    for (const row of rows) {
      if (row.kind === 'ok') ok.set(row.stream_id, row);
      else if (row.kind === 'moved') {
        moved.set(row.stream_id, row.revision === null ? null : { revision: Number(row.revision), hash: row.last_hash! });
      } else duplicate.add(row.stream_id);
    }
    let wrote = 0;
    for (const [m, lastRevision] of plan.written) {
      const row = ok.get(m.streamId);
      if (!row) continue;
      wrote++;
      // row.positions: the stream's events in this batch from row.revision on; this append's end at lastRevision.
      const commit = BigInt(row.last_xid!);
      const to = lastRevision - Number(row.revision);
      const positions = row.positions!.slice(to - m.events.length + 1, to + 1).map((p) => ({ commit, prepare: BigInt(p) }));
      m.resolve({ nextExpectedRevision: lastRevision, position: positions[positions.length - 1]!, positions });
    }
    if (wrote > 0) {
      this.notifier.appended();
      this.batchStats.batches++;
      this.batchStats.appends += wrote;
      this.batchStats.sizes[wrote] = (this.batchStats.sizes[wrote] ?? 0) + 1;
    }
    for (const [streamId, head] of plan.lastHeads) if (!moved.has(streamId) && !duplicate.has(streamId)) this.rememberHead(streamId, head);
    for (const [streamId, head] of moved) {
      if (head) this.rememberHead(streamId, head);
      else this.heads.delete(streamId);
    }
    const again: Pending[] = [];
    const settling: Promise<void>[] = [];
    for (const m of members) {
      if (moved.has(m.streamId)) {
        // Another process wrote the stream after this one learnt its head: next time lock it first.
        if (++m.attempts > MAX_LOCKED_ATTEMPTS) {
          m.reject(new EventStoreUnavailable(`Append to ${m.streamId}: the stream's head kept moving although its lock was held (${m.attempts} attempts); something writes it without the stream lock`));
        } else {
          m.lock = true;
          again.push(m);
        }
      } else if (duplicate.has(m.streamId)) {
        if (alone) settling.push(this.settleDuplicate(m));
      } else {
        const actual = plan.refused.get(m);
        if (actual !== undefined) settling.push(this.refuse(m, actual));
      }
    }
    this.queue.unshift(...again);
    // The appends of a stream with a stored event id, each alone and in order: a repeat gets its
    // original result, a clash DuplicateEventId, and the others are written.
    if (!alone) for (const m of members) if (duplicate.has(m.streamId)) await this.writeLocked([m], true);
    await Promise.all(settling);
  }

  /** The expectation was not met: the append's original result if it is a repeat, else WrongExpectedVersion. */
  private async refuse(m: Pending, actual: CurrentRevision): Promise<void> {
    try {
      const original = await this.findOriginal(m.streamId, m.events, m.expected);
      if (original) m.resolve(original);
      else m.reject(new WrongExpectedVersion(m.streamId, m.expected, actual));
    } catch (error) {
      m.reject(mapError(error));
    }
  }

  /** An event id of this append (alone in its batch) is stored already: a repeat, or DuplicateEventId. */
  private async settleDuplicate(m: Pending): Promise<void> {
    try {
      const original = await this.findOriginal(m.streamId, m.events, m.expected);
      if (original) return m.resolve(original);
      const existing = await this.sql<{ event_id: string }[]>`
        select event_id::text from es_events where event_id = any(${m.events.map((e) => e.eventId)}::uuid[]) limit 1`;
      m.reject(new DuplicateEventId(m.streamId, existing[0]?.event_id ?? m.events[0]!.eventId));
    } catch (error) {
      m.reject(mapError(error));
    }
  }

  /**
   * The batch's statement failed, so nothing of it was written (or, if the connection broke at the
   * commit, perhaps all of it). One append's bad input or racing duplicate must not fail the others:
   * each is written again alone (a repeat of a committed one finds its original).
   */
  private async afterFailedBatch(members: Pending[], error: unknown, alone = false): Promise<void> {
    if (alone || members.length === 1) {
      const m = members[0]!;
      if (isUniqueViolation(error, 'es_events_event_id_key')) await this.settleDuplicate(m);
      else for (const each of members) each.reject(mapError(error));
      return;
    }
    for (const m of members) await this.writeLocked([m], true);
  }

  private rememberHead(streamId: string, head: Head): void {
    this.heads.delete(streamId);
    this.heads.set(streamId, head);
    if (this.heads.size > this.headCacheSize) {
      const oldest = this.heads.keys().next().value;
      if (oldest !== undefined) this.heads.delete(oldest);
    }
  }

  private async readHead(streamId: string): Promise<Head | null> {
    const [row] = await this.sql<{ revision: string; last_hash: string }[]>`
      select revision::text, last_hash from es_streams where stream_id = ${streamId}`;
    return row ? { revision: Number(row.revision), hash: row.last_hash } : null;
  }

  /**
   * Is this append a repeat of one already stored (same event ids, in order, in this stream, at the
   * revision the expectation allows)? Then its original result.
   */
  private async findOriginal(streamId: string, events: ReadonlyArray<{ eventId: string }>, expected: ExpectedRevision): Promise<AppendResult | null> {
    const ids = events.map((e) => e.eventId);
    const rows = await this.sql<{ event_id: string; stream_id: string; revision: string; position: string; xid: string }[]>`
      select event_id::text, stream_id, revision::text, position::text, xid::text
      from es_events where event_id = any(${ids}::uuid[]) order by revision`;
    if (rows.length !== ids.length) return null;
    const first = Number(rows[0]!.revision);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r.stream_id !== streamId || r.event_id !== ids[i] || Number(r.revision) !== first + i) return null;
    }
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && first === 0) ||
      (expected === 'stream_exists' && first > 0) ||
      (typeof expected === 'number' && first === expected + 1);
    if (!ok) return null;
    const positions = rows.map((r) => ({ commit: BigInt(r.xid), prepare: BigInt(r.position) }));
    return { nextExpectedRevision: Number(rows[rows.length - 1]!.revision), position: positions[positions.length - 1]!, positions };
  }

  // --- reads ----------------------------------------------------------------------------------

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    validateStreamId(streamId);
    const direction = options.direction ?? 'forwards';
    const limit = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (limit <= 0) return [];
    const from = options.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
    let rows: EventRow[];
    if (direction === 'forwards') {
      const fromRev = from === 'start' ? 0 : from === 'end' ? Number.MAX_SAFE_INTEGER : from;
      rows = await this.sql<EventRow[]>`
        select ${this.sql.unsafe(EVENT_COLUMNS)} from es_events e
        where e.stream_id = ${streamId} and e.revision >= ${fromRev}
        order by e.revision limit ${limit}`;
    } else {
      const fromRev = from === 'end' ? Number.MAX_SAFE_INTEGER : from === 'start' ? 0 : from;
      rows = await this.sql<EventRow[]>`
        select ${this.sql.unsafe(EVENT_COLUMNS)} from es_events e
        where e.stream_id = ${streamId} and e.revision <= ${fromRev}
        order by e.revision desc limit ${limit}`;
    }
    if (rows.length === 0 && !(await this.readHead(streamId))) throw new StreamNotFound(streamId);
    return rows.map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const direction = options.direction ?? 'forwards';
    const limit = options.maxCount ?? 1000;
    if (limit <= 0) return [];
    const from = options.fromPosition ?? (direction === 'forwards' ? 'start' : 'end');
    const filter = filterSql(this.sql, options.filter);
    // Only below the horizon (see the file comment), so a position read here can be resumed from.
    if (direction === 'forwards') {
      if (from === 'end') return [];
      const p = pgPosition(from === 'start' ? { commit: 0n, prepare: 0n } : from);
      const rows = await this.sql<EventRow[]>`
        select ${this.sql.unsafe(EVENT_COLUMNS)} from es_events e
        where (e.xid, e.position) >= (${p.xid}::xid8, ${p.position}::bigint)
          and e.xid < (select es_horizon()) ${filter}
        order by e.xid, e.position limit ${limit}`;
      return rows.map(toRecordedEvent);
    }
    if (from === 'start') return [];
    const bound =
      from === 'end'
        ? this.sql``
        : this.sql`and (e.xid, e.position) <= (${pgPosition(from).xid}::xid8, ${pgPosition(from).position}::bigint)`;
    const rows = await this.sql<EventRow[]>`
      select ${this.sql.unsafe(EVENT_COLUMNS)} from es_events e
      where e.xid < (select es_horizon()) ${bound} ${filter}
      order by e.xid desc, e.position desc limit ${limit}`;
    return rows.map(toRecordedEvent);
  }

  /**
   * One page after `after` (exclusive) in (xid, position) order, cut at the horizon. `heldBack` says
   * that committed events exist beyond the horizon (an older transaction is still running), so the
   * caller should look again soon even without a notification.
   */
  async readPageAfter(
    after: Position,
    filter: ReadAllOptions['filter'],
    limit: number,
  ): Promise<{ events: RecordedEvent[]; heldBack: boolean }> {
    const p = pgPosition(after);
    const rows = await this.sql<(EventRow & { horizon: string })[]>`
      with h as (select es_horizon() as horizon)
      select ${this.sql.unsafe(EVENT_COLUMNS)}, h.horizon::text as horizon from h, es_events e
      where (e.xid, e.position) > (${p.xid}::xid8, ${p.position}::bigint) ${filterSql(this.sql, filter)}
      order by e.xid, e.position limit ${limit}`;
    const events: RecordedEvent[] = [];
    for (const row of rows) {
      if (BigInt(row.xid) >= BigInt(row.horizon)) return { events, heldBack: true };
      events.push(toRecordedEvent(row));
    }
    return { events, heldBack: false };
  }

  /** The position 'end' stands for: everything of transactions older than the horizon is before it. */
  async endPosition(): Promise<Position> {
    const [row] = await this.sql<{ horizon: string }[]>`select es_horizon()::text as horizon`;
    // (horizon, 0) is before every event of the horizon's transaction and after every older one.
    return { commit: BigInt(row!.horizon), prepare: 0n };
  }

  // --- subscriptions --------------------------------------------------------------------------

  subscribeToAll(handler: EventHandler, options: SubscribeToAllOptions = {}): CatchUpSubscription {
    this.assertOpen();
    const sub = new PgCatchUpSubscription(this, handler, options);
    this.subscriptions.add(sub);
    void sub.done.catch(() => {}).finally(() => this.subscriptions.delete(sub));
    return sub;
  }

  // --- verification ---------------------------------------------------------------------------

  /** Rows per page of verify()'s walk (docs/PERFORMANCE.md, integrity; tests set it small to cross page boundaries). */
  verifyPageSize = VERIFY_PAGE_SIZE;

  /**
   * Heads and events are read in one snapshot (REPEATABLE READ, read only: no transaction id, so no
   * reader's horizon is held), so an append committing meanwhile is neither half seen nor a false
   * head mismatch. Events are walked in position order, the order they lie in the table (a
   * near-sequential read; stream order was a random one over the heap); within a stream, position
   * order is revision order (see the file comment), so one verifier per stream, kept in a map, checks
   * each chain as its events come. The whole log is walked in two position ranges at once, each on its
   * own connection sharing the snapshot (pg_export_snapshot), so the database produces rows on two
   * backends while this process hashes; a stream running across the boundary is stitched afterwards
   * (its first event in the later range must follow its last in the earlier one). Each range asks for
   * its next page before checking the current one. The first broken link is the lowest position's;
   * then the heads: a stream whose last event is not its head's, a head without events, a stream
   * asked for that has neither. docs/PERFORMANCE.md (verify_events_per_s).
   */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    this.assertOpen();
    const ids = options.streamId ? [options.streamId] : options.streamIds ? [...new Set(options.streamIds)] : null;
    type HeadRow = { stream_id: string; revision: string; last_hash: string };
    const reserved = await this.sql.reserve();
    try {
      await reserved`begin isolation level repeatable read read only`;
      const [{ snapshot }] = (await reserved<{ snapshot: string }[]>`select pg_export_snapshot() as snapshot`) as unknown as [{ snapshot: string }];
      if (!/^[0-9A-F-]+$/i.test(snapshot)) throw new Error(`unexpected snapshot id ${snapshot}`);
      const headRows = ids
        ? await reserved<HeadRow[]>`select stream_id, revision::text, last_hash from es_streams where stream_id = any(${ids}::text[])`
        : await reserved<HeadRow[]>`select stream_id, revision::text, last_hash from es_streams`;
      if (options.streamId && headRows.length === 0) throw new StreamNotFound(options.streamId);
      const [span] = await reserved<{ lo: string | null; hi: string | null }[]>`select min(position)::text as lo, max(position)::text as hi from es_events`;
      const ranges = !ids && span?.lo && span.hi ? splitRange(BigInt(span.lo), BigInt(span.hi), 2) : [null];

      const counts = ranges.map(() => 0);
      const streamsSeen = () => parts.reduce((n, p) => n + p.verifiers.size, 0);
      const report = () => options.onProgress?.({ eventsChecked: counts.reduce((a, b) => a + b, 0), streamsChecked: streamsSeen() });
      type First = { revision: number; previousHash: string | null; eventId: string; position: Position };
      const parts = ranges.map(() => ({ verifiers: new Map<string, StreamChainVerifier>(), firsts: new Map<string, First>(), broken: null as BrokenLink | null }));
      let lowestBroken = Number.POSITIVE_INFINITY;
      await Promise.all(
        ranges.map((range, i) =>
          this.sql.begin('isolation level repeatable read read only', async (tx) => {
            await tx.unsafe(`set transaction snapshot '${snapshot}'`);
            const part = parts[i]!;
            const where = ids
              ? tx`e.stream_id = any(${ids}::text[])`
              : range
                ? tx`e.position between ${range.from.toString()}::bigint and ${range.to.toString()}::bigint`
                : tx`true`;
            // Only what the check reads (no xid, no recorded_at: the broken link's xid is looked up at the end).
            const pages = tx<VerifyRow[]>`select ${tx.unsafe(VERIFY_COLUMNS)} from es_events e where ${where} order by e.position`.cursor(this.verifyPageSize)[Symbol.asyncIterator]();
            let next = pages.next();
            for (;;) {
              const page = await next;
              if (page.done) break;
              options.signal?.throwIfAborted();
              if (i > lowestBroken) {
                await pages.return?.(undefined);
                return;
              }
              next = pages.next();
              for (const row of page.value) {
                const event: VerifiableEvent = {
                  streamId: row.stream_id,
                  revision: Number(row.revision),
                  eventId: row.event_id,
                  type: row.type,
                  schemaVersion: row.schema_version,
                  data: row.data,
                  metadata: row.metadata,
                  position: { commit: UNKNOWN_XID, prepare: BigInt(row.position) },
                };
                let verifier = part.verifiers.get(event.streamId);
                if (!verifier) {
                  // The first event of a stream in this range: from revision 0, or carried on from the
                  // chain's claim, which the stitching below checks against the earlier range.
                  const claimed = (event.metadata.integrity as Partial<{ previousHash: string | null }> | undefined)?.previousHash;
                  const from = event.revision === 0 ? { revision: 0, previousHash: null } : { revision: event.revision, previousHash: typeof claimed === 'string' ? claimed : null };
                  part.firsts.set(event.streamId, { ...from, eventId: event.eventId, position: event.position! });
                  part.verifiers.set(event.streamId, (verifier = new StreamChainVerifier(this.verifyKeys, event.streamId, from)));
                }
                counts[i]!++;
                part.broken = verifier.check(event);
                if (part.broken) break;
              }
              report();
              if (part.broken) {
                lowestBroken = Math.min(lowestBroken, i);
                // The next page was asked for: let it arrive before closing the cursor (closing with a
                // fetch in flight never settled: verify() hung on a broken link before a log's last page).
                await next;
                await pages.return?.(undefined);
                return;
              }
            }
          }),
        ),
      );
      await reserved`commit`;

      // Stitch the ranges in order, keeping the earliest broken link (by position).
      const earliest: { link: BrokenLink | null } = { link: null };
      const keep = (link: BrokenLink) => {
        if (!earliest.link || link.position!.prepare < earliest.link.position!.prepare) earliest.link = link;
      };
      const state = new Map<string, { revision: number; hash: string | null }>();
      for (let i = 0; i < parts.length && i <= lowestBroken; i++) {
        const part = parts[i]!;
        if (part.broken) keep(part.broken);
        for (const [streamId, first] of part.firsts) {
          const before = state.get(streamId);
          const revision = before ? before.revision + 1 : 0;
          const previousHash = before ? before.hash : null;
          const at = { streamId, revision: first.revision, eventId: first.eventId, position: first.position };
          if (first.revision !== revision) keep({ ...at, problem: 'revision-gap', expected: `revision ${revision}`, found: `revision ${first.revision}` });
          else if (first.previousHash !== previousHash) keep({ ...at, problem: 'previous-hash-mismatch', expected: String(previousHash), found: String(first.previousHash) });
        }
        for (const [streamId, verifier] of part.verifiers) state.set(streamId, verifier.last);
      }
      const eventsChecked = counts.reduce((a, b) => a + b, 0);
      const result = (broken: BrokenLink | null): VerifyResult => ({ ok: broken === null, streamsChecked: state.size, eventsChecked, firstBroken: broken });
      if (earliest.link) {
        // The walk read no xids: the broken event's, for its position, now (events never change).
        const link = earliest.link;
        if (link.position && link.position.commit === UNKNOWN_XID) {
          const [row] = await this.sql<{ xid: string }[]>`select xid::text as xid from es_events where position = ${link.position.prepare.toString()}::bigint`;
          link.position = row ? { commit: BigInt(row.xid), prepare: link.position.prepare } : link.position;
        }
        return result(link);
      }

      const heads = new Map<string, { revision: number; hash: string }>();
      for (const h of headRows) heads.set(h.stream_id, { revision: Number(h.revision), hash: h.last_hash });
      const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      for (const streamId of [...state.keys()].sort(byId)) {
        const last = state.get(streamId)!;
        const head = heads.get(streamId);
        if (!head || (head.revision === last.revision && head.hash === last.hash)) continue;
        return result({
          streamId,
          revision: head.revision,
          eventId: '',
          position: undefined,
          problem: 'head-mismatch',
          expected: `head at revision ${head.revision} with hash ${head.hash}`,
          found: `chain ends at revision ${last.revision} with hash ${String(last.hash)}`,
        });
      }
      // A stream head without any events left (all deleted by someone bypassing the triggers), or a
      // stream asked for that has neither events nor a head.
      const missing = [...new Set([...heads.keys(), ...(ids ?? [])])].filter((id) => !state.has(id)).sort(byId);
      const streamId = missing[0];
      if (streamId === undefined) return result(null);
      const head = heads.get(streamId);
      return result(
        head
          ? { streamId, revision: head.revision, eventId: '', position: undefined, problem: 'head-mismatch', expected: `events up to revision ${head.revision} ending with hash ${head.hash}`, found: 'no events' }
          : { streamId, revision: 0, eventId: '', position: undefined, problem: 'missing-stream', expected: 'the stream', found: 'no events and no stream head' },
      );
    } catch (error) {
      await reserved`rollback`.catch(() => {});
      throw error;
    } finally {
      reserved.release();
    }
  }

  // --- lifecycle ------------------------------------------------------------------------------

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Appends already accepted are written (or fail) before the connections close.
    if (this.running.batches > 0 || this.queue.length > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    await Promise.allSettled([...this.subscriptions].map((s) => s.stop()));
    await this.groups.stopAll();
    await this.notifier.close();
    await this.sql.end({ timeout: 5 });
  }
}

export function comparePgPositions(a: Position, b: Position): number {
  return comparePositions(a, b);
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint_name?: string };
  return e?.code === '23505' && e.constraint_name === constraint;
}

function mapError(error: unknown): unknown {
  const e = error as { code?: string; message?: string };
  // Real limits, named for what they are (contention alone never fails an append: it waits).
  if (e?.code === '55P03') return new EventStoreUnavailable(`The append waited longer than the database's lock_timeout for its stream's lock: ${e.message}`, { cause: error });
  if (e?.code === '57014') return new EventStoreUnavailable(`The append ran longer than the database's statement_timeout: ${e.message}`, { cause: error });
  if (e?.code === '40P01') return new EventStoreUnavailable(`The database found a deadlock: ${e.message}`, { cause: error });
  if (e?.code === '22P02' || e?.code === '22P05' || e?.code === '22023') {
    return new InvalidEvent(`The database refused the events: ${e.message}`, { cause: error });
  }
  return error;
}

/**
 * verify()'s walk reads only what the check needs: not xid (the broken link's is looked up once at
 * the end, UNKNOWN_XID until then) nor recorded_at (a timestamp formatted by the server and parsed
 * into a Date per row).
 */
const VERIFY_COLUMNS = 'e.position::text as position, e.stream_id, e.revision::text as revision, e.event_id::text as event_id, e.type, e.schema_version, e.data, e.metadata';
const VERIFY_PAGE_SIZE = 1000;
const UNKNOWN_XID = -1n;
/** An event row without the two columns verify() does not read. */
type VerifyRow = Omit<EventRow, 'xid' | 'recorded_at'>;

/** [lo, hi] cut into `n` contiguous ranges (fewer when it holds fewer values). */
function splitRange(lo: bigint, hi: bigint, n: number): Array<{ from: bigint; to: bigint }> {
  const size = (hi - lo + 1n + BigInt(n) - 1n) / BigInt(n);
  const out: Array<{ from: bigint; to: bigint }> = [];
  for (let from = lo; from <= hi; from += size) out.push({ from, to: from + size - 1n > hi ? hi : from + size - 1n });
  return out;
}
