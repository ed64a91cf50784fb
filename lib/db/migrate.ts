import path from 'node:path';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { connect } from './client';

export const migrationsFolder = path.resolve(import.meta.dirname, '../../drizzle');

/** Applies every pending migration in drizzle/ to the database at `url`. */
export async function migrateDatabase(url: string): Promise<void> {
  const database = connect(url, { max: 1 });
  try {
    await migrate(database.db, { migrationsFolder });
  } finally {
    await database.close();
  }
}
