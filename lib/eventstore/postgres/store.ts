/**
 * PostgreSQL backend of the event store port (the default). Schema: drizzle/0001_eventstore.sql.
 *
 * Append: one statement (es_append) in its own transaction, chained to the stream head the store read
 * (or remembered from its own last append); a moved head returns nothing and the store re-reads, so
 * even an `any` append is written against the exact revision its hash chains to. See docs/eventstore.md.
 *
 * Reading $all in order without skipping: positions come from a sequence taken at insert time, but
 * transactions commit in any order, so "position > checkpoint" would skip an event whose transaction
 * took a lower position and committed after a reader passed it. Instead each event records its
 * transaction id (xid8) and readers only read events of transactions older than the oldest one still
 * running (xid < pg_snapshot_xmin(pg_current_snapshot())), in (xid, position) order, checkpointing the
 * pair: every transaction below that horizon has finished, so nothing can appear there later.
 * Per-stream order: an append's first write is its stream row, conditioned on the head it read, so an
 * append of revision r+1 only succeeds after the append of r committed and its xid (assigned at that
 * write) is higher; xid order therefore agrees with revision order within a stream.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { DuplicateEventId, EventStoreClosed, EventStoreUnavailable, InvalidEvent, StreamNotFound, WrongExpectedVersion } from '../errors';
import { chainEncodedEvents, comparePositions, encodeEventsForAppend, satisfies, validateExpectedRevision, validateStreamId } from '../envelope';
import { hmacKeyObject, StreamChainVerifier } from '../hash-chain';
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
  onError?: (error: unknown) => void;
}

interface Head {
  revision: number;
  hash: string;
}

const MAX_APPEND_ATTEMPTS = 50;

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
  private closed = false;
  readonly onError: (error: unknown) => void;

  constructor(options: PostgresEventStoreOptions) {
    if (!options.hmacKey || options.hmacKey.length < 16) throw new InvalidEvent('The event HMAC key must be at least 16 bytes');
    this.key = options.hmacKey;
    this.verifyKeys = [options.hmacKey, ...(options.previousHmacKeys ?? [])];
    this.keyObject = hmacKeyObject(options.hmacKey);
    this.headCacheSize = options.headCacheSize ?? 10_000;
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

  // --- append ---------------------------------------------------------------------------------

  async append(streamId: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    const expected = options.expectedRevision ?? 'any';
    validateExpectedRevision(expected);
    const prepared = encodeEventsForAppend(streamId, events);

    for (let attempt = 0; ; attempt++) {
      // 1. The head to chain to: on the first attempt a remembered one if it satisfies the
      //    expectation (a stale one only costs a retry), a new stream for no_stream; else read it.
      let head: Head | null;
      const remembered = attempt === 0 ? this.heads.get(streamId) : undefined;
      if (remembered && satisfies(expected, remembered.revision)) head = remembered;
      else if (attempt === 0 && expected === 'no_stream' && !remembered) head = null;
      else head = await this.readHead(streamId);

      const actual: CurrentRevision = head ? head.revision : 'no_stream';
      if (!satisfies(expected, actual)) {
        const original = await this.findOriginal(streamId, prepared, expected);
        if (original) return original;
        throw new WrongExpectedVersion(streamId, expected, actual);
      }

      // 2. Chain and write in one statement.
      const first = head ? head.revision + 1 : 0;
      // The events as es_append's JSON array, data and metadata serialised once (what is hashed is
      // what is written). Sent as text: postgres.js would serialise a string for a jsonb parameter again.
      const chained = chainEncodedEvents(this.keyObject, streamId, prepared, first, head?.hash ?? null);
      let rows: Array<{ last_position: string; last_xid: string; last_revision: string }>;
      try {
        rows = await this.sql`
          select last_position::text, last_xid::text, last_revision::text
          from es_append(${streamId}, ${head ? head.revision : -1}, ${chained.lastHash}, ${chained.json}::text::jsonb)`;
      } catch (error) {
        if (isUniqueViolation(error, 'es_events_event_id_key')) {
          const original = await this.findOriginal(streamId, prepared, expected);
          if (original) return original;
          const existing = await this.sql<{ event_id: string }[]>`
            select event_id::text from es_events where event_id = any(${prepared.map((e) => e.eventId)}::uuid[]) limit 1`;
          throw new DuplicateEventId(streamId, existing[0]?.event_id ?? prepared[0]!.eventId);
        }
        throw mapError(error);
      }
      const row = rows[0];
      if (!row) {
        // The head moved (or our remembered head was stale): re-read and try again.
        this.heads.delete(streamId);
        if (attempt >= MAX_APPEND_ATTEMPTS) {
          throw new EventStoreUnavailable(`Append to ${streamId} kept conflicting with concurrent appends (${attempt + 1} attempts)`);
        }
        if (attempt >= 3) await sleep(Math.random() * Math.min(50, 2 ** attempt));
        continue;
      }
      const revision = Number(row.last_revision);
      this.rememberHead(streamId, { revision, hash: chained.lastHash });
      this.notifier.appended();
      return { nextExpectedRevision: revision, position: { commit: BigInt(row.last_xid), prepare: BigInt(row.last_position) } };
    }
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
    const last = rows[rows.length - 1]!;
    return { nextExpectedRevision: Number(last.revision), position: { commit: BigInt(last.xid), prepare: BigInt(last.position) } };
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
          and e.xid < pg_snapshot_xmin(pg_current_snapshot()) ${filter}
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
      where e.xid < pg_snapshot_xmin(pg_current_snapshot()) ${bound} ${filter}
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
      with h as (select pg_snapshot_xmin(pg_current_snapshot()) as horizon)
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
    const [row] = await this.sql<{ horizon: string }[]>`select pg_snapshot_xmin(pg_current_snapshot())::text as horizon`;
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

  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    this.assertOpen();
    const streams = options.streamId
      ? await this.sql<{ stream_id: string; revision: string; last_hash: string }[]>`
          select stream_id, revision::text, last_hash from es_streams where stream_id = ${options.streamId}`
      : null;
    if (options.streamId && streams!.length === 0) throw new StreamNotFound(options.streamId);

    let streamsChecked = 0;
    let eventsChecked = 0;
    let current: StreamChainVerifier | null = null;
    let firstBroken: BrokenLink | null = null;
    const heads = new Map<string, { revision: number; hash: string }>();
    const finish = (v: StreamChainVerifier | null): BrokenLink | null => (v ? v.checkHead(heads.get(v.streamId)) : null);

    // Walk the events in (stream, revision) order with a cursor; the stream heads come alongside.
    const cursorQuery = options.streamId
      ? this.sql<EventRow[]>`select ${this.sql.unsafe(EVENT_COLUMNS)} from es_events e where e.stream_id = ${options.streamId} order by e.revision`
      : this.sql<EventRow[]>`select ${this.sql.unsafe(EVENT_COLUMNS)} from es_events e order by e.stream_id, e.revision`;
    const headRows = streams ?? (await this.sql<{ stream_id: string; revision: string; last_hash: string }[]>`select stream_id, revision::text, last_hash from es_streams`);
    for (const h of headRows) heads.set(h.stream_id, { revision: Number(h.revision), hash: h.last_hash });
    const seen = new Set<string>();

    outer: for await (const batch of cursorQuery.cursor(500)) {
      for (const row of batch) {
        const event = toRecordedEvent(row);
        if (!current || current.streamId !== event.streamId) {
          firstBroken = finish(current);
          if (firstBroken) break outer;
          current = new StreamChainVerifier(this.verifyKeys, event.streamId);
          seen.add(event.streamId);
          streamsChecked++;
        }
        eventsChecked++;
        firstBroken = current.check(event);
        if (firstBroken) break outer;
      }
    }
    if (!firstBroken) firstBroken = finish(current);
    if (!firstBroken) {
      // A stream head without any events left (all deleted by someone bypassing the triggers).
      for (const [streamId, head] of [...heads].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (!seen.has(streamId)) {
          firstBroken = {
            streamId,
            revision: head.revision,
            eventId: '',
            position: undefined,
            problem: 'head-mismatch',
            expected: `events up to revision ${head.revision} ending with hash ${head.hash}`,
            found: 'no events',
          };
          break;
        }
      }
    }
    return { ok: firstBroken === null, streamsChecked, eventsChecked, firstBroken };
  }

  // --- lifecycle ------------------------------------------------------------------------------

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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
  if (e?.code === '22P02' || e?.code === '22P05' || e?.code === '22023') {
    return new InvalidEvent(`The database refused the events: ${e.message}`, { cause: error });
  }
  return error;
}

