/**
 * A build's memory: the rows it keeps across pages stay within their budget (the least recently used
 * let go of, read back from the shadow tables), and everything it kept — row stores, known keys,
 * streams' revisions — is let go of when it ends, switched live or failed, and no longer reachable.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEventStore, type EventStore } from '../eventstore';
import { createTestDatabase, type TestDatabase } from '../testing/db';
import { rebuildProjections, type RebuildMemory } from './rebuild';
import { allProjections } from './registry';
import { appendOne, generateHistory } from './testing';

let t: TestDatabase;
let store: EventStore;
let events = 0;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

beforeAll(async () => {
  t = await createTestDatabase();
  store = await createEventStore({ databaseUrl: t.url, hmacKey: 'rebuild-memory-test-hmac-key' });
  for (const a of generateHistory({ events: 600, seed: 11 })) await appendOne(store, a);
  events = (await store.readAll({ maxCount: 100_000 })).length;
}, 120_000);

const held = (memory: RebuildMemory) => ({
  rows: memory.budget.rows,
  knownKeys: memory.budget.knownKeys,
  stores: [...memory.stores.values()].map((s) => s.size).filter((s) => s.retained > 0 || s.known > 0).length,
  revisions: memory.revisions.size,
});

describe('rebuild memory', () => {
  it('keeps at most the budget of rows after each page, and lets go of everything once switched live', { timeout: 120_000 }, async () => {
    let memory: RebuildMemory | undefined;
    let during: ReturnType<typeof held> | undefined;
    const result = await rebuildProjections({
      store,
      database: t,
      projections: allProjections,
      pageSize: 50,
      retainedRows: 60,
      onMemory: (m) => (memory = m),
      onProgress: (p) => {
        if (p.phase === 'copying' && memory) during = held(memory);
      },
    });
    expect(result.events).toBe(events);
    expect(result.memory!.retainedRowsPeak).toBeGreaterThan(0);
    expect(result.memory!.retainedRowsPeak).toBeLessThanOrEqual(60);
    expect(result.memory!.knownKeys).toBeGreaterThan(60);
    expect(result.memory!.streams).toBeGreaterThan(0);
    // While it copied it did hold something (so "nothing held" below says something).
    expect(during!.knownKeys).toBeGreaterThan(0);
    expect(during!.revisions).toBeGreaterThan(0);
    expect(held(memory!)).toEqual({ rows: 0, knownKeys: 0, stores: 0, revisions: 0 });
  });

  it('lets go of everything when the build fails', { timeout: 120_000 }, async () => {
    let memory: RebuildMemory | undefined;
    const abort = new AbortController();
    let reads = 0;
    // Aborted once a few pages are in (the rebuild checks its signal between pages).
    const counting = new Proxy(store, {
      get(target, property) {
        if (property === 'readAll') {
          return (...args: Parameters<EventStore['readAll']>) => {
            if (++reads === 4) abort.abort();
            return target.readAll(...args);
          };
        }
        const value = Reflect.get(target, property) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(
      rebuildProjections({ store: counting, database: t, projections: allProjections, pageSize: 50, signal: abort.signal, onMemory: (m) => (memory = m) }),
    ).rejects.toThrow(/aborted/);
    expect(reads).toBeGreaterThanOrEqual(4);
    expect(held(memory!)).toEqual({ rows: 0, knownKeys: 0, stores: 0, revisions: 0 });
  });

  it('keeps nothing reachable after it ends (no module-level or long-lived reference to its stores)', { timeout: 120_000 }, async () => {
    const refs: Array<WeakRef<object>> = [];
    await rebuildProjections({
      store,
      database: t,
      projections: allProjections,
      pageSize: 100,
      onMemory: (m) => {
        refs.push(new WeakRef(m.budget), new WeakRef(m.revisions), ...[...m.stores.values()].map((s) => new WeakRef(s)));
      },
    });
    expect(refs.length).toBe(2 + allProjections.length);
    // WeakRef targets are kept until the current job ends: collect from a later task.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
  });
});
