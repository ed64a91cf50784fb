import { vi } from 'vitest';

/**
 * Retries `check` until it passes (process managers and projections run asynchronously in the worker),
 * failing with its last error after `timeoutMs`. Vitest's own waitFor, with the interval these tests use.
 */
export function eventually(check: () => Promise<void> | void, timeoutMs = 15_000): Promise<void> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 25 });
}
