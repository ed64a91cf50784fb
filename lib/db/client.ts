import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import * as schema from './schema';

export type Db = PostgresJsDatabase<typeof schema>;
/** A Db or a transaction on it: what functions that may run inside a caller's transaction accept. */
export type DbOrTx = Db | Parameters<Parameters<Db['transaction']>[0]>[0];
export interface Database {
  sql: postgres.Sql;
  db: Db;
  close(): Promise<void>;
}

export function connect(url: string, options: { max?: number } = {}): Database {
  const sql = postgres(url, { max: options.max ?? 10, onnotice: () => {} });
  const db = drizzle(sql, { schema });
  return { sql, db, close: () => sql.end({ timeout: 5 }) };
}

const globalForDb = globalThis as unknown as { yeyakDatabase?: Database };

/** The app's shared connection pool (one per server process), from DATABASE_URL. */
export function appDatabase(): Database {
  if (!globalForDb.yeyakDatabase) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set: start the app with `npm start`, which sets it up.');
    globalForDb.yeyakDatabase = connect(url);
  }
  return globalForDb.yeyakDatabase;
}

export function db(): Db {
  return appDatabase().db;
}
