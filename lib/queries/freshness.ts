/**
 * Read-your-writes for pages and server actions: wait (bounded) until the read models have applied
 * the position a command wrote. 'timed-out' means the page should say "still processing".
 */
import type { Position } from '../eventstore';
import { waitForProjections, type WaitResult } from '../projections/wait';

export type { WaitResult };

export function waitForReadModels(position: Position | null | undefined, options?: { timeoutMs?: number }): Promise<WaitResult> {
  if (!position) return Promise.resolve('caught-up');
  return waitForProjections(position, options);
}
