/**
 * `npm start` (and `npm run dev` with --dev): everything needed to run Yeyak.
 * Without DATABASE_URL (the no-configuration start) it starts an embedded PostgreSQL under .data/pg,
 * generates development secrets once into .data/secrets.json and seeds the demo world once.
 * With DATABASE_URL it needs its secrets in the environment (it refuses to start without them, naming
 * each) and seeds nothing unless SEED_DEMO=true; NODE_ENV=production never seeds.
 * Then it migrates, builds if the build is missing or stale, and runs the worker and the web server
 * until Ctrl-C, which stops all of it.
 */
import { ensureDatabase, startEmbeddedPostgres, withDatabase, type PostgresServer } from '../lib/runtime/postgres-server';
import { loadOrCreateDevSecrets, MissingSecrets, requireSecrets, secretNames } from '../lib/runtime/secrets';
import { buildIfStale } from './lib/build';
import { demoSeedDecision, prepareDatabase } from './lib/prepare';
import { serveApp } from './lib/serve';

const dev = process.argv.includes('--dev');
const port = Number(process.env.PORT ?? 3000);
const started = Date.now();
const log = (m: string) => console.log(`[yeyak] ${m}`);

const embeddedStart = !process.env.DATABASE_URL;
let embeddedPassword: string | undefined;
if (embeddedStart) {
  // The no-configuration start: development secrets, generated once, handed to every child process.
  const { EMBEDDED_PG_PASSWORD, ...secrets } = loadOrCreateDevSecrets();
  Object.assign(process.env, secrets, { YEYAK_EMBEDDED: 'true' });
  embeddedPassword = EMBEDDED_PG_PASSWORD;
}
try {
  requireSecrets(secretNames);
} catch (error) {
  if (!(error instanceof MissingSecrets)) throw error;
  console.error(`[yeyak] ${error.message}`);
  process.exit(2);
}
if (!embeddedStart && !process.env.AUTH_URL?.trim()) {
  console.error('[yeyak] Refusing to start: AUTH_URL is not set (the public origin of the site, e.g. https://booking.example.kr; links in e-mails use it).');
  process.exit(2);
}

let embedded: PostgresServer | undefined;
// Until the worker and web server run (they bring their own handling), a stop signal during set-up
// stops the embedded PostgreSQL we started before exiting.
const stopDuringSetUp = (signal: NodeJS.Signals) => {
  log(`${signal} received during set-up, stopping`);
  void (embedded?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
};
process.once('SIGINT', stopDuringSetUp);
process.once('SIGTERM', stopDuringSetUp);
let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  embedded = await startEmbeddedPostgres('.data/pg', Number(process.env.EMBEDDED_PG_PORT ?? 54329), log, embeddedPassword);
  databaseUrl = withDatabase(embedded.adminUrl, 'yeyak');
  await ensureDatabase(databaseUrl);
} else {
  log('using the database in DATABASE_URL');
}

try {
  const demo = demoSeedDecision(process.env, embeddedStart);
  if (!demo.seed) log(`no demo data (${demo.why})`);
  await prepareDatabase(databaseUrl, log, { seedDemo: demo.seed, secrets: requireSecrets(['EVENT_HMAC_KEY', 'PERSONAL_DATA_MASTER_KEY']) });
  if (!dev) await buildIfStale(log);
} catch (error) {
  await embedded?.stop();
  throw error;
}

log(`set-up took ${((Date.now() - started) / 1000).toFixed(1)} s; starting the worker and the ${dev ? 'development' : 'production'} server on http://localhost:${port}`);
process.off('SIGINT', stopDuringSetUp);
process.off('SIGTERM', stopDuringSetUp);
const group = serveApp({ databaseUrl, dev, port, log });
const code = await group.wait();
if (embedded) {
  log('stopping the embedded PostgreSQL');
  await embedded.stop();
}
process.exit(code);
