import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { quoteIdent, resolveTestServer, withDatabase } from '../runtime/postgres-server';
import { migrateDatabase } from './migrate';

export interface ScratchDatabase {
  url: string;
  /** Which server it lives on ('embedded', or host:port), for benchmark reports. */
  server: string;
  /** Drops the database and lets go of the server (stopping it if it was started for this). */
  drop(): Promise<void>;
}

/**
 * A new, migrated database of its own on the test server (see resolveTestServer), for a whole
 * run: the browser tests, a benchmark. Test files use lib/testing/db.ts instead (cloned from a template).
 */
export async function createScratchDatabase(prefix: string, log: (m: string) => void = () => {}): Promise<ScratchDatabase> {
  const server = await resolveTestServer(log);
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${quoteIdent(name)}`);
  const url = withDatabase(server.adminUrl, name);
  const drop = async () => {
    await admin.unsafe(`drop database if exists ${quoteIdent(name)} with (force)`);
    await admin.end({ timeout: 5 });
    await server.stop();
  };
  try {
    await migrateDatabase(url);
  } catch (error) {
    await drop();
    throw error;
  }
  return { url, server: server.kind === 'embedded' ? 'embedded' : new URL(server.adminUrl).host, drop };
}
