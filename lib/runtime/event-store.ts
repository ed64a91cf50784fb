import { createEventStore, eventStoreOptionsFromEnv, type EventStore } from '../eventstore';
import { requireSecret } from './secrets';

const globalForStore = globalThis as unknown as { yeyakEventStore?: Promise<EventStore> };

/**
 * The process's event store (PostgreSQL from DATABASE_URL, or EventStoreDB from EVENTSTORE_URL),
 * created once and shared by the web server's actions, the worker and scripts.
 */
export function appEventStore(): Promise<EventStore> {
  globalForStore.yeyakEventStore ??= createEventStore({
    ...eventStoreOptionsFromEnv(process.env, requireSecret('EVENT_HMAC_KEY')),
    applicationName: process.env.YEYAK_PROCESS_NAME ?? 'yeyak',
  });
  return globalForStore.yeyakEventStore;
}
