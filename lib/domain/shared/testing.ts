import { expect } from 'vitest';
import type { Decider } from './decider';
import { fold } from './decider';
import { DomainError } from './errors';

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Given/when/then for deciders (test code only):
 *
 *   const { given } = spec(reservationDecider);
 *   given([requested]).when(cancel, ctx).then([cancelled]);
 *   given([cancelled]).when(confirm, ctx).thenThrows(InvalidTransitionError, { code: 'reservation.invalid_transition' });
 *
 * Every given event and every produced event is validated against the aggregate's event schema,
 * and every command against its command schema, so tests also prove the schemas fit the deciders.
 */
export function spec<C extends { type: string }, E extends { type: string }, S, Ctx>(
  decider: Decider<C, E, S, Ctx>,
) {
  function given(events: readonly E[]) {
    for (const e of events) decider.eventSchema.parse(e);
    const state = fold(decider.evolve, decider.initialState(), events);
    return {
      state,
      when(command: C, context: Ctx) {
        const run = () => {
          decider.commandSchema.parse(command);
          return decider.decide(command, state, context);
        };
        return {
          /** The exact events produced (deep equality, in order). Returns them for further checks. */
          then(expected: readonly E[]): E[] {
            const produced = run();
            for (const e of produced) decider.eventSchema.parse(e);
            expect(produced).toEqual(expected);
            return produced;
          },
          /** Assert on the produced events and the state after them. */
          thenState(check: (after: S, produced: E[]) => void): void {
            const produced = run();
            for (const e of produced) decider.eventSchema.parse(e);
            check(fold(decider.evolve, state, produced), produced);
          },
          /** The command is refused with this error class (and, optionally, this code / details subset). */
          thenThrows(errorClass: ErrorClass, match?: { code?: string; details?: Record<string, unknown> }): Error {
            let caught: unknown;
            try {
              run();
            } catch (e) {
              caught = e;
            }
            expect(caught, 'expected the command to be refused').toBeInstanceOf(errorClass);
            if (match?.code !== undefined) {
              expect(caught).toBeInstanceOf(DomainError);
              expect((caught as DomainError).code).toBe(match.code);
            }
            if (match?.details !== undefined) {
              expect((caught as DomainError).details).toMatchObject(match.details);
            }
            return caught as Error;
          },
        };
      },
    };
  }
  return { given };
}
