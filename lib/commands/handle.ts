/**
 * The generic command handler (DESIGN §2–§3): load the stream (state folded from its events),
 * decide, append with the expected revision; on WrongExpectedVersion reload and decide again, a
 * bounded number of times. Idempotent by command id. See docs/commands.md.
 */
import type { Decider } from '../domain';
import { hasPlaintextPersonal } from '../domain/patient/personal';
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
import { CommandIdReusedError, ConcurrencyConflict, InvalidCommandError, PlaintextPersonalDataError } from './errors';
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

/** Reads the stream (an absent stream is the initial state) and folds it with the decider's upcast and evolve. */
export async function loadStream<C extends { type: string }, E extends { type: string }, S, Ctx>(
  store: EventStore,
  decider: AnyDecider<C, E, S, Ctx>,
  streamId: string,
  privacy?: PersonalDataProtection,
): Promise<LoadedStream<S>> {
  let recorded: RecordedEvent[];
  try {
    recorded = await store.readStream(streamId);
  } catch (error) {
    if (error instanceof StreamNotFound) recorded = [];
    else throw error;
  }
  let state = decider.initialState();
  const events: RecordedEvent[] = [];
  for (const r of recorded) {
    let e = r;
    if (privacy && hasPersonalField(r.data)) e = { ...r, data: (await privacy.decryptEvent({ type: r.type, data: r.data })).data };
    state = decider.evolve(state, decider.upcast({ type: e.type, schemaVersion: e.schemaVersion, data: e.data }));
    events.push(e);
  }
  const last = recorded.at(-1);
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

export async function handle<C extends { type: string }, E extends { type: string; schemaVersion: number; data: unknown }, S, Ctx extends { now: Date }>(
  options: HandleOptions<C, E, S, Ctx>,
): Promise<CommandResult<E, S>> {
  const { store, decider, streamId, metadata, privacy } = options;
  const command = parseCommand<C>(decider as never, options.command);
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  let lastConflict: WrongExpectedVersion | undefined;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const loaded = await loadStream(store, decider, streamId, privacy);

    // Idempotency: this command id already appended here → its first result, nothing appended.
    const earlier = loaded.events.filter((e) => e.metadata.commandId === metadata.commandId);
    if (earlier.length > 0) {
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

    const meta = eventMetadata(metadata, command.type, context.now);
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
