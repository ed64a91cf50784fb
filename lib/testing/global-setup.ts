import type { TestProject } from 'vitest/node';
import postgres from 'postgres';
import { quoteIdent, resolveTestServer, withDatabase } from '../runtime/postgres-server';
import { migrateDatabase } from '../db/migrate';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Maintenance URL of the test PostgreSQL server. */
    pgAdminUrl: string;
    /** A migrated database every test database is cloned from. */
    pgTemplateDatabase: string;
  }
}

/**
 * Once per run: find a PostgreSQL server, build a migrated template database,
 * and hand both to the test files, which clone their own database from it.
 */
export default async function setup(project: TestProject) {
  const server = await resolveTestServer((m) => console.log(`[test-db] ${m}`));
  const template = `yeyak_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${quoteIdent(template)}`);
  await migrateDatabase(withDatabase(server.adminUrl, template));
  project.provide('pgAdminUrl', server.adminUrl);
  project.provide('pgTemplateDatabase', template);

  return async () => {
    await admin.unsafe(`drop database if exists ${quoteIdent(template)} with (force)`);
    await admin.end({ timeout: 5 });
    await server.stop();
  };
}
