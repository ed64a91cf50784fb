/**
 * EventStoreDB backend of the port, over @eventstore/db-client (selected by EVENTSTORE_URL).
 *
 * Appends read the stream's tail, chain the new events to the last hash and append with that exact
 * revision as expected revision, so the chain never forks; a conflict re-reads and retries when the
 * caller's expectation still allows it. Groups are persistent subscriptions to $all with a filter and
 * maxSubscriberCount 1: a second consumer is refused by the server and stands by, retrying every
 * second, and gets the subscription when the first one's connection is gone. The group's filter is
 * kept in the custom metadata of a dedicated stream (a system event, invisible to $all readers).
 * Mapping (envelope, positions, errors) lives in ./mapping.ts.
 */
import { randomUUID } from 'node:crypto';
import {
  EventStoreDBClient,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type PersistentSubscriptionToAll,
  type PersistentSubscriptionToAllResolvedEvent,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { DuplicateEventId, EventStoreClosed, EventStoreError, EventStoreUnavailable, GroupNotFound, InvalidEvent, StreamNotFound, WrongExpectedVersion } from '../errors';
import { chainEvents, comparePositions, DEFAULT_GROUP_SETTINGS, normalizeFilter, prepareEvents, resolveSettings, satisfies, validateExpectedRevision, validateStreamId } from '../envelope';
import { StreamChainVerifier } from '../hash-chain';
import type {
  AppendOptions,
  AppendResult,
  BrokenLink,
  CatchUpSubscription,
  ConnectGroupOptions,
  CreateGroupOptions,
  CurrentRevision,
  EventFilter,
  EventHandler,
  EventStore,
  GroupConsumer,
  GroupHandler,
  GroupInfo,
  NackAction,
  NewEvent,
  ParkedEvent,
  PersistentGroups,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
  UpdateGroupOptions,
  VerifyOptions,
  VerifyResult,
} from '../types';
import {
  eventIdClaimStream,
  expectedForHead,
  fromEsdbGroupInfo,
  fromResolvedEvent,
  groupConfigStream,
  isMaxSubscribersReached,
  mapEsdbError,
  parkedStreamName,
  revisionToNumber,
  toEsdbFilter,
  toEsdbGroupSettings,
  toEventData,
  toReadPosition,
} from './mapping';

export interface EsdbEventStoreOptions {
  connectionString: string;
  hmacKey: string | Buffer;
  onError?: (error: unknown) => void;
  /** How often a standby consumer asks for the subscription (default 1000 ms). */
  standbyRetryMs?: number;
  /** Makes the client (tests: a client over the server double). Default: from the connection string. */
  createClient?: (connectionName?: string) => EventStoreDBClient;
}

/**
 * One client per connection string and process, shared by every store on it. The client keeps its
 * batch-append promises in a module-level map and rejects all of them when any batch-append stream
 * fails, and `dispose()` cancels that stream: a store closing its own client would reject the appends
 * in flight of every other store in the process. The client is disposed when its last store closes.
 */
const sharedClients = new Map<string, { client: EventStoreDBClient; users: number }>();

function acquireClient(connectionString: string, create: () => EventStoreDBClient): EventStoreDBClient {
  let entry = sharedClients.get(connectionString);
  if (!entry) sharedClients.set(connectionString, (entry = { client: create(), users: 0 }));
  entry.users++;
  return entry.client;
}

async function releaseClient(connectionString: string): Promise<void> {
  const entry = sharedClients.get(connectionString);
  if (!entry || --entry.users > 0) return;
  sharedClients.delete(connectionString);
  await entry.client.dispose();
}

/** readAll: extra records asked for per page (system events are skipped), and the page of a filtered read. */
const READ_ALL_SLACK = 16;
const READ_ALL_FILTERED_PAGE = 1000;
/** Events per page when a repeat's original is looked for in its stream. */
const REPEAT_SEARCH_PAGE = 100;

/** A client error as the port's error (mapped errors that are not EventStoreErrors become EventStoreUnavailable). */
function toPortError(error: unknown, context: Parameters<typeof mapEsdbError>[1] = {}): unknown {
  const mapped = mapEsdbError(error, context);
  return mapped instanceof EventStoreError ? mapped : new EventStoreUnavailable(mapped instanceof Error ? mapped.message : String(mapped), { cause: error });
}

/**
 * Reads a client ReadStream to its end, handing each event to `visit` until it returns false; then
 * cancels the call and lets the stream end. Leaving the loop early instead (break, return) destroys
 * the ReadStream but not the gRPC stream under it: when the server's status had already arrived that
 * stream never ends, and the client's dispose() waits for it forever (seen with the server double).
 */
async function readToEnd<T>(read: AsyncIterable<T> & { cancel(): Promise<void> }, visit: (item: T) => boolean): Promise<void> {
  let wanted = true;
  for await (const item of read) {
    if (!wanted) continue;
    if (!visit(item)) {
      wanted = false;
      await read.cancel().catch(() => {});
    }
  }
}

/** The connection string with `connectionName` (what the server shows for a connection), if given. */
function withConnectionName(connectionString: string, name: string | undefined): string {
  if (!name) return connectionString;
  const rest = connectionString.replace(/([?&])connectionName=[^&]*&?/i, '$1').replace(/[?&]$/, '');
  return `${rest}${rest.includes('?') ? '&' : '?'}connectionName=${encodeURIComponent(name)}`;
}
const MAX_APPEND_ATTEMPTS = 50;

export class EsdbEventStore implements EventStore {
  readonly backend = 'eventstoredb' as const;
  readonly client: EventStoreDBClient;
  readonly groups: EsdbGroups;
  private readonly key: string | Buffer;
  private closed = false;
  private readonly subscriptions = new Set<EsdbCatchUp>();
  readonly onError: (error: unknown) => void;
  readonly standbyRetryMs: number;
  private readonly connectionString: string;
  /** A client of its own (a group consumer's, named after it); never used for appends. */
  readonly createClient: (connectionName?: string) => EventStoreDBClient;

  constructor(options: EsdbEventStoreOptions) {
    if (!options.hmacKey || options.hmacKey.length < 16) throw new InvalidEvent('The event HMAC key must be at least 16 bytes');
    this.key = options.hmacKey;
    this.connectionString = options.connectionString;
    const create = options.createClient ?? ((name?: string) => EventStoreDBClient.connectionString(withConnectionName(options.connectionString, name)));
    this.createClient = create;
    this.client = acquireClient(options.connectionString, () => create());
    this.onError = options.onError ?? (() => {});
    this.standbyRetryMs = options.standbyRetryMs ?? 1000;
    this.groups = new EsdbGroups(this);
  }

  assertOpen(): void {
    if (this.closed) throw new EventStoreClosed();
  }

  /** The stream's last event (the head to chain to), or null for a new stream. */
  private async readHead(streamId: string): Promise<RecordedEvent | null> {
    try {
      let head: RecordedEvent | null = null;
      // Read to the end (no early return): see readToEnd.
      for await (const resolved of this.client.readStream(streamId, { direction: 'backwards', fromRevision: 'end', maxCount: 1 })) head ??= fromResolvedEvent(resolved);
      return head;
    } catch (error) {
      const mapped = mapEsdbError(error, { streamId });
      if (mapped instanceof StreamNotFound) return null;
      throw mapped;
    }
  }

  /**
   * Claims the event ids for this stream: EventStoreDB checks ids within one stream only, the port
   * refuses an id stored in another stream (DuplicateEventId, as PostgreSQL's unique index does). Each
   * id gets the metadata stream of `yeyak-eventid-<id>` (a `$$` system stream, invisible to $all
   * readers), written with expected revision no_stream and naming the stream. All claims go out in
   * parallel with the head read, so an append costs no extra round trip, but one extra (small) write
   * per event. An id whose append failed stays claimed by the stream it was sent to.
   */
  private async claimIds(streamId: string, ids: string[]): Promise<{ foreign: { id: string; owner: string } | null; repeated: string[] }> {
    const results = await Promise.all(
      ids.map(async (id) => {
        try {
          await this.client.setStreamMetadata(eventIdClaimStream(id), { yeyakEvent: { stream: streamId } }, { expectedRevision: 'no_stream' });
          return { id, owner: streamId, fresh: true };
        } catch (error) {
          const mapped = mapEsdbError(error);
          if (!(mapped instanceof WrongExpectedVersion)) throw mapped;
          const { metadata } = await this.client.getStreamMetadata<{ yeyakEvent?: { stream?: string } }>(eventIdClaimStream(id));
          return { id, owner: metadata?.yeyakEvent?.stream ?? '', fresh: false };
        }
      }),
    );
    const foreign = results.find((r) => r.owner !== streamId);
    return { foreign: foreign ? { id: foreign.id, owner: foreign.owner } : null, repeated: results.filter((r) => !r.fresh).map((r) => r.id) };
  }

  /**
   * The stored events with these ids in this stream, found by reading it backwards page by page
   * (only for ids claimed before, so only for repeats). Null when none is stored (an earlier append
   * with them failed).
   */
  private async findStored(streamId: string, ids: string[], head: RecordedEvent | null): Promise<RecordedEvent[] | null> {
    if (!head) return null;
    const wanted = new Set(ids);
    const found: RecordedEvent[] = [];
    let from = head.revision;
    while (from >= 0 && found.length < ids.length) {
      const page = await this.readStream(streamId, { direction: 'backwards', fromRevision: from, maxCount: REPEAT_SEARCH_PAGE });
      for (const e of page) if (wanted.has(e.eventId)) found.push(e);
      if (page.length < REPEAT_SEARCH_PAGE) break;
      from = page[page.length - 1]!.revision - 1;
    }
    return found.length ? found.reverse() : null;
  }

  async append(streamId: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    const expected = options.expectedRevision ?? 'any';
    validateExpectedRevision(expected);
    const prepared = prepareEvents(streamId, events);
    const ids = prepared.map((e) => e.eventId);

    const [claims, firstHead] = await Promise.all([this.claimIds(streamId, ids), this.readHead(streamId)]);
    if (claims.foreign) throw new DuplicateEventId(streamId, claims.foreign.id);
    let head = firstHead;
    if (claims.repeated.length) {
      // Ids claimed for this stream before: an idempotent repeat if the same ids are stored in order
      // at the revision the expectation allows, however long ago (no window).
      const stored = await this.findStored(streamId, ids, head);
      if (stored) {
        const actual: CurrentRevision = head ? head.revision : 'no_stream';
        const first = stored[0]!.revision;
        const sameIds = stored.length === ids.length && stored.every((e, i) => e.eventId === ids[i] && e.revision === first + i);
        const allowed =
          expected === 'any' ||
          (expected === 'no_stream' && first === 0) ||
          (expected === 'stream_exists' && first > 0) ||
          (typeof expected === 'number' && first === expected + 1);
        if (sameIds && allowed) {
          const last = stored[stored.length - 1]!;
          return { nextExpectedRevision: last.revision, position: last.position };
        }
        if (satisfies(expected, actual)) throw new DuplicateEventId(streamId, stored[0]!.eventId);
        throw new WrongExpectedVersion(streamId, expected, actual);
      }
    }

    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) head = await this.readHead(streamId);
      const actual: CurrentRevision = head ? head.revision : 'no_stream';
      if (!satisfies(expected, actual)) throw new WrongExpectedVersion(streamId, expected, actual);
      const chained = chainEvents(this.key, streamId, prepared, head ? head.revision + 1 : 0, head?.metadata.integrity?.hash ?? null);
      try {
        const result = await this.client.appendToStream(streamId, chained.events.map(toEventData), {
          expectedRevision: expectedForHead(head ? head.revision : null),
        });
        const revision = revisionToNumber(result.nextExpectedRevision);
        return { nextExpectedRevision: revision, position: result.position ?? (await this.positionOf(streamId, revision)) };
      } catch (error) {
        const mapped = mapEsdbError(error, { streamId, expected });
        if (!(mapped instanceof WrongExpectedVersion)) throw mapped;
        if (attempt >= MAX_APPEND_ATTEMPTS) throw new EventStoreUnavailable(`Append to ${streamId} kept conflicting (${attempt + 1} attempts)`);
        // The head moved between our read and the append: re-read and re-check the expectation.
      }
    }
  }

  private async positionOf(streamId: string, revision: number): Promise<Position> {
    const [e] = await this.readStream(streamId, { fromRevision: revision, maxCount: 1 });
    if (!e || e.revision !== revision) throw new EventStoreUnavailable(`Appended ${streamId}@${revision} but cannot read its position`);
    return e.position;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    validateStreamId(streamId);
    const direction = options.direction ?? 'forwards';
    const from = options.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
    if (options.maxCount !== undefined && options.maxCount <= 0) return [];
    const out: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, {
        direction,
        fromRevision: typeof from === 'number' ? BigInt(from) : from,
        maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
      })) {
        const e = fromResolvedEvent(resolved);
        if (e) out.push(e);
      }
    } catch (error) {
      throw mapEsdbError(error, { streamId });
    }
    return out;
  }

  /**
   * $all in pages sized to what is still wanted (plus slack for the system events the port skips),
   * each page read to its end. The client has no server-side filter for reads (its ReadReq always
   * says no_filter; only subscriptions take one), so a filtered read still brings the whole range
   * to the client, in pages of READ_ALL_FILTERED_PAGE.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const direction = options.direction ?? 'forwards';
    const maxCount = options.maxCount ?? 1000;
    if (maxCount <= 0) return [];
    const from = options.fromPosition ?? (direction === 'forwards' ? 'start' : 'end');
    const filtered = Boolean(options.filter?.streamPrefixes?.length || options.filter?.eventTypes?.length);
    const { matches } = toEsdbFilter(options.filter);
    const out: RecordedEvent[] = [];
    // Where the next page starts (inclusive on the server) and whether its first record was seen.
    let cursor: Position | 'start' | 'end' = from;
    let continuing = false;
    try {
      while (out.length < maxCount) {
        const want = maxCount - out.length;
        const count = filtered ? READ_ALL_FILTERED_PAGE : Math.min(want + READ_ALL_SLACK, READ_ALL_FILTERED_PAGE);
        let received = 0;
        let last: Position | null = null;
        const read = this.client.readAll({ direction, fromPosition: toReadPosition(cursor), maxCount: count });
        await readToEnd(read, (resolved) => {
          received++;
          const raw = resolved.event?.position;
          if (raw && (raw.commit !== 0n || raw.prepare !== 0n)) last = { commit: raw.commit, prepare: raw.prepare };
          const e = fromResolvedEvent(resolved);
          if (!e || !matches(e)) return true;
          // Backwards from a position: only what is at or before it; a next page skips what the last one had.
          if (direction === 'backwards' && typeof from === 'object' && comparePositions(e.position, from) > 0) return true;
          if (continuing && typeof cursor === 'object' && (direction === 'forwards' ? comparePositions(e.position, cursor) <= 0 : comparePositions(e.position, cursor) >= 0)) return true;
          out.push(e);
          return out.length < maxCount;
        });
        if (received < count || !last || out.length >= maxCount) break;
        cursor = last;
        continuing = true;
      }
    } catch (error) {
      throw mapEsdbError(error);
    }
    // Backwards reads from a position are inclusive in the port: add the event at that position.
    if (direction === 'backwards' && typeof from === 'object' && !out.some((e) => comparePositions(e.position, from) === 0)) {
      const [at] = await this.readAll({ fromPosition: from, maxCount: 1, filter: options.filter });
      if (at && comparePositions(at.position, from) === 0) {
        out.unshift(at);
        if (out.length > maxCount) out.pop();
      }
    }
    return out;
  }

  subscribeToAll(handler: EventHandler, options: SubscribeToAllOptions = {}): CatchUpSubscription {
    this.assertOpen();
    const sub = new EsdbCatchUp(this, handler, options);
    this.subscriptions.add(sub);
    void sub.done.catch(() => {}).finally(() => this.subscriptions.delete(sub));
    return sub;
  }

  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    this.assertOpen();
    if (options.streamId) {
      const events = await this.readStream(options.streamId);
      const verifier = new StreamChainVerifier(this.key, options.streamId);
      let broken: BrokenLink | null = null;
      for (const e of events) if ((broken = verifier.check(e))) break;
      options.onProgress?.({ eventsChecked: verifier.count, streamsChecked: 1 });
      return { ok: !broken, streamsChecked: 1, eventsChecked: verifier.count, firstBroken: broken };
    }
    if (options.streamIds) {
      // Stream by stream (EventStoreDB has no stream-head table: a removed tail is only seen by a seal).
      let eventsChecked = 0;
      let streamsChecked = 0;
      for (const streamId of [...new Set(options.streamIds)].sort()) {
        options.signal?.throwIfAborted();
        let events: RecordedEvent[];
        try {
          events = await this.readStream(streamId);
        } catch (error) {
          if (!(error instanceof StreamNotFound)) throw error;
          const missing: BrokenLink = { streamId, revision: 0, eventId: '', position: undefined, problem: 'missing-stream', expected: 'the stream', found: 'no events' };
          return { ok: false, streamsChecked, eventsChecked, firstBroken: missing };
        }
        const verifier = new StreamChainVerifier(this.key, streamId);
        streamsChecked++;
        let broken: BrokenLink | null = null;
        for (const e of events) if ((broken = verifier.check(e))) break;
        eventsChecked += verifier.count;
        options.onProgress?.({ eventsChecked, streamsChecked });
        if (broken) return { ok: false, streamsChecked, eventsChecked, firstBroken: broken };
      }
      return { ok: true, streamsChecked, eventsChecked, firstBroken: null };
    }
    // Whole log in $all order, one verifier per stream; a broken stream is reported once, first found first.
    const verifiers = new Map<string, StreamChainVerifier>();
    let firstBroken: BrokenLink | null = null;
    let eventsChecked = 0;
    const read = this.client.readAll({ fromPosition: 'start', maxCount: Number.MAX_SAFE_INTEGER });
    try {
      await readToEnd(read, (resolved) => {
        const e = fromResolvedEvent(resolved);
        if (!e) return true;
        let v = verifiers.get(e.streamId);
        if (!v) verifiers.set(e.streamId, (v = new StreamChainVerifier(this.key, e.streamId)));
        eventsChecked++;
        firstBroken = v.check(e);
        if (eventsChecked % 1000 === 0) {
          options.signal?.throwIfAborted();
          options.onProgress?.({ eventsChecked, streamsChecked: verifiers.size });
        }
        return !firstBroken;
      });
    } catch (error) {
      throw mapEsdbError(error);
    }
    return { ok: !firstBroken, streamsChecked: verifiers.size, eventsChecked, firstBroken };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.stop()));
    await this.groups.stopAll();
    await releaseClient(this.connectionString);
  }
}

/** Put into the subscription's own buffer when the server says "caught up", so it keeps its place among the events. */
const CAUGHT_UP = Object.freeze({ caughtUp: true });
const RESUBSCRIBE_MIN_MS = 100;
const RESUBSCRIBE_MAX_MS = 5000;

