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
  let recorded: RecordedEvent[];
  try {
    recorded = usable ? await store.readStream(streamId, { fromRevision: usable.events.length }) : await store.readStream(streamId);
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

interface Queued {
  readonly options: HandleOptions<{ type: string }, AnyEvent, unknown, AnyContext>;
  readonly command: { type: string };
  readonly maxAttempts: number;
  attempts: number;
  readonly resolve: (result: CommandResult<AnyEvent, unknown>) => void;
  readonly reject: (error: unknown) => void;
}

interface StreamQueue {
  readonly waiting: Queued[];
  running: boolean;
}
const streamQueues = new WeakMap<EventStore, Map<string, StreamQueue>>();

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
    if (options.serialize === false) void runBatch([item]);
    else enqueue(item);
  });
}

function enqueue(item: Queued): void {
  const { store, streamId } = item.options;
  let queues = streamQueues.get(store);
  if (!queues) streamQueues.set(store, (queues = new Map()));
  let queue = queues.get(streamId);
  if (!queue) queues.set(streamId, (queue = { waiting: [], running: false }));
  queue.waiting.push(item);
  if (!queue.running) void drain(queues, streamId, queue);
}

/** Runs the stream's batches one after another until nothing waits (started at once: no added latency). */
async function drain(queues: Map<string, StreamQueue>, streamId: string, queue: StreamQueue): Promise<void> {
  queue.running = true;
  try {
    while (queue.waiting.length > 0) await runBatch(takeBatch(queue.waiting));
  } finally {
    queue.running = false;
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
  /** Its command id was recorded on the stream already: the first run's events. */
  | { kind: 'recorded'; earlier: RecordedEvent[]; state: unknown }
  /** Its command id came earlier in this batch: that command's result. */
  | { kind: 'repeat'; of: Queued; state: unknown }
  /** Events to append: `count` of the batch's events from index `from`. */
  | { kind: 'append'; events: readonly AnyEvent[]; from: number; count: number; state: unknown };

/**
 * Loads once, decides each command in order against the evolving state, appends all events with one
 * expected revision. Settles every command itself and never throws. A decision taken before any
 * command of the round decided events rests on the stored state only, so it is final even if the
 * append then conflicts; the later ones are decided again after the reload.
 */
async function runBatch(items: Queued[]): Promise<void> {
  try {
    await runRounds(items);
  } catch (error) {
    // Only a bug gets here (runRounds settles every command itself); settled ones ignore this.
    for (const item of items) item.reject(error);
  }
}

async function runRounds(items: Queued[]): Promise<void> {
  const { store, decider, streamId, privacy, cache } = items[0]!.options;
  let pending = items;
  for (let round = 1; pending.length > 0; round++) {
    let loaded: LoadedStream<unknown>;
    try {
      loaded = await loadStream(store, decider, streamId, privacy, { cache });
    } catch (error) {
      for (const item of pending) item.reject(error);
      return;
    }
    const decisions = new Map<Queued, Decision>();
    const firstOf = new Map<string, Queued>();
    const toAppend: NewEvent[] = [];
    let state = loaded.state;
    let final = 0; // decisions before the first one that appends
    for (const item of pending) {
      item.attempts++;
      const decision = await decideOne(item, loaded, state, toAppend, firstOf);
      decisions.set(item, decision);
      if ('state' in decision) state = decision.state;
      if (toAppend.length === 0) final++;
    }
    if (toAppend.length === 0) {
      for (const item of pending) settle(item, decisions.get(item)!, loaded, null, decisions);
      return;
    }
    let written: AppendResult;
    try {
      written = await store.append(streamId, toAppend, { expectedRevision: loaded.expectedRevision });
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) {
        // The append failed as a whole (the database, a bug): nothing of it is known to be written.
        for (const item of pending.slice(final)) item.reject(error);
        for (const item of pending.slice(0, final)) settle(item, decisions.get(item)!, loaded, null, decisions);
        return;
      }
      // Another process wrote the stream since the load: the decisions that rested on the state this
      // batch would have written are taken again on the fresh state, within each command's budget.
      for (const item of pending.slice(0, final)) settle(item, decisions.get(item)!, loaded, null, decisions);
      const again: Queued[] = [];
      for (const item of pending.slice(final)) {
        if (item.attempts >= item.maxAttempts) item.reject(new ConcurrencyConflict(streamId, item.attempts, { cause: error }));
        else again.push(item);
      }
      pending = again;
      if (pending.length > 0) await backoff(round);
      continue;
    }
    const batch: WrittenBatch = { toAppend, written, firstRevision: typeof loaded.expectedRevision === 'number' ? loaded.expectedRevision + 1 : 0 };
    // The positions of the events before the last are read after the stream is free for the next
    // batch (see positionsOf), so the read does not hold the hot stream up.
    const settled = pending;
    void positionsOf(store, streamId, batch, decisions)
      .then((positions) => {
        for (const item of settled) settle(item, decisions.get(item)!, loaded, { ...batch, positions }, decisions);
      })
      .catch((error: unknown) => settled.forEach((item) => item.reject(error)));
    return;
  }
}

async function decideOne(item: Queued, loaded: LoadedStream<unknown>, state: unknown, toAppend: NewEvent[], firstOf: Map<string, Queued>): Promise<Decision> {
  const { options, command } = item;
  const { decider, streamId, metadata, privacy } = options;
  try {
    options.authorize?.(state);

    // Idempotency: this command id already appended here → its first result, nothing appended.
    const earlier = loaded.events.filter((e) => e.metadata.commandId === metadata.commandId);
    const first = firstOf.get(metadata.commandId);
    if (earlier.length > 0 || first) {
      // A command id is an idempotency key of the actor who first sent it: someone else replaying it
      // (another patient posting a copied form) must not receive, or act on, the first result.
      const firstActor = earlier.length > 0 ? earlier[0]!.metadata.actor : first!.options.metadata.actor;
      if (firstActor && (firstActor.id !== metadata.actor.id || firstActor.role !== metadata.actor.role)) {
        throw new ForbiddenError('this command id was sent by another user', { commandId: metadata.commandId, streamId });
      }
      const firstType = earlier.length > 0 ? earlier[0]!.metadata.commandType : first!.command.type;
      if (typeof firstType === 'string' && firstType !== command.type) {
        throw new CommandIdReusedError({ commandId: metadata.commandId, streamId, firstCommandType: firstType, commandType: command.type });
      }
      return earlier.length > 0 ? { kind: 'recorded', earlier, state } : { kind: 'repeat', of: first!, state };
    }

    // The context sees the state the commands before it in the batch left (events: as stored).
    const view: LoadedStream<unknown> = { ...loaded, state };
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
  /** Position of each of the batch's events (index in toAppend). */
  readonly positions?: ReadonlyArray<Position>;
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
 * Every event's position. The append answers the last one's; the others' are read back when a
 * result needs them (several commands in the batch). Should that read fail, the batch's last position
 * stands in: the batch was written in one transaction, so its events become visible together and
 * waiting for the last one is a correct, if slightly longer, read-your-writes.
 */
async function positionsOf(store: EventStore, streamId: string, batch: WrittenBatch, decisions: ReadonlyMap<Queued, Decision>): Promise<Position[]> {
  const count = batch.toAppend.length;
  const fromStore = (batch.written as { positions?: Position[] }).positions;
  if (fromStore && fromStore.length === count) return fromStore;
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
function settle(item: Queued, decision: Decision, loaded: LoadedStream<unknown>, batch: (WrittenBatch & { positions: readonly Position[] }) | null, decisions: ReadonlyMap<Queued, Decision>): void {
  const { decider, streamId } = item.options;
  if (decision.kind === 'error') return item.reject(decision.error);
  const attempts = item.attempts;
  if (decision.kind === 'recorded') {
    const last = decision.earlier.at(-1)!;
    return item.resolve({
      streamId,
      events: decision.earlier.map((e) => decider.upcast({ type: e.type, schemaVersion: e.schemaVersion, data: e.data })),
      nextExpectedRevision: last.revision,
      position: last.position,
      duplicate: true,
      state: decision.state,
      attempts,
    });
  }
  // Where the result points: an event of this batch, or the stream's last as loaded.
  const index = lastIndexOf(decision, decisions);
  const loadedLast = loaded.events.at(-1);
  const revision = index >= 0 && batch ? batch.firstRevision + index : (loadedLast?.revision ?? null);
  const position = index >= 0 && batch ? batch.positions[index]! : (loadedLast?.position ?? null);
  const events = decision.kind === 'none' ? [] : decision.kind === 'append' ? decision.events : (decisions.get(decision.of) as Extract<Decision, { kind: 'append' }>).events;
  item.resolve({ streamId, events, nextExpectedRevision: revision, position, duplicate: decision.kind === 'repeat', state: decision.state, attempts });
}

/** The later of two positions (null-tolerant), for the result of a command that wrote several streams. */
export function laterPosition(...positions: Array<Position | null | undefined>): Position | null {
  let best: Position | null = null;
  for (const p of positions) if (p && (!best || comparePositions(p, best) > 0)) best = p;
  return best;
}
