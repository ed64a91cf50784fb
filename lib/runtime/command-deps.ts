import type postgres from 'postgres';
import type { CommandDeps } from '../commands';
import type { EventStore } from '../eventstore';
import { createSandboxGateway } from '../payments';
import { createPersonalDataVault } from '../privacy';
import { appDatabase } from '../db/client';
import { appEventStore } from './event-store';
import { requireSecret } from './secrets';

/**
 * What command handlers need, wired to real services: the event store, the personal-data vault
 * (per-patient keys in PostgreSQL, wrapped by PERSONAL_DATA_MASTER_KEY) and the payment gateway.
 * The gateway is the PG sandbox until a real PG adapter exists behind the same port.
 */
export function commandDepsFor(sql: postgres.Sql, store: EventStore, masterKey = personalDataMasterKey()): CommandDeps {
  return {
    store,
    privacy: createPersonalDataVault(sql, masterKey),
    payments: { gateway: createSandboxGateway(sql), provider: 'sandbox' },
  };
}

export function personalDataMasterKey(): string {
  return requireSecret('PERSONAL_DATA_MASTER_KEY');
}

const globalForDeps = globalThis as unknown as { yeyakCommandDeps?: Promise<CommandDeps> };

/** The web server's command deps (one per process), for server actions. */
export function appCommandDeps(): Promise<CommandDeps> {
  globalForDeps.yeyakCommandDeps ??= appEventStore().then((store) => commandDepsFor(appDatabase().sql, store));
  return globalForDeps.yeyakCommandDeps;
}