/**
 * A catch-up subscription to $all that survives lost connections and server restarts: when the
 * client's subscription ends or fails without stop() (UNAVAILABLE, a server-side CANCELLED, a call
 * that simply ends), the error goes to the store's onError and it subscribes again after the last
 * event handled (or where it started, if none was), backing off 100 ms → 5 s. Only a handler's error
 * ends it (`done` rejects with it).
 */
class EsdbCatchUp implements CatchUpSubscription {
  private stopped = false;
  private last: Position | undefined;
  private current: AllStreamSubscription | null = null;
  private wake: (() => void) | null = null;
  readonly done: Promise<void>;

  constructor(
    private readonly store: EsdbEventStore,
    private readonly handler: EventHandler,
    private readonly options: SubscribeToAllOptions,
  ) {
    this.done = this.run();
    this.done.catch(() => {});
  }

  /** The position of the log's last record (any, system ones too), or 'start' for an empty log. */
  private async endOfLog(): Promise<Position | 'start'> {
    let end: Position | 'start' = 'start';
    await readToEnd(this.store.client.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1 }), (resolved) => {
      const p = resolved.event?.position;
      if (p) end = { commit: p.commit, prepare: p.prepare };
      return false;
    });
    return end;
  }

  private async run(): Promise<void> {
    const { server, matches } = toEsdbFilter(this.options.filter);
    let backoff = RESUBSCRIBE_MIN_MS;
    // 'end' is pinned to a position once, at the start: a resubscription "from the end" after a
    // lost connection would skip what was appended while it was gone.
    let start: Position | 'start' | 'end' = this.options.fromPosition ?? 'start';
    while (!this.stopped && start === 'end') {
      try {
        start = await this.endOfLog();
      } catch (error) {
        this.store.onError(mapEsdbError(error));
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, RESUBSCRIBE_MAX_MS);
      }
    }
    while (!this.stopped) {
      const subscription = this.store.client.subscribeToAll({ fromPosition: toReadPosition(this.last ?? start), filter: server });
      this.current = subscription;
      // The client emits 'caughtUp' when the message arrives, while the events before it still wait
      // in the stream's buffer for the handler: a marker in that same buffer keeps the order.
      subscription.on('caughtUp', () => subscription.push(CAUGHT_UP));
      let failure: unknown = undefined;
      let handlerFailure: { error: unknown } | null = null;
      try {
        for await (const item of subscription as AsyncIterable<AllStreamResolvedEvent | typeof CAUGHT_UP>) {
          if (this.stopped) break;
          if (item === CAUGHT_UP) {
            backoff = RESUBSCRIBE_MIN_MS;
            this.options.onCaughtUp?.();
            continue;
          }
          const e = fromResolvedEvent(item as AllStreamResolvedEvent);
          if (!e || !matches(e)) continue;
          try {
            await this.handler(e);
          } catch (error) {
            handlerFailure = { error };
            break;
          }
          this.last = e.position;
          backoff = RESUBSCRIBE_MIN_MS;
        }
      } catch (error) {
        failure = error;
      } finally {
        this.current = null;
        await subscription.unsubscribe().catch(() => {});
      }
      if (handlerFailure) throw handlerFailure.error;
      if (this.stopped) break;
      this.store.onError(failure === undefined ? new EventStoreUnavailable('The subscription to $all ended; subscribing again') : mapEsdbError(failure));
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, RESUBSCRIBE_MAX_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  get lastPosition(): Position | undefined {
    return this.last;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.current?.unsubscribe().catch(() => {});
    await this.done.catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------

interface StoredGroupConfig {
  filter: EventFilter;
  maxInFlight: number;
}

class EsdbGroups implements PersistentGroups {
  private readonly consumers = new Set<EsdbGroupConsumer>();
  constructor(readonly store: EsdbEventStore) {}

  private get client() {
    return this.store.client;
  }

  async config(name: string): Promise<StoredGroupConfig | null> {
    try {
      const { metadata } = await this.client.getStreamMetadata<{ yeyakGroup?: StoredGroupConfig }>(groupConfigStream(name));
      return metadata?.yeyakGroup ?? null;
    } catch (error) {
      const mapped = mapEsdbError(error);
      if (mapped instanceof StreamNotFound) return null;
      throw mapped;
    }
  }

  async create(name: string, options: CreateGroupOptions = {}): Promise<void> {
    const { filter, startFrom = 'start', ...rest } = options;
    const settings = resolveSettings(rest);
    const { server } = toEsdbFilter(filter);
    this.store.assertOpen();
    try {
      await this.client.createPersistentSubscriptionToAll(name, toEsdbGroupSettings(settings, startFrom), { filter: server });
    } catch (error) {
      throw mapEsdbError(error, { group: name });
    }
    // Written after the group exists (written before, a refused create would overwrite the existing
    // group's configuration); a group whose configuration could not be written is removed again.
    try {
      await this.client.setStreamMetadata(groupConfigStream(name), { yeyakGroup: { filter: normalizeFilter(filter), maxInFlight: settings.maxInFlight } });
    } catch (error) {
      await this.client.deletePersistentSubscriptionToAll(name).catch((e: unknown) => this.store.onError(e));
      throw toPortError(error, { group: name });
    }
  }

  async update(name: string, options: UpdateGroupOptions): Promise<void> {
    this.store.assertOpen();
    const current = await this.info(name);
    const settings = resolveSettings(current.settings, options);
    try {
      // EventStoreDB keeps the filter and ignores startFrom changes of a running group here.
      const esdbSettings = toEsdbGroupSettings(settings, 'start');
      const { startFrom: _startFrom, ...withoutStart } = esdbSettings;
      const info = await this.client.getPersistentSubscriptionToAllInfo(name);
      await this.client.updatePersistentSubscriptionToAll(name, { ...withoutStart, startFrom: info.settings.startFrom });
    } catch (error) {
      throw mapEsdbError(error, { group: name });
    }
    await this.client.setStreamMetadata(groupConfigStream(name), { yeyakGroup: { filter: current.filter, maxInFlight: settings.maxInFlight } });
  }

  async delete(name: string): Promise<void> {
    this.store.assertOpen();
    try {
      await this.client.deletePersistentSubscriptionToAll(name);
    } catch (error) {
      throw mapEsdbError(error, { group: name });
    }
    // The configuration goes with the group (a group created later under this name writes its own).
    await this.client.setStreamMetadata(groupConfigStream(name), {}).catch((e: unknown) => this.store.onError(toPortError(e, { group: name })));
  }

  async list(): Promise<GroupInfo[]> {
    this.store.assertOpen();
    let infos: Awaited<ReturnType<EventStoreDBClient['listPersistentSubscriptionsToAll']>>;
    try {
      infos = await this.client.listPersistentSubscriptionsToAll();
    } catch (error) {
      // A server without any persistent subscription to $all answers "does not exist".
      const mapped = mapEsdbError(error);
      if (mapped instanceof GroupNotFound) return [];
      throw mapped;
    }
    return Promise.all(infos.map(async (i) => fromEsdbGroupInfo(i, await this.config(i.groupName), DEFAULT_GROUP_SETTINGS)));
  }

  async info(name: string): Promise<GroupInfo> {
    this.store.assertOpen();
    try {
      const info = await this.client.getPersistentSubscriptionToAllInfo(name);
      return fromEsdbGroupInfo(info, await this.config(name), DEFAULT_GROUP_SETTINGS);
    } catch (error) {
      throw mapEsdbError(error, { group: name });
    }
  }

  connect(name: string, handler: GroupHandler, options: ConnectGroupOptions = {}): GroupConsumer {
    this.store.assertOpen();
    const consumer = new EsdbGroupConsumer(this, name, handler, options);
    this.consumers.add(consumer);
    void consumer.finished.finally(() => this.consumers.delete(consumer));
    return consumer;
  }

  async listParked(name: string, options: { maxCount?: number } = {}): Promise<ParkedEvent[]> {
    this.store.assertOpen();
    await this.info(name);
    const out: ParkedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(parkedStreamName(name), { resolveLinkTos: true, maxCount: options.maxCount ?? 1000 })) {
        const e = fromResolvedEvent(resolved as ResolvedEvent);
        if (!e) continue;
        // The server writes the parked link with metadata { Added, Reason, SubscriptionEventNumber }.
        const linkMeta = (resolved.link?.metadata ?? {}) as Record<string, unknown>;
        const reason = linkMeta.Reason ?? linkMeta.reason;
        out.push({
          event: e,
          reason: typeof reason === 'string' ? reason : 'parked (no reason recorded)',
          retryCount: 0,
          parkedAt: resolved.link?.created,
          replayRequested: false,
        });
      }
    } catch (error) {
      const mapped = mapEsdbError(error, { group: name });
      if (mapped instanceof StreamNotFound) return [];
      throw mapped;
    }
    return out;
  }

  async replayParked(name: string): Promise<undefined> {
    this.store.assertOpen();
    try {
      await this.client.replayParkedMessagesToAll(name);
    } catch (error) {
      throw mapEsdbError(error, { group: name });
    }
    return undefined;
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.stop()));
  }
}

