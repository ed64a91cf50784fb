import type { z } from 'zod';
import type { RawEvent } from './events';

/**
 * The decider pattern: `decide(command, state, context) → events` and `evolve(state, event) → state`,
 * both pure. `context` carries everything that is not in this stream: `now`, facts loaded from other
 * aggregates, configured durations. The command handler loads state by folding the stream.
 */
export interface Decider<C extends { type: string }, E extends { type: string }, S, Ctx> {
  readonly name: string;
  decide(command: C, state: S, context: Ctx): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
  /** Zod schemas, for the command layer's parsing and the test helper's checks. */
  readonly commandSchema: z.ZodType<C>;
  readonly eventSchema: z.ZodType<E>;
  /** Older stored event versions → the current event union. */
  upcast(raw: RawEvent): E;
}

/** Replay events into state. */
export function fold<E, S>(evolve: (s: S, e: E) => S, initial: S, events: readonly E[]): S {
  return events.reduce(evolve, initial);
}

/** Guard for exhaustive switches. */
export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
