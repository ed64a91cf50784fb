/**
 * `npm start` (and `npm run dev` with --dev): everything needed to run Yeyak on a fresh machine.
 * Without DATABASE_URL it starts an embedded PostgreSQL under .data/pg; then it migrates,
 * seeds the demo world once, builds if the build is missing or stale, and runs the worker
 * and the web server until Ctrl-C, which stops all of it.
 */
import { ensureDatabase, startEmbeddedPostgres, withDatabase, type PostgresServer } from '../lib/runtime/postgres-server';
import { buildIfStale } from './lib/build';
import { prepareDatabase } from './lib/prepare';
import { serveApp } from './lib/serve';

const dev = process.argv.includes('--dev');
const port = Number(process.env.PORT ?? 3000);
const started = Date.now();
const log = (m: string) => console.log(`[yeyak] ${m}`);

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
  embedded = await startEmbeddedPostgres('.data/pg', Number(process.env.EMBEDDED_PG_PORT ?? 54329), log);
  databaseUrl = withDatabase(embedded.adminUrl, 'yeyak');
  await ensureDatabase(databaseUrl);
} else {
  log('using the database in DATABASE_URL');
}

try {
  await prepareDatabase(databaseUrl, log);
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
