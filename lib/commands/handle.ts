/**
 * The generic command handler (DESIGN §2–§3): load the stream (state folded from its events),
 * decide, append with the expected revision; on WrongExpectedVersion reload and decide again, a
 * bounded number of times. Idempotent by command id. Commands waiting on one stream of this process
 * are decided one after another on one load and appended together (see `handle`). See docs/commands.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Decider } from '../domain';
import { hasPlaintextPersonal, type PersonalField } from '../domain/patient/personal';
import { sealOrigin } from '../privacy/origin';
import {
  comparePositions,
  StreamNotFound,
  WrongExpectedVersion,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type JsonObject,
  type NewEvent,
  type Position,
  type RecordedEvent,
} from '../eventstore';
import { CommandIdReusedError, ConcurrencyConflict, ForbiddenError, InvalidCommandError, PlaintextPersonalDataError } from './errors';
import { eventMetadata, type CommandMetadata } from './metadata';

/**
 * What the command side needs of lib/privacy's vault (`createPersonalDataVault(...)` satisfies it):
 * encrypt an event's personal field before append, decrypt it after read.
 */
export interface PersonalDataProtection {
  encryptEvent<E extends { type: string; data: unknown }>(event: E): Promise<E>;
  decryptEvent<E extends { type: string; data: unknown }>(event: E): Promise<E>;
  /** Crypto-shredding: deletes the patient's key (used by erasePatientData). */
  erase?(patientId: string): Promise<boolean>;
  /** One field under a patient's key: seals a patient actor's IP and user agent (lib/privacy/origin.ts). */
  encryptField?(patientId: string, field: PersonalField): Promise<PersonalField>;
  decryptField?(patientId: string, field: PersonalField): Promise<PersonalField>;
}

export const DEFAULT_MAX_ATTEMPTS = 10;

type AnyDecider<C extends { type: string }, E extends { type: string }, S, Ctx> = Decider<C, E, S, Ctx>;

/** A stream as loaded: the folded state, the events as read, and the revision to expect when appending. */
export interface LoadedStream<S> {
  readonly streamId: string;
  readonly state: S;
  readonly events: readonly RecordedEvent[];
  readonly expectedRevision: ExpectedRevision;
}

function hasPersonalField(data: unknown): boolean {
  return typeof data === 'object' && data !== null && 'personal' in data;
}

/**
 * Per-process cache of folded streams (per store): the state and events up to a revision, so the
 * next load reads only the events after it. Events are immutable, so a cached prefix is always
 * right; whatever another process appended is read as usual. It matters on long, hot streams (a busy
 * clinic day: every booking loads it twice) — measured in bench/commands.ts. Streams with personal
 * data are never cached (no decrypted data kept in memory; an erasure must take effect).
 */
interface CachedStream {
  readonly decider: string;
  readonly state: unknown;
  readonly events: readonly RecordedEvent[];
}
const STREAM_CACHE_SIZE = 2000;
const streamCaches = new WeakMap<EventStore, Map<string, CachedStream>>();

function cacheOf(store: EventStore): Map<string, CachedStream> {
  let cache = streamCaches.get(store);
  if (!cache) streamCaches.set(store, (cache = new Map()));
  return cache;
}

/**
 * Loads of one stream (from one revision) that start while such a read is in flight share the next
 * read, which starts when the one in flight has ended: on a hot stream (the clinic, loaded twice by
 * every booking) N concurrent loads cost two queries instead of N, and each load still sees everything
 * written before it started (a read already running when it started might not). The events read are
 * shared, never changed. Part of the stream cache: off with `cache: false`.
 */
interface SharedRead {
  readonly running: Promise<RecordedEvent[]>;
  next?: Promise<RecordedEvent[]>;
}
const sharedReads = new WeakMap<EventStore, Map<string, SharedRead>>();

function readShared(store: EventStore, streamId: string, fromRevision: number | undefined): Promise<RecordedEvent[]> {
  let reads = sharedReads.get(store);
  if (!reads) sharedReads.set(store, (reads = new Map()));
  const table = reads;
  const key = `${fromRevision ?? 'start'}\u0000${streamId}`;
  const start = (): Promise<RecordedEvent[]> => {
    const running = fromRevision === undefined ? store.readStream(streamId) : store.readStream(streamId, { fromRevision });
    const slot: SharedRead = { running };
    table.set(key, slot);
    const done = () => {
      if (table.get(key) === slot && !slot.next) table.delete(key);
    };
    running.then(done, done);
    return running;
  };
  const inFlight = table.get(key);
  if (!inFlight) return start();
  inFlight.next ??= inFlight.running.then(
    () => start(),
    () => start(),
  );
  return inFlight.next;
}

