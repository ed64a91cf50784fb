import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import postgres from 'postgres';
import { quoteIdent, withDatabase } from '../runtime/postgres-server';
import { connect, type Database } from '../db/client';

export interface TestDatabase extends Database {
  url: string;
  name: string;
}

/**
 * A fresh, migrated database of this test file's own, cloned from the run's template
 * and dropped after the file's tests. Call at module level or in beforeAll.
 */
export async function createTestDatabase(options: { max?: number } = {}): Promise<TestDatabase> {
  // The access log is chained with a key derived from EVENT_HMAC_KEY: a file run on its own
  // (`npx vitest run <file>`, without the run's secrets) gets one of its own.
  process.env.EVENT_HMAC_KEY ||= randomBytes(32).toString('base64');
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplateDatabase');
  const name = `yeyak_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  // CREATE DATABASE … TEMPLATE needs the template to have no other sessions; retry briefly if a clone is in flight.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database ${quoteIdent(name)} template ${quoteIdent(template)}`);
      break;
    } catch (error) {
      if (attempt >= 20 || !String((error as Error).message).includes('is being accessed by other users')) throw error;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  const url = withDatabase(adminUrl, name);
  const database = connect(url, options);
  const testDb: TestDatabase = {
    ...database,
    url,
    name,
    close: async () => {
      await database.close();
      await admin.unsafe(`drop database if exists ${quoteIdent(name)} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
  afterAll(() => testDb.close());
  return testDb;
}

/**
 * What the PostgreSQL event store holds right now, read from its table. Unlike readAll (which reads
 * only up to the oldest transaction still running anywhere on the server, so that no reader ever
 * skips an event), this is exact at once: for "nothing more was appended" checks in tests.
 */
export async function storedEvents(sql: postgres.Sql, filter: { type?: string } = {}): Promise<{ count: number; lastEventId: string | undefined }> {
  const [row] = await sql<{ count: number; last: string | null }[]>`
    select count(*)::int as count, (array_agg(event_id::text order by position desc))[1] as last
    from es_events where ${filter.type ? sql`type = ${filter.type}` : sql`true`}`;
  return { count: row?.count ?? 0, lastEventId: row?.last ?? undefined };
}
