/**
 * A COPY needs a connection of its own. On a pool whose connections are all busy, postgres.js pipelines
 * the next query behind a running one; behind a COPY the server reads that query's message while it
 * expects COPY data, ends the session ("protocol synchronization was lost") and the client's next
 * write fails with EPIPE. This is how the 1M-event rebuild failed at its end: the eight revision tables
 * were COPYed at once on the worker's pool of eight, which the live worker was also using.
 */
import { getTableColumns } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEventStore } from '../eventstore';
import { createTestDatabase, type TestDatabase } from '../testing/db';
import { rebuildProjections } from './rebuild';
import { allProjections } from './registry';
import { copyRows } from './row-store';
import { revisionTable } from './revision-table';
import { appendOne, generateHistory } from './testing';

let t: TestDatabase;
const table = revisionTable('copy_pool_test');
const columns = Object.entries(getTableColumns(table) as Record<string, PgColumn>);
const rows = (prefix: string) => Array.from({ length: 20_000 }, (_, i) => ({ streamId: `${prefix}-${i}`, revision: i }));

beforeAll(async () => {
  t = await createTestDatabase({ max: 2 });
  await t.sql`create table copy_pool_test (stream_id text primary key, revision bigint not null)`;
});

describe('copyRows', () => {
  it('copies in transactions, more at once than the pool has connections', async () => {
    await Promise.all(['a', 'b', 'c', 'd'].map((p) => t.sql.begin((tx) => copyRows(tx, 'copy_pool_test', columns, rows(p)))));
    const [{ n }] = (await t.sql`select count(*)::int as n from copy_pool_test`) as unknown as [{ n: number }];
    expect(n).toBe(80_000);
  });

  it('refuses a pool (a COPY there may have a query pipelined behind it) with an error saying why', async () => {
    await expect(copyRows(t.sql as never, 'copy_pool_test', columns, rows('e'))).rejects.toThrow(/connection of its own/);
  });

  it('a rebuild of every projection on a pool of two connections succeeds (its revision tables COPYed in transactions)', { timeout: 120_000 }, async () => {
    const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'copy-pool-test-hmac-key' });
    for (const a of generateHistory({ events: 60, seed: 7 })) await appendOne(store, a);
    const result = await rebuildProjections({ store, database: t, projections: allProjections, pageSize: 25 });
    expect(result.events).toBe((await store.readAll({ maxCount: 10_000 })).length);
    const [{ n }] = (await t.sql`select count(*)::int as n from projection_registry where status = 'live' and rebuild_error is null`) as unknown as [{ n: number }];
    expect(n).toBe(allProjections.length);
  });
});
