/**
 * The worker (`npm run worker`; started by `npm start` / `npm run dev`): runs the projections
 * (lib/projections/worker.ts) on the persistent subscription group `projections`, building
 * projections that are new or changed version, and the process managers (lib/process-managers)
 * on their own group, with their hold-expiry and payment-reconciliation timers. Structured logs (pino) on stdout.
 * SIGTERM / SIGINT: finish the batch in progress, release the group, exit 0.
 *
 * Environment: DATABASE_URL (required), EVENTSTORE_URL, EVENT_HMAC_KEY, PERSONAL_DATA_MASTER_KEY,
 * WORKER_ID (consumer id), PROJECTIONS_BATCH_SIZE (default 500), LOG_LEVEL, SEAL_SIGNING_KEY and
 * SEAL_INTERVAL_MINUTES (default 60; 0 turns the scheduled seals off): the log-wide seal timer
 * (lib/integrity/seal-timer.ts).
 */
import { connect } from '../db/client';
import { isConnectionLoss } from '../db/connection-loss';
import { createEventStore, EventStoreUnavailable, eventStoreOptionsFromEnv } from '../eventstore';
import { startProcessManagers } from '../process-managers';
import { allProjections } from '../projections/registry';
import { ProjectionWorker } from '../projections/worker';
import { commandDepsFor } from '../runtime/command-deps';
import { createLogger } from '../runtime/logging';
import { MissingSecrets, requireSecrets } from '../runtime/secrets';
import { startSealTimer } from '../integrity/seal-timer';
import { sealKeysFromEnv } from '../integrity/sealing';

// Errors are logged without their details (they can quote personal data): lib/runtime/logging.ts.
const log = createLogger({ name: 'worker', level: process.env.LOG_LEVEL ?? 'info' });
const url = process.env.DATABASE_URL;
if (!url) {
  log.fatal('DATABASE_URL is not set');
  process.exit(2);
}

let secrets: { EVENT_HMAC_KEY: string; PERSONAL_DATA_MASTER_KEY: string; SEAL_SIGNING_KEY: string };
try {
  secrets = requireSecrets(['EVENT_HMAC_KEY', 'PERSONAL_DATA_MASTER_KEY', 'SEAL_SIGNING_KEY']);
} catch (error) {
  if (!(error instanceof MissingSecrets)) throw error;
  log.fatal(error.message);
  process.exit(2);
}
const database = connect(url, { max: 8 });
const store = await createEventStore({
  ...eventStoreOptionsFromEnv(process.env, secrets.EVENT_HMAC_KEY),
  applicationName: 'yeyak-worker',
  maxConnections: 4,
  onError: (error) => log.warn({ err: error }, 'event store recovered from an error'),
});
// PostgreSQL backend only: a shorter group lease makes a standby take over sooner after a crash (tests).
if (process.env.YEYAK_GROUP_LEASE_MS && 'leaseMs' in store.groups) {
  (store.groups as { leaseMs: number }).leaseMs = Number(process.env.YEYAK_GROUP_LEASE_MS);
}
const { privacy: vault, payments } = commandDepsFor(database.sql, store, secrets.PERSONAL_DATA_MASTER_KEY);

const worker = new ProjectionWorker({
  store,
  database,
  projections: allProjections,
  log,
  decryptor: vault!,
  consumerId: process.env.WORKER_ID || undefined,
  batchSize: process.env.PROJECTIONS_BATCH_SIZE ? Number(process.env.PROJECTIONS_BATCH_SIZE) : undefined,
});
// Signals are handled from the start: a stop asked for while the worker is still starting (say, its
// process managers waiting for the database) ends it cleanly instead of killing it mid-write.
let processManagers: Awaited<ReturnType<typeof startProcessManagers>> | undefined;
let sealTimer: ReturnType<typeof startSealTimer> | undefined;
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  const force = setTimeout(() => {
    log.error('graceful stop took too long; exiting');
    process.exit(1);
  }, 20_000);
  force.unref();
  try {
    await sealTimer?.stop();
    await processManagers?.stop();
    await worker.stop();
    await store.close();
    await database.close();
    log.info({ stats: worker.stats }, 'stopped cleanly');
    process.exit(0);
  } catch (error) {
    log.error({ err: error }, 'error while stopping');
    process.exit(1);
  }
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));


/**
 * A start-up step that needs the database, retried while the database is unreachable (restarting, not
 * up yet) instead of crashing the worker; any other error still ends it.
 */
async function untilReachable<T>(what: string, step: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (stopping || !(isConnectionLoss(error) || error instanceof EventStoreUnavailable)) throw error;
      log.warn({ err: error, attempt }, `${what}: the database is unreachable, trying again`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
}

await untilReachable('starting the projections', () => worker.start());
log.info({ backend: store.backend, projections: allProjections.map((p) => `${p.name}@${p.version}`), group: worker.group }, 'worker started');

processManagers = await untilReachable('starting the process managers', () => startProcessManagers({
  store,
  sql: database.sql,
  privacy: vault,
  payments,
  onError: (error, context) => log.warn({ err: error, eventId: context.event?.eventId, type: context.event?.type, timer: context.timer }, 'process manager step failed'),
}));
log.info({ group: 'process-managers' }, 'process managers started');

sealTimer = startSealTimer({
  store,
  sql: database.sql,
  db: database.db,
  keys: sealKeysFromEnv(process.env),
  intervalMinutes: process.env.SEAL_INTERVAL_MINUTES === undefined ? undefined : Number(process.env.SEAL_INTERVAL_MINUTES),
  log,
});


