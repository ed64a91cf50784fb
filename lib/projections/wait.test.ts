/**
 * waitForProjections (read-your-writes): bounded, so a lagging or stopped worker gives 'timed-out'
 * after the bound (never hangs, never claims 'caught-up'); a projection still being built is not
 * caught up; a checkpoint moving past the position ends the wait on its notification.
 */
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_CHANNEL } from './engine';
import { allProjections } from './registry';
import { waitForProjections } from './wait';
import { createTestDatabase } from '../testing/db';

const t = await createTestDatabase();

const names = allProjections.map((p) => p.name);
async function setRegistry(checkpoint: bigint, status = 'live') {
  for (const p of allProjections) {
    await t.sql`
      insert into projection_registry (name, version, status, checkpoint_commit, checkpoint_prepare)
      values (${p.name}, ${p.version}, ${status}, ${checkpoint.toString()}::bigint, ${checkpoint.toString()}::bigint)
      on conflict (name) do update set version = excluded.version, status = excluded.status,
        checkpoint_commit = excluded.checkpoint_commit, checkpoint_prepare = excluded.checkpoint_prepare`;
  }
}
const at = (n: number) => ({ commit: BigInt(n), prepare: BigInt(n) });
async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await work();
  return { result, ms: Date.now() - started };
}

describe('waitForProjections', () => {
  it('times out after its bound when the projections stay behind the position', async () => {
    await setRegistry(100n);
    const { result, ms } = await timed(() => waitForProjections(at(101), { sql: t.sql, timeoutMs: 700, pollMs: 50 }));
    expect(result).toBe('timed-out');
    expect(ms).toBeGreaterThanOrEqual(650);
    expect(ms).toBeLessThan(3000);
    expect(await waitForProjections(at(100), { sql: t.sql, timeoutMs: 700 })).toBe('caught-up');
  });

  it('times out when no projection has ever run (no worker), and when one is still being built', async () => {
    await t.sql`delete from projection_registry`;
    expect(await waitForProjections(at(1), { sql: t.sql, timeoutMs: 300, pollMs: 50 })).toBe('timed-out');
    await setRegistry(500n);
    await t.sql`update projection_registry set status = 'building' where name = ${names[0]!}`;
    expect(await waitForProjections(at(1), { sql: t.sql, timeoutMs: 300, pollMs: 50 })).toBe('timed-out');
    // Only the named projections count.
    expect(await waitForProjections(at(1), { sql: t.sql, timeoutMs: 300, projections: names.slice(1) })).toBe('caught-up');
  });

  it('ends as soon as the worker’s notification says the checkpoint passed the position (not at the next poll)', async () => {
    await setRegistry(200n);
    const waiting = timed(() => waitForProjections(at(250), { sql: t.sql, timeoutMs: 10_000, pollMs: 60_000 }));
    await new Promise((r) => setTimeout(r, 400));
    await t.sql.begin(async (tx) => {
      await tx`update projection_registry set checkpoint_commit = 300, checkpoint_prepare = 300`;
      await tx`select pg_notify(${CHECKPOINT_CHANNEL}, '300:300')`;
    });
    const { result, ms } = await waiting;
    expect(result).toBe('caught-up');
    expect(ms).toBeLessThan(3000);
  });

  it('the waiters of one pool share their registry reads: fifty waiting, one notification, a few queries (not fifty each time)', async () => {
    await setRegistry(400n);
    let reads = 0;
    const sql = postgres(t.url, { max: 4, onnotice: () => {}, debug: (_connection, query) => void (query.includes('from projection_registry') && reads++) });
    try {
      const waits = Array.from({ length: 50 }, () => waitForProjections(at(450), { sql, timeoutMs: 10_000, pollMs: 60_000 }));
      await new Promise((r) => setTimeout(r, 500));
      const first = reads;
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(5);
      await t.sql.begin(async (tx) => {
        await tx`update projection_registry set checkpoint_commit = 450, checkpoint_prepare = 450`;
        await tx`select pg_notify(${CHECKPOINT_CHANNEL}, '450:450')`;
      });
      expect(await Promise.all(waits)).toEqual(Array(50).fill('caught-up'));
      expect(reads - first).toBeGreaterThan(0);
      expect(reads - first).toBeLessThan(5);
    } finally {
      await sql.end();
    }
  });
});
