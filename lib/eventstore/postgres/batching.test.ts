import { describe, expect, it } from 'vitest';
import { newEventId } from '../envelope';
import { PostgresEventStore } from './store';

const HMAC_KEY = 'batching-test-key-0123456789abcdef';

/**
 * How the store forms batches under a closed loop of writers (each waits for its append, then appends
 * again), with the database replaced by a fake batch writer that takes the same time whatever a batch
 * holds. No database: the pool never connects.
 */
async function batchSizes(options: { balancedBatches: boolean }): Promise<number[]> {
  const store = new PostgresEventStore({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', hmacKey: HMAC_KEY, ...options });
  const sizes: number[] = [];
  type Member = { resolve: (r: unknown) => void };
  (store as unknown as { writeBatch: (batch: Member[]) => Promise<void> }).writeBatch = async (batch) => {
    sizes.push(batch.length);
    await new Promise((r) => setTimeout(r, 2));
    for (const m of batch) m.resolve({ nextExpectedRevision: 0, position: { commit: 1n, prepare: 1n }, positions: [] });
  };
  const event = () => ({ eventId: newEventId(), type: 'Tested', schemaVersion: 1, data: {}, metadata: { actor: { id: 'tester', role: 'system' }, occurredAt: new Date().toISOString(), commandId: newEventId(), correlationId: newEventId(), causationId: null } });
  await Promise.all(
    Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; i < 30; i++) await store.append(`writer-${w}`, [event()]);
    }),
  );
  await store.close();
  return sizes;
}

describe('group commit batch forming (two batches in flight)', () => {
  it('keeps 16 closed-loop writers in batches of similar size, not 15 and 1', async () => {
    const sizes = await batchSizes({ balancedBatches: true });
    const steady = sizes.slice(10, -10);
    expect(steady.length).toBeGreaterThan(20);
    // Appends per transaction: 16 writers over two batches in flight.
    expect(steady.reduce((a, b) => a + b, 0) / steady.length).toBeGreaterThanOrEqual(7);
    expect(Math.max(...steady)).toBeLessThanOrEqual(12);
    expect(Math.min(...steady)).toBeGreaterThanOrEqual(4);
  });

  it('without balancing the same loop settles into a full batch and a batch of one (what the balance fixes)', async () => {
    const sizes = await batchSizes({ balancedBatches: false });
    const steady = sizes.slice(10, -10);
    expect(steady.filter((n) => n === 1).length).toBeGreaterThan(steady.length / 3);
  });

  it('a lone append goes at once, alone', async () => {
    const store = new PostgresEventStore({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', hmacKey: HMAC_KEY });
    const sizes: number[] = [];
    (store as unknown as { writeBatch: (batch: Array<{ resolve: (r: unknown) => void }>) => Promise<void> }).writeBatch = async (batch) => {
      sizes.push(batch.length);
      for (const m of batch) m.resolve({ nextExpectedRevision: 0, position: { commit: 1n, prepare: 1n }, positions: [] });
    };
    const pending = store.append('alone', [{ eventId: newEventId(), type: 'Tested', schemaVersion: 1, data: {}, metadata: { actor: { id: 'tester', role: 'system' }, occurredAt: new Date().toISOString(), commandId: newEventId(), correlationId: newEventId(), causationId: null } }]);
    // Started synchronously, before any timer or I/O turn.
    expect(sizes).toEqual([1]);
    await pending;
    await store.close();
  });
});
