/**
 * The generic command handler (DESIGN §2–§3): load the stream (state folded from its events),
 * decide, append with the expected revision; on WrongExpectedVersion reload and decide again, a
 * bounded number of times. Idempotent by command id. See docs/commands.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Decider } from '../domain';
import { hasPlaintextPersonal, type PersonalField } from '../domain/patient/personal';
import { sealOrigin } from '../privacy/origin';
import {
  comparePositions,
  StreamNotFound,
  WrongExpectedVersion,
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
  /** Queue behind this process's other commands on the stream (default true; see `serialized`). */
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
 * Commands on one stream from this process run one at a time (per store and stream), in arrival order.
 * Without it, N concurrent commands on a hot stream (a busy clinic day) race: one append wins and
 * N − 1 reload and retry, so work grows with N² and the retry budget runs out (measured: bench/commands.ts,
 * docs/PERFORMANCE.md). Queued, each loads the state the previous one wrote and appends at once. Other
 * processes still race on the expected revision, which stays the guard; the queue only removes the
 * conflicts a process would have with itself.
 */
const streamQueues = new WeakMap<EventStore, Map<string, Promise<unknown>>>();

async function serialized<T>(store: EventStore, streamId: string, work: () => Promise<T>): Promise<T> {
  let queues = streamQueues.get(store);
  if (!queues) streamQueues.set(store, (queues = new Map()));
  const previous = queues.get(streamId) ?? Promise.resolve();
  const mine = previous.then(work, work);
  const tail = mine.catch(() => undefined);
  queues.set(streamId, tail);
  try {
    return await mine;
  } finally {
    if (queues.get(streamId) === tail) queues.delete(streamId);
  }
}

export async function handle<C extends { type: string }, E extends { type: string; schemaVersion: number; data: unknown }, S, Ctx extends { now: Date }>(
  options: HandleOptions<C, E, S, Ctx>,
): Promise<CommandResult<E, S>> {
  if (options.serialize === false) return handleNow(options);
  return serialized(options.store, options.streamId, () => handleNow(options));
}

async function handleNow<C extends { type: string }, E extends { type: string; schemaVersion: number; data: unknown }, S, Ctx extends { now: Date }>(
  options: HandleOptions<C, E, S, Ctx>,
): Promise<CommandResult<E, S>> {
  const { store, decider, streamId, metadata, privacy } = options;
  const command = parseCommand<C>(decider as never, options.command);
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  let lastConflict: WrongExpectedVersion | undefined;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const loaded = await loadStream(store, decider, streamId, privacy, { cache: options.cache });
    options.authorize?.(loaded.state);

    // Idempotency: this command id already appended here → its first result, nothing appended.
    const earlier = loaded.events.filter((e) => e.metadata.commandId === metadata.commandId);
    if (earlier.length > 0) {
      // A command id is an idempotency key of the actor who first sent it: someone else replaying it
      // (another patient posting a copied form) must not receive, or act on, the first result.
      const firstActor = earlier[0]!.metadata.actor;
      if (firstActor && (firstActor.id !== metadata.actor.id || firstActor.role !== metadata.actor.role)) {
        throw new ForbiddenError('this command id was sent by another user', { commandId: metadata.commandId, streamId });
      }
      const firstType = earlier[0]!.metadata.commandType;
      if (typeof firstType === 'string' && firstType !== command.type) {
        throw new CommandIdReusedError({ commandId: metadata.commandId, streamId, firstCommandType: firstType, commandType: command.type });
      }
      const last = earlier.at(-1)!;
      return {
        streamId,
        events: earlier.map((e) => decider.upcast({ type: e.type, schemaVersion: e.schemaVersion, data: e.data })),
        nextExpectedRevision: last.revision,
        position: last.position,
        duplicate: true,
        state: loaded.state,
        attempts: attempt,
      };
    }

    const context = typeof options.context === 'function' ? await (options.context as (l: LoadedStream<S>) => Ctx | Promise<Ctx>)(loaded) : options.context;
    const decided = decider.decide(command, loaded.state, context); // DomainError passes through
    const lastEvent = loaded.events.at(-1);
    if (decided.length === 0) {
      return {
        streamId,
        events: [],
        nextExpectedRevision: lastEvent ? lastEvent.revision : null,
        position: lastEvent ? lastEvent.position : null,
        duplicate: false,
        state: loaded.state,
        attempts: attempt,
      };
    }

    // A patient's IP and user agent are sealed under their key, never stored in plaintext.
    const meta = await sealOrigin(privacy, eventMetadata(metadata, command.type, context.now));
    const toAppend: NewEvent[] = [];
    for (const event of decided) {
      const stored = privacy ? await privacy.encryptEvent(event) : event;
      if (hasPlaintextPersonal(stored)) throw new PlaintextPersonalDataError(streamId, stored.type);
      toAppend.push({ type: stored.type, schemaVersion: stored.schemaVersion, data: stored.data as JsonObject, metadata: meta });
    }
    try {
      const written = await store.append(streamId, toAppend, { expectedRevision: loaded.expectedRevision });
      return {
        streamId,
        events: decided,
        nextExpectedRevision: written.nextExpectedRevision,
        position: written.position,
        duplicate: false,
        state: decided.reduce(decider.evolve, loaded.state),
        attempts: attempt,
      };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
      lastConflict = error;
      if (attempt < maxAttempts) await backoff(attempt);
    }
  }
  throw new ConcurrencyConflict(streamId, maxAttempts, { cause: lastConflict });
}

/** The later of two positions (null-tolerant), for the result of a command that wrote several streams. */
export function laterPosition(...positions: Array<Position | null | undefined>): Position | null {
  let best: Position | null = null;
  for (const p of positions) if (p && (!best || comparePositions(p, best) > 0)) best = p;
  return best;
}
