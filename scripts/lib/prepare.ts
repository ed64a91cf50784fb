import { connect } from '../../lib/db/client';
import { migrateDatabase } from '../../lib/db/migrate';
import { seedDemoData } from '../../lib/db/seed';
import { createEventStore, eventStoreOptionsFromEnv } from '../../lib/eventstore';
import { rebuildProjections } from '../../lib/projections/rebuild';
import { allProjections } from '../../lib/projections/registry';
import { commandDepsFor } from '../../lib/runtime/command-deps';
import type { Secrets } from '../../lib/runtime/secrets';

/**
 * Whether to seed the demo world, whose accounts have a published password: only for the
 * no-configuration embedded start, or when SEED_DEMO=true is given explicitly, and never when
 * NODE_ENV=production (whatever else says so).
 */
export function demoSeedDecision(env: Readonly<Record<string, string | undefined>>, embedded: boolean): { seed: boolean; why: string } {
  if (env.NODE_ENV === 'production') {
    return { seed: false, why: env.SEED_DEMO === 'true' ? 'SEED_DEMO=true is ignored: NODE_ENV=production never gets the demo accounts' : 'NODE_ENV=production' };
  }
  if (env.SEED_DEMO === 'true') return { seed: true, why: 'SEED_DEMO=true' };
  if (env.SEED_DEMO === 'false') return { seed: false, why: 'SEED_DEMO=false' };
  return embedded ? { seed: true, why: 'the embedded development database' } : { seed: false, why: 'DATABASE_URL is set (SEED_DEMO=true seeds the demo world there)' };
}

/**
 * Makes a database ready to serve: migrations, then (when `seedDemo`, first time only) the demo world
 * through the app's own commands, with the read models built from it so the first page already shows it.
 */
export async function prepareDatabase(
  url: string,
  log: (m: string) => void,
  options: { seedDemo: boolean; secrets: Pick<Secrets, 'EVENT_HMAC_KEY' | 'PERSONAL_DATA_MASTER_KEY'> },
): Promise<void> {
  await migrateDatabase(url);
  log('database migrated');
  if (!options.seedDemo) return;
  const database = connect(url, { max: 6 });
  // EVENTSTORE_URL, when set, selects EventStoreDB here as everywhere else.
  const store = await createEventStore({
    ...eventStoreOptionsFromEnv({ ...process.env, DATABASE_URL: url, EVENT_HMAC_KEY: options.secrets.EVENT_HMAC_KEY }),
    applicationName: 'yeyak-setup',
  });
  try {
    const deps = commandDepsFor(database.sql, store, options.secrets.PERSONAL_DATA_MASTER_KEY);
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