class EsdbGroupConsumer implements GroupConsumer {
  readonly consumerId: string;
  private stopped = false;
  private isActive = false;
  private subscription: PersistentSubscriptionToAll | null = null;
  readonly finished: Promise<void>;
  private wake: (() => void) | null = null;

  constructor(
    private readonly groups: EsdbGroups,
    readonly group: string,
    private readonly handler: GroupHandler,
    private readonly options: ConnectGroupOptions,
  ) {
    this.consumerId = options.consumerId ?? `consumer-${randomUUID()}`;
    this.finished = this.run();
    this.finished.catch(() => {});
  }

  get active(): boolean {
    return this.isActive && !this.stopped;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    // A client of the consumer's own, named after it: the server shows a connection by its client's
    // connection name (GroupInfo.activeConsumer.id). It only subscribes, acks and nacks (never appends).
    const client = this.groups.store.createClient(this.consumerId);
    try {
      await this.consume(client);
    } finally {
      await client.dispose().catch(() => {});
    }
  }

  private async consume(client: EventStoreDBClient): Promise<void> {
    const parked = parkedStreamName(this.group);
    while (!this.stopped) {
      try {
        const config = await this.groups.config(this.group);
        const filter = config?.filter ?? {};
        const { matches } = toEsdbFilter(filter);
        const info = await client.getPersistentSubscriptionToAllInfo(this.group);
        const { maxRetryCount } = info.settings;
        // The server starts a group at its startFrom position inclusive, the port after it: that one
        // event is acked unseen.
        const startFrom = typeof info.settings.startFrom === 'object' ? info.settings.startFrom : null;
        // stop() may have come while the configuration was read: it found no subscription to end.
        if (this.stopped) break;
        const sub = client.subscribeToPersistentSubscriptionToAll(this.group, { bufferSize: config?.maxInFlight ?? DEFAULT_GROUP_SETTINGS.maxInFlight });
        this.subscription = sub;
        sub.once('confirmation', () => {
          if (this.stopped) return;
          this.isActive = true;
          this.options.onActive?.();
        });
        for await (const resolved of sub as AsyncIterable<PersistentSubscriptionToAllResolvedEvent>) {
          if (this.stopped) break;
          const event = fromResolvedEvent(resolved);
          const atStart = event && startFrom && event.position.commit === startFrom.commit && event.position.prepare === startFrom.prepare;
          if (!event || !matches(event) || (atStart && resolved.retryCount === 0 && resolved.link?.streamId !== parked)) {
            await sub.ack(resolved);
            continue;
          }
          // When the retries are used up the server parks with its own reason ("Reached retry count")
          // and only logs the nack's: the last allowed retry is sent as a park with the handler's reason.
          const nack = (action: NackAction, reason: string) =>
            sub.nack(action === 'retry' && resolved.retryCount >= maxRetryCount ? 'park' : action, reason, resolved);
          const message = {
            event,
            retryCount: resolved.retryCount,
            // A parked event being replayed comes through the link written into the parked stream.
            replayed: resolved.link?.streamId === parked,
            ack: () => sub.ack(resolved),
            nack,
          };
          try {
            await this.handler(message);
          } catch (error) {
            await nack('retry', error instanceof Error ? error.message : String(error)).catch(() => {});
          }
        }
      } catch (error) {
        if (this.stopped) break;
        const mapped = mapEsdbError(error, { group: this.group });
        if (mapped instanceof GroupNotFound) {
          this.options.onError?.(mapped);
          return;
        }
        if (!isMaxSubscribersReached(error)) this.options.onError?.(mapped);
      } finally {
        this.isActive = false;
        const sub = this.subscription;
        this.subscription = null;
        await sub?.unsubscribe().catch(() => {});
      }
      if (!this.stopped) await this.sleep(this.groups.store.standbyRetryMs);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.subscription?.unsubscribe().catch(() => {});
    await this.finished.catch(() => {});
  }

  /** Dropping the connection without acks: the server retries the in-flight events to the next consumer. */
  async abort(): Promise<void> {
    await this.stop();
  }
}
