/**
 * The read-side worker (`npm run worker`). It will consume the projections' persistent
 * subscription; until projections exist it checks its database connection, reports that
 * it is idle, and waits to be stopped.
 */
import pino from 'pino';
import { connect } from '../db/client';

const log = pino({ name: 'worker' });
const url = process.env.DATABASE_URL;
if (!url) {
  log.fatal('DATABASE_URL is not set');
  process.exit(2);
}

const database = connect(url, { max: 1 });
const [{ version }] = (await database.sql`select version()`) as unknown as [{ version: string }];
log.info({ postgres: version.split(' ').slice(0, 2).join(' ') }, 'connected; idle: no projections are registered yet');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  clearInterval(keepAlive);
  await database.close();
  log.info('stopped cleanly');
  process.exit(0);
};
const keepAlive = setInterval(() => {}, 60_000);
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