/** Reads the stream (an absent stream is the initial state) and folds it with the decider's upcast and evolve. */
export async function loadStream<C extends { type: string }, E extends { type: string }, S, Ctx>(
  store: EventStore,
  decider: AnyDecider<C, E, S, Ctx>,
  streamId: string,
  privacy?: PersonalDataProtection,
  options: { cache?: boolean } = {},
): Promise<LoadedStream<S>> {
  const cache = options.cache === false ? null : cacheOf(store);
  const cached = cache?.get(streamId);
  const usable = cached && cached.decider === decider.name ? cached : undefined;
  let recorded: readonly RecordedEvent[];
  try {
    // Without the cache (measurements, tests racing loads as separate processes would), reads are not shared either.
    recorded = cache ? await readShared(store, streamId, usable ? usable.events.length : undefined) : await store.readStream(streamId);
  } catch (error) {
    if (error instanceof StreamNotFound) recorded = [];
    else throw error;
  }
  let state = usable ? (usable.state as S) : decider.initialState();
  const events: RecordedEvent[] = usable ? [...usable.events] : [];
  let personal = false;
  for (const r of recorded) {
    let e = r;
    if (hasPersonalField(r.data)) {
      personal = true;
      if (privacy) e = { ...r, data: (await privacy.decryptEvent({ type: r.type, data: r.data })).data };
    }
    state = decider.evolve(state, decider.upcast({ type: e.type, schemaVersion: e.schemaVersion, data: e.data }));
    events.push(e);
  }
  const last = events.at(-1);
  if (cache && last && !personal && last.revision === events.length - 1) {
    cache.delete(streamId);
    cache.set(streamId, { decider: decider.name, state, events });
    if (cache.size > STREAM_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  return { streamId, state, events, expectedRevision: last ? last.revision : 'no_stream' };
}

export interface HandleOptions<C extends { type: string }, E extends { type: string }, S, Ctx extends { now: Date }> {
  store: EventStore;
  decider: AnyDecider<C, E, S, Ctx>;
  streamId: string;
  command: C;
  metadata: CommandMetadata;
  /**
   * The decider's context: a value, or a function of the loaded stream (e.g. to load the clinic the
   * reservation belongs to). Called again on each attempt, so `now` can be taken afresh.
   */
  context: Ctx | ((loaded: LoadedStream<S>) => Ctx | Promise<Ctx>);
  privacy?: PersonalDataProtection;
  /** Attempts before ConcurrencyConflict (default DEFAULT_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Queue behind this process's other commands on the stream and batch with them (default true; see `MAX_BATCH_COMMANDS`). */
  serialize?: boolean;
  /** Use the per-process stream cache (default true; see `loadStream`). */
  cache?: boolean;
  /**
   * The policy step (lib/commands/authorize.ts): called with the loaded state before the idempotency
   * check and the decision, so a refused actor gets ForbiddenError, appends nothing and learns nothing.
   */
  authorize?: (state: S) => void;
  /**
   * The stream is expected not to exist yet (a new id, e.g. a booking's reservation): the first round
   * decides on the initial state without reading the stream and appends with `no_stream`. Nothing is
   * taken on trust: should the stream exist after all (the id taken, or this command id already
   * handled), the append fails, the stream is read and every decision taken again, as after any
   * conflict (that round is not counted as an attempt). Saves the read of a stream that is not there.
   */
  assumeNew?: boolean;
  /**
   * Decide on the state this process's last batch on the stream wrote even when the stream went idle
   * since (without it, only while the stream stays busy), as long as it is remembered (the last
   * `IDLE_HEADS` streams per store): the append's expected revision proves it current, or fails when
   * another process wrote in between and the stream is read and everything decided again. Used by
   * the booking's steps on the clinic day (hold, confirm), which follow each other on one stream.
   */
  reuseHead?: boolean;
}

export interface CommandResult<E, S> {
  readonly streamId: string;
  /** The events this command appended (or, for a repeated command id, the ones its first run appended). */
  readonly events: readonly E[];
  /** Revision of the stream's last event after the command (null: the stream still does not exist). */
  readonly nextExpectedRevision: number | null;
  /**
   * Global position of the last event written (what read-your-writes waits for). When the decision
   * was "nothing to do", the position of the stream's last event (null for no stream).
   */
  readonly position: Position | null;
  /** True when the command id had been handled before and nothing was appended now. */
  readonly duplicate: boolean;
  /** The stream's state after the command. */
  readonly state: S;
  readonly attempts: number;
}


/** Jittered exponential backoff: ~U(0, min(64, 2^attempt)) ms. */
function backoff(attempt: number): Promise<void> {
  return sleep(Math.random() * Math.min(64, 2 ** attempt));
}

/** Parses the command with the decider's schema; a mismatch is an InvalidCommandError (a DomainError). */
export function parseCommand<C extends { type: string }>(decider: { commandSchema: { safeParse(v: unknown): { success: true; data: C } | { success: false; error: { issues: unknown[] } } } }, command: unknown): C {
  const parsed = decider.commandSchema.safeParse(command);
  if (!parsed.success) throw new InvalidCommandError({ issues: parsed.error.issues });
  return parsed.data;
}

/**
 * Commands on one stream from this process are batched (per store and stream), in arrival order.
 * Without a queue, N concurrent commands on a hot stream (a busy clinic day) race: one append wins and
 * N − 1 reload and retry, so work grows with N² and the retry budget runs out; one at a time, each
 * pays its own load and its own commit (measured: bench/commands.ts, docs/PERFORMANCE.md). Batched,
 * the commands that arrived while a batch was in flight go together: the stream is loaded once, each
 * is decided in arrival order against the state the ones before it left (its own policy step,
 * idempotency check and context), and the events of all of them are appended in one append with one
 * expected revision, each event carrying its own command's metadata. Each command still gets its own
 * result or its own error. Other processes still race on the expected revision, which stays the
 * guard: a WrongExpectedVersion reloads and decides the batch again. With nothing in flight a command
 * goes at once, so an idle stream's latency does not grow.
 *
 * While the stream stays busy, the next batch is decided on the state this process's last batch
 * wrote, without reading the stream again: its append's expected revision proves that state current
 * (then every decision stands, refusals too), or fails with WrongExpectedVersion when another process
 * wrote in between (then the stream is read and everything decided again). A batch that would append
 * nothing proves nothing, so it is decided again on the stream as read. Streams with personal data
 * are always read (no decrypted data kept between batches).
 */
type AnyEvent = { type: string; schemaVersion: number; data: unknown };
type AnyContext = { now: Date };

/**
 * At most this many commands go in one batch. Large enough that a hot clinic day's writers of one
 * process (16 in the bench, tens on a busy web server) fit in one batch; bounded because a batch is
 * all-or-nothing at the append: on a conflict with another process every command in it is decided
 * again, the first command waits for the decisions (and encryptions) of all the others before its
 * append, and one append's events go in one transaction of the store. The commands beyond it form
 * the next batch.
 */
export const MAX_BATCH_COMMANDS = 64;
/** Commands decided on this process's own writes before the stream is read again (bounds the memory of a stream that never goes idle). */
const MAX_UNREAD_COMMANDS = 512;

interface Queued {
  readonly options: HandleOptions<{ type: string }, AnyEvent, unknown, AnyContext>;
  readonly command: { type: string };
  readonly maxAttempts: number;
  attempts: number;
  readonly resolve: (result: CommandResult<AnyEvent, unknown>) => void;
  readonly reject: (error: unknown) => void;
}

/** A command that appended on the stream before: what its repeat answers with. */
interface EarlierRun {
  readonly actor: { id: string; role: string } | undefined;
  readonly commandType: unknown;
  readonly events: readonly AnyEvent[];
  readonly revision: number;
  readonly position: Position;
}

/** What a round decides on: the stream as read, or as this process's last batch on it left it. */
interface Base {
  readonly decider: string;
  readonly privacy: PersonalDataProtection | undefined;
  /** The stream as last read; `state` and `expectedRevision` as of `lastRevision`. */
  readonly loaded: LoadedStream<unknown>;
  readonly lastRevision: number | null;
  readonly lastPosition: Position | null;
  /** Commands this process appended after `loaded.events` were read, by command id. */
  readonly ours: ReadonlyMap<string, EarlierRun>;
  /** True: read from the store now; false: this process's own last write, to be proven by the append. */
  readonly verified: boolean;
}

interface StreamQueue {
  readonly waiting: Queued[];
  readonly store?: EventStore;
  running: boolean;
  /** The stream as this process's last batch left it, for the next batch (see above). */
  head?: Base;
}
const streamQueues = new WeakMap<EventStore, Map<string, StreamQueue>>();

/** Heads of streams gone idle (per store, the most recent last), for commands with `reuseHead`. */
const IDLE_HEADS = 1000;
const idleHeads = new WeakMap<EventStore, Map<string, Base>>();

function keepIdleHead(store: EventStore, streamId: string, head: Base): void {
  let heads = idleHeads.get(store);
  if (!heads) idleHeads.set(store, (heads = new Map()));
  heads.delete(streamId);
  heads.set(streamId, head);
  if (heads.size > IDLE_HEADS) heads.delete(heads.keys().next().value!);
}

function takeIdleHead(store: EventStore, streamId: string): Base | undefined {
  const heads = idleHeads.get(store);
  const head = heads?.get(streamId);
  if (head) heads!.delete(streamId);
  return head;
}

export async function handle<C extends { type: string }, E extends { type: string; schemaVersion: number; data: unknown }, S, Ctx extends { now: Date }>(
  options: HandleOptions<C, E, S, Ctx>,
): Promise<CommandResult<E, S>> {
  const command = parseCommand<C>(options.decider as never, options.command);
  return new Promise<CommandResult<E, S>>((resolve, reject) => {
    const item: Queued = {
      options: options as unknown as Queued['options'],
      command,
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      attempts: 0,
      resolve: resolve as unknown as Queued['resolve'],
      reject,
    };
    // Unqueued (serialize: false): a batch of its own, racing this process's other commands too.
    if (options.serialize === false) void runBatch([item], null);
    else enqueue(item);
  });
}

function enqueue(item: Queued): void {
  const { store, streamId } = item.options;
  let queues = streamQueues.get(store);
  if (!queues) streamQueues.set(store, (queues = new Map()));
  let queue = queues.get(streamId);
  if (!queue) {
    queues.set(streamId, (queue = { waiting: [], running: false, store }));
    // The stream was idle: its last head is taken either way (it is only good once), and used when asked for.
    const head = takeIdleHead(store, streamId);
    if (item.options.reuseHead) queue.head = head;
  }
  queue.waiting.push(item);
  if (!queue.running) void drain(queues, streamId, queue);
}

/**
 * Runs the stream's batches one after another until nothing waits (started at once: no added
 * latency). An idle stream forgets its head: the next command reads the stream.
 */
async function drain(queues: Map<string, StreamQueue>, streamId: string, queue: StreamQueue): Promise<void> {
  queue.running = true;
  try {
    while (queue.waiting.length > 0) await runBatch(takeBatch(queue.waiting), queue);
  } finally {
    queue.running = false;
    // An idle stream forgets its head, but remembers it for a command that asks for it (`reuseHead`).
    const store = queue.store;
    if (queue.head && store) keepIdleHead(store, streamId, queue.head);
    queue.head = undefined;
    if (queues.get(streamId) === queue) queues.delete(streamId);
  }
}

/**
 * The first waiting command and those after it that can share its load and append: the same decider
 * (one folded state), the same privacy (one decryption) and the same cache choice. The first one that
 * cannot ends the batch, so commands are always decided in arrival order (a different one then goes
 * in a batch of its own).
 */
function takeBatch(waiting: Queued[]): Queued[] {
  const first = waiting[0]!.options;
  let n = 1;
  while (n < waiting.length && n < MAX_BATCH_COMMANDS) {
    const o = waiting[n]!.options;
    if (o.decider.name !== first.decider.name || o.privacy !== first.privacy || (o.cache === false) !== (first.cache === false)) break;
    n++;
  }
  return waiting.splice(0, n);
}

/** One command's decision in a round of its batch. */
type Decision =
  | { kind: 'error'; error: unknown }
  /** Nothing to do; `after` events of the batch were decided before it. */
  | { kind: 'none'; after: number; state: unknown }
  /** Its command id appended on the stream before: that run's result. */
  | { kind: 'earlier'; run: EarlierRun; state: unknown }
  /** Its command id came earlier in this batch: that command's result. */
  | { kind: 'repeat'; of: Queued; state: unknown }
  /** Events to append: `count` of the batch's events from index `from`. */
  | { kind: 'append'; events: readonly AnyEvent[]; from: number; count: number; state: unknown };

async function runBatch(items: Queued[], queue: StreamQueue | null): Promise<void> {
  try {
    await runRounds(items, queue);
  } catch (error) {
    // Only a bug gets here (runRounds settles every command itself); settled ones ignore this.
    for (const item of items) item.reject(error);
  }
}

/**
 * Decides each command in order against the evolving state and appends all events with one expected
 * revision. Settles every command itself. On a base read from the store, a decision taken before any
 * command of the round decided events rests on the stored state only, so it is final even if the
 * append then conflicts; the later ones are decided again after the reload.
 */
async function runRounds(items: Queued[], queue: StreamQueue | null): Promise<void> {
  const { store, decider, streamId, privacy, cache } = items[0]!.options;
  let head = queue?.head;
  if (queue) queue.head = undefined;
  if (head && (head.decider !== decider.name || head.privacy !== privacy || cache === false)) head = undefined;
  let pending = items;
  for (let round = 1; pending.length > 0; round++) {
    let base: Base;
    let assumed = false;
    if (head) {
      base = head;
      head = undefined;
    } else if (round === 1 && pending.every((item) => item.options.assumeNew)) {
      // A new stream, as the commands expect: decided on the initial state, proven by the `no_stream` append.
      assumed = true;
      const loaded: LoadedStream<unknown> = { streamId, state: decider.initialState(), events: [], expectedRevision: 'no_stream' };
      base = { decider: decider.name, privacy, loaded, lastRevision: null, lastPosition: null, ours: new Map(), verified: false };
    } else {
      try {
        const loaded = await loadStream(store, decider, streamId, privacy, { cache });
        const last = loaded.events.at(-1);
        base = { decider: decider.name, privacy, loaded, lastRevision: last?.revision ?? null, lastPosition: last?.position ?? null, ours: new Map(), verified: true };
      } catch (error) {
        for (const item of pending) item.reject(error);
        return;
      }
    }
    const decisions = new Map<Queued, Decision>();
    const firstOf = new Map<string, Queued>();
    const toAppend: NewEvent[] = [];
    let state = base.loaded.state;
    let final = 0; // decisions before the first one that appends
    for (const item of pending) {
      item.attempts++;
      const decision = await decideOne(item, base, state, toAppend, firstOf);
      decisions.set(item, decision);
      if ('state' in decision) state = decision.state;
      if (toAppend.length === 0 && base.verified) final++;
    }
    if (toAppend.length === 0) {
      if (!base.verified) {
        // Nothing appended, so nothing proved this state current: decide again on the stream as read (not an attempt).
        for (const item of pending) item.attempts--;
        continue;
      }
      for (const item of pending) settle(item, decisions.get(item)!, base, null, decisions);
      return;
    }
    let written: AppendResult;
    try {
      written = await store.append(streamId, toAppend, { expectedRevision: base.loaded.expectedRevision });
    } catch (error) {
      for (const item of pending.slice(0, final)) settle(item, decisions.get(item)!, base, null, decisions);
      if (!(error instanceof WrongExpectedVersion)) {
        // The append failed as a whole (the database, a bug): nothing of it is known to be written.
        for (const item of pending.slice(final)) item.reject(error);
        return;
      }
      // Another process wrote the stream since the load: the decisions that rested on the state this
      // batch would have written are taken again on the fresh state, within each command's budget.
      const again: Queued[] = [];
      // The stream assumed new exists: read it now; that round was no race (not an attempt).
      if (assumed) for (const item of pending) item.attempts--;
      for (const item of pending.slice(final)) {
        if (item.attempts >= item.maxAttempts) item.reject(new ConcurrencyConflict(streamId, item.attempts, { cause: error }));
        else again.push(item);
      }
      pending = again;
      // A stale head needs no backoff: the stream is read now. A conflict on a read state is a race.
      if (pending.length > 0 && base.verified) await backoff(round);
      continue;
    }
    const batch: WrittenBatch = { toAppend, written, firstRevision: typeof base.loaded.expectedRevision === 'number' ? base.loaded.expectedRevision + 1 : 0 };
    const done = pending;
    const settleAll = (positions: readonly Position[]) => {
      for (const item of done) settle(item, decisions.get(item)!, base, { ...batch, positions }, decisions);
    };
    const answered = (written as AppendResult & { positions?: Position[] }).positions;
    if (answered && answered.length === toAppend.length) {
      settleAll(answered);
      if (queue && cache !== false && pending.length + base.ours.size <= MAX_UNREAD_COMMANDS && !hasPersonal(base, toAppend)) {
        queue.head = nextHead(base, state, done, decisions, { ...batch, positions: answered });
      }
      return;
    }
    // Positions the append did not answer (EventStoreDB: the last only) are read after the stream is
    // free for the next batch, so the read does not hold the hot stream up.
    void positionsOf(store, streamId, batch, decisions)
      .then(settleAll)
      .catch((error: unknown) => done.forEach((item) => item.reject(error)));
    return;
  }
}

/** Personal data in the stream as read or in this batch: then the next batch reads the stream (nothing decrypted is kept). */
function hasPersonal(base: Base, toAppend: readonly NewEvent[]): boolean {
  return toAppend.some((e) => hasPersonalField(e.data)) || base.loaded.events.some((e) => hasPersonalField(e.data));
}

/** The stream as this batch left it: the state after it, its last revision, and its commands for idempotency. */
function nextHead(base: Base, state: unknown, items: readonly Queued[], decisions: ReadonlyMap<Queued, Decision>, batch: WrittenBatch & { positions: readonly Position[] }): Base {
  const ours = new Map(base.ours);
  for (const item of items) {
    const d = decisions.get(item)!;
    if (d.kind !== 'append') continue;
    const last = d.from + d.count - 1;
    ours.set(item.options.metadata.commandId, { actor: item.options.metadata.actor, commandType: item.command.type, events: d.events, revision: batch.firstRevision + last, position: batch.positions[last]! });
  }
  const lastRevision = batch.written.nextExpectedRevision;
  return { ...base, loaded: { ...base.loaded, state, expectedRevision: lastRevision }, lastRevision, lastPosition: batch.written.position, ours, verified: false };
}

/** The earlier run of a command id on the stream: in the events as read, or appended by this process since. */
function earlierRun(base: Base, decider: Queued['options']['decider'], commandId: string): EarlierRun | undefined {
  const mine = base.ours.get(commandId);
  if (mine) return mine;
  const earlier = base.loaded.events.filter((e) => e.metadata.commandId === commandId);
  if (earlier.length === 0) return undefined;
  const last = earlier.at(-1)!;
  return {
    actor: earlier[0]!.metadata.actor,
    commandType: earlier[0]!.metadata.commandType,
    events: earlier.map((e) => decider.upcast({ type: e.type, schemaVersion: e.schemaVersion, data: e.data })),
    revision: last.revision,
    position: last.position,
  };
}

async function decideOne(item: Queued, base: Base, state: unknown, toAppend: NewEvent[], firstOf: Map<string, Queued>): Promise<Decision> {
  const { options, command } = item;
  const { decider, streamId, metadata, privacy } = options;
  try {
    options.authorize?.(state);

    // Idempotency: this command id already appended here (or earlier in this batch) → its first
    // result, nothing appended.
    const earlier = earlierRun(base, decider, metadata.commandId);
    const first = firstOf.get(metadata.commandId);
    if (earlier || first) {
      // A command id is an idempotency key of the actor who first sent it: someone else replaying it
      // (another patient posting a copied form) must not receive, or act on, the first result.
      const firstActor = earlier ? earlier.actor : first!.options.metadata.actor;
      if (firstActor && (firstActor.id !== metadata.actor.id || firstActor.role !== metadata.actor.role)) {
        throw new ForbiddenError('this command id was sent by another user', { commandId: metadata.commandId, streamId });
      }
      const firstType = earlier ? earlier.commandType : first!.command.type;
      if (typeof firstType === 'string' && firstType !== command.type) {
        throw new CommandIdReusedError({ commandId: metadata.commandId, streamId, firstCommandType: firstType, commandType: command.type });
      }
      return earlier ? { kind: 'earlier', run: earlier, state } : { kind: 'repeat', of: first!, state };
    }

    // The context sees the state the commands before it in the batch left (events: as last read).
    const view: LoadedStream<unknown> = { ...base.loaded, state };
    const context = typeof options.context === 'function' ? await (options.context as (l: LoadedStream<unknown>) => AnyContext | Promise<AnyContext>)(view) : options.context;
    const decided = decider.decide(command, state, context) as AnyEvent[]; // a DomainError is this command's own
    if (decided.length === 0) return { kind: 'none', after: toAppend.length, state };

    // A patient's IP and user agent are sealed under their key, never stored in plaintext.
    const meta = await sealOrigin(privacy, eventMetadata(metadata, command.type, context.now));
    const mine: NewEvent[] = [];
    for (const event of decided) {
      const stored = privacy ? await privacy.encryptEvent(event) : event;
      if (hasPlaintextPersonal(stored)) throw new PlaintextPersonalDataError(streamId, stored.type);
      mine.push({ type: stored.type, schemaVersion: stored.schemaVersion, data: stored.data as JsonObject, metadata: meta });
    }
    const from = toAppend.length;
    toAppend.push(...mine);
    firstOf.set(metadata.commandId, item);
    return { kind: 'append', events: decided, from, count: decided.length, state: decided.reduce(decider.evolve, state) };
  } catch (error) {
    return { kind: 'error', error };
  }
}

interface WrittenBatch {
  readonly toAppend: readonly NewEvent[];
  readonly written: AppendResult;
  /** Revision of the batch's first event. */
  readonly firstRevision: number;
}

/** Index in the batch of the last event a decision's result points at (-1: none of the batch's). */
function lastIndexOf(decision: Decision, decisions: ReadonlyMap<Queued, Decision>): number {
  switch (decision.kind) {
    case 'append':
      return decision.from + decision.count - 1;
    case 'none':
      return decision.after - 1;
    case 'repeat':
      return lastIndexOf(decisions.get(decision.of)!, decisions);
    default:
      return -1;
  }
}

/**
 * Every event's position, read back when the append answered only the last one's (EventStoreDB) and
 * a result needs another. Should that read fail, the batch's last position stands in: the batch was
 * written in one append, so its events become visible together and waiting for the last one is a
 * correct, if slightly longer, read-your-writes.
 */
async function positionsOf(store: EventStore, streamId: string, batch: WrittenBatch, decisions: ReadonlyMap<Queued, Decision>): Promise<Position[]> {
  const count = batch.toAppend.length;
  const all = Array.from({ length: count }, () => batch.written.position);
  const needed = [...decisions.values()].map((d) => lastIndexOf(d, decisions));
  if (!needed.some((i) => i >= 0 && i < count - 1)) return all;
  try {
    const read = await store.readStream(streamId, { fromRevision: batch.firstRevision, maxCount: count });
    for (const e of read) {
      const i = e.revision - batch.firstRevision;
      if (i >= 0 && i < count) all[i] = e.position;
    }
  } catch {
    // the last position stands in (see above)
  }
  return all;
}

/** The command's own result (or error) from its decision and, when the batch appended, what was written. */
function settle(item: Queued, decision: Decision, base: Base, batch: (WrittenBatch & { positions: readonly Position[] }) | null, decisions: ReadonlyMap<Queued, Decision>): void {
  const { streamId } = item.options;
  if (decision.kind === 'error') return item.reject(decision.error);
  const attempts = item.attempts;
  if (decision.kind === 'earlier') {
    const { run } = decision;
    return item.resolve({ streamId, events: run.events, nextExpectedRevision: run.revision, position: run.position, duplicate: true, state: decision.state, attempts });
  }
  // Where the result points: an event of this batch, or the stream's last before it.
  const index = lastIndexOf(decision, decisions);
  const revision = index >= 0 && batch ? batch.firstRevision + index : base.lastRevision;
  const position = index >= 0 && batch ? batch.positions[index]! : base.lastPosition;
  const events = decision.kind === 'none' ? [] : decision.kind === 'append' ? decision.events : (decisions.get(decision.of) as Extract<Decision, { kind: 'append' }>).events;
  item.resolve({ streamId, events, nextExpectedRevision: revision, position, duplicate: decision.kind === 'repeat', state: decision.state, attempts });
}

/** The later of two positions (null-tolerant), for the result of a command that wrote several streams. */
export function laterPosition(...positions: Array<Position | null | undefined>): Position | null {
  let best: Position | null = null;
  for (const p of positions) if (p && (!best || comparePositions(p, best) > 0)) best = p;
  return best;
}
