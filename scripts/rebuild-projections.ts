/**
 * `npm run projections:rebuild [name ...]` — replays the whole event log into fresh (shadow) tables
 * and switches them in once caught up (lib/projections/rebuild.ts). Without names, every projection.
 * Pages keep serving the old tables, and a running worker keeps updating them, until the switch.
 *
 * DATABASE_URL (default: the embedded PostgreSQL that `npm start` runs), EVENTSTORE_URL, EVENT_HMAC_KEY,
 * PERSONAL_DATA_MASTER_KEY as for the app (without DATABASE_URL: the embedded start's, from .data/secrets.json).
 */
import cliProgress from 'cli-progress';
import { connect } from '../lib/db/client';
import { createEventStore, eventStoreOptionsFromEnv } from '../lib/eventstore';
import { createPersonalDataVault } from '../lib/privacy/vault';
import { rebuildProjections } from '../lib/projections/rebuild';
import { allProjections, projectionByName } from '../lib/projections/registry';
import { portOpen } from '../lib/runtime/postgres-server';
import { MissingSecrets, readDevSecretsFile, requireSecrets } from '../lib/runtime/secrets';

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !projectionByName(n));
if (unknown.length > 0) {
  console.error(`unknown projection(s): ${unknown.join(', ')}; known: ${allProjections.map((p) => p.name).join(', ')}`);
  process.exit(2);
}
const projections = names.length > 0 ? names.map((n) => projectionByName(n)!) : [...allProjections];

let url = process.env.DATABASE_URL;
if (!url) {
  const port = Number(process.env.EMBEDDED_PG_PORT ?? 54329);
  if (!(await portOpen(port))) {
    console.error('DATABASE_URL is not set and the embedded PostgreSQL of `npm start` is not running.');
    process.exit(2);
  }
  // The embedded start's database: its password and secrets are in .data/secrets.json.
  const devSecrets = readDevSecretsFile();
  if (!devSecrets?.EMBEDDED_PG_PASSWORD) {
    console.error('DATABASE_URL is not set and .data/secrets.json (written by `npm start`) has no embedded PostgreSQL password.');
    process.exit(2);
  }
  url = `postgres://postgres:${encodeURIComponent(devSecrets.EMBEDDED_PG_PASSWORD)}@127.0.0.1:${port}/yeyak`;
  for (const name of ['EVENT_HMAC_KEY', 'PERSONAL_DATA_MASTER_KEY'] as const) if (!process.env[name]?.trim()) process.env[name] = devSecrets[name];
}
let secrets: { EVENT_HMAC_KEY: string; PERSONAL_DATA_MASTER_KEY: string };
try {
  secrets = requireSecrets(['EVENT_HMAC_KEY', 'PERSONAL_DATA_MASTER_KEY']);
} catch (error) {
  if (!(error instanceof MissingSecrets)) throw error;
  console.error(error.message);
  process.exit(2);
}
const database = connect(url, { max: 6 });
const store = await createEventStore({
  ...eventStoreOptionsFromEnv({ ...process.env, DATABASE_URL: url, EVENT_HMAC_KEY: secrets.EVENT_HMAC_KEY }),
  applicationName: 'yeyak-rebuild',
});
const vault = createPersonalDataVault(database.sql, secrets.PERSONAL_DATA_MASTER_KEY);

const bar = new cliProgress.SingleBar(
  {
    format: ' {bar} {percentage}% | {events} events | {eps} events/s | {left} left | {phase}',
    hideCursor: true,
    clearOnComplete: false,
  },
  cliProgress.Presets.shades_classic,
);
console.log(`rebuilding ${projections.map((p) => `${p.name}@${p.version}`).join(', ')}`);
bar.start(1000, 0, { events: 0, eps: '0', left: '?', phase: 'starting' });
let code = 0;
try {
  const result = await rebuildProjections({
    store,
    database,
    projections,
    decryptor: vault,
    onProgress: (p) =>
      bar.update(Math.round(p.fraction * 1000), {
        events: p.events,
        eps: Math.round(p.eventsPerSecond).toLocaleString('en-US'),
        left: p.etaSeconds === undefined ? '?' : `${Math.ceil(p.etaSeconds)} s`,
        phase: p.phase,
      }),
  });
  bar.update(1000, { phase: 'switched' });
  bar.stop();
  console.log(`done: ${result.events} events in ${result.seconds.toFixed(1)} s (${Math.round(result.eventsPerSecond)} events/s); the new tables are live`);
} catch (error) {
  bar.stop();
  console.error(`rebuild failed (the live tables are unchanged): ${error instanceof Error ? error.message : String(error)}`);
  code = 1;
} finally {
  await store.close();
  await database.close();
}
process.exit(code);
