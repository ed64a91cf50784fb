/**
 * The event store: the one entry point the rest of the app uses (DESIGN §3).
 *
 *   const store = await createEventStore({ databaseUrl, eventstoreUrl, hmacKey });
 *
 * PostgreSQL by default; EventStoreDB when `eventstoreUrl` (EVENTSTORE_URL, esdb://…) is given.
 * Never import lib/eventstore/postgres or lib/eventstore/esdb from outside this folder.
 */
import type { EventStore } from './types';

export * from './types';
export * from './errors';
export { comparePositions, decodePosition, encodePosition, isUuidV7, matchesFilter, newEventId, START_POSITION } from './envelope';
export { canonicalJson, computeEventHash, HASH_ALGORITHM } from './hash-chain';

export interface CreateEventStoreOptions {
  /** PostgreSQL URL (always needed by the app; the event store uses it unless eventstoreUrl is set). */
  databaseUrl?: string;
  /** esdb://… selects the EventStoreDB backend. */
  eventstoreUrl?: string;
  /** Key of the events' HMAC chain (EVENT_HMAC_KEY), at least 16 bytes. */
  hmacKey: string | Buffer;
  /** Keys from before a rotation (EVENT_HMAC_PREVIOUS_KEYS): verification still accepts them (PostgreSQL backend). */
  previousHmacKeys?: readonly (string | Buffer)[];
  /** PostgreSQL pool size (default 10). */
  maxConnections?: number;
  applicationName?: string;
  /** Errors the store recovers from (reconnects, lost leases...), for logging. */
  onError?: (error: unknown) => void;
}

export async function createEventStore(options: CreateEventStoreOptions): Promise<EventStore> {
  if (options.eventstoreUrl) {
    const { EsdbEventStore } = await import('./esdb/store');
    return new EsdbEventStore({ connectionString: options.eventstoreUrl, hmacKey: options.hmacKey, onError: options.onError });
  }
  if (!options.databaseUrl) throw new Error('createEventStore needs databaseUrl (PostgreSQL) or eventstoreUrl (EventStoreDB)');
  const { PostgresEventStore } = await import('./postgres/store');
  return new PostgresEventStore({
    databaseUrl: options.databaseUrl,
    hmacKey: options.hmacKey,
    previousHmacKeys: options.previousHmacKeys,
    maxConnections: options.maxConnections,
    applicationName: options.applicationName,
    onError: options.onError,
  });
}

/**
 * Options from the environment: DATABASE_URL, EVENTSTORE_URL, EVENT_HMAC_KEY. The caller supplies the
 * development key when EVENT_HMAC_KEY is unset (lib/runtime/secrets.ts loadOrCreateDevSecrets()).
 */
export function eventStoreOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, fallbackHmacKey?: string): CreateEventStoreOptions {
  const hmacKey = env.EVENT_HMAC_KEY || fallbackHmacKey;
  if (!hmacKey) throw new Error('EVENT_HMAC_KEY is not set (use loadOrCreateDevSecrets() for a development key)');
  // After a rotation: the earlier keys, comma-separated, still accepted by verification.
  const previousHmacKeys = (env.EVENT_HMAC_PREVIOUS_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  return { databaseUrl: env.DATABASE_URL, eventstoreUrl: env.EVENTSTORE_URL || undefined, hmacKey, previousHmacKeys };
}
