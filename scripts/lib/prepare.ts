import { connect } from '../../lib/db/client';
import { migrateDatabase } from '../../lib/db/migrate';
import { seedDemoData } from '../../lib/db/seed';
import { createEventStore, eventStoreOptionsFromEnv } from '../../lib/eventstore';
import { rebuildProjections } from '../../lib/projections/rebuild';
import { allProjections } from '../../lib/projections/registry';
import { commandDepsFor } from '../../lib/runtime/command-deps';
import { loadOrCreateDevSecrets } from '../../lib/runtime/secrets';

/**
 * Makes a database ready to serve: migrations, then (first time only) the demo world through the
 * app's own commands, with the read models built from it so the first page already shows it.
 */
export async function prepareDatabase(url: string, log: (m: string) => void): Promise<void> {
  await migrateDatabase(url);
  log('database migrated');
  const secrets = loadOrCreateDevSecrets();
  const database = connect(url, { max: 6 });
  // EVENTSTORE_URL, when set, selects EventStoreDB here as everywhere else.
  const store = await createEventStore({
    ...eventStoreOptionsFromEnv({ ...process.env, DATABASE_URL: url }, secrets.EVENT_HMAC_KEY),
    applicationName: 'yeyak-setup',
  });
  try {
    const deps = commandDepsFor(database.sql, store, process.env.PERSONAL_DATA_MASTER_KEY || secrets.PERSONAL_DATA_MASTER_KEY);
    if (await seedDemoData(database.db, deps)) {
      const result = await rebuildProjections({ store, database, projections: allProjections, decryptor: deps.privacy });
      log(`demo data seeded (accounts are listed in README.md); read models built from ${result.events} events`);
    } else {
      log('demo data already present');
    }
  } finally {
    await store.close();
    await database.close();
  }
}
