/**
 * Sealing the log on demand (issue 10 item 3): an auditor asks for a seal now (the worker also seals
 * on its timer). Not a business command: nothing is appended to the event store; the seal goes to
 * integrity_seals and the request is recorded as a security event 'log_sealed'.
 */
import type postgres from 'postgres';
import type { SessionUser } from '../auth/roles';
import { recordSecurityEvent } from '../auth/security-log';
import type { Db } from '../db/client';
import type { EventStore } from '../eventstore';
import { issueSeal, sealKeysFromEnv, type SealKeys } from '../integrity/sealing';
import type { RequestOrigin } from '../runtime/request-origin';
import { ForbiddenError } from './errors';

export interface SealDeps {
  store: EventStore;
  sql: postgres.Sql;
  db: Db;
  keys: SealKeys;
}

/** The web server's: its pool, its event store, SEAL_SIGNING_KEY. */
async function appSealDeps(): Promise<SealDeps> {
  const [{ appDatabase }, { appEventStore }] = await Promise.all([import('../db/client'), import('../runtime/event-store')]);
  const database = appDatabase();
  return { store: await appEventStore(), sql: database.sql, db: database.db, keys: sealKeysFromEnv() };
}

export async function sealLogNow(user: Pick<SessionUser, 'id' | 'role'>, origin: RequestOrigin, given?: SealDeps): Promise<{ sealId: number; events: number; accessLog: number }> {
  // Seals are the whole log's: auditors only (a clinic manager's scope is one clinic).
  if (user.role !== 'auditor') throw new ForbiddenError('Only auditors seal the log', { command: 'SealLog' });
  const deps = given ?? (await appSealDeps());
  const { id, file } = await issueSeal({ store: deps.store, sql: deps.sql, keys: deps.keys }, user.id);
  await recordSecurityEvent(deps.db, {
    type: 'log_sealed',
    userId: user.id,
    origin,
    detail: { sealId: id, by: user.id, events: file.seal.events.count, accessLog: file.seal.accessLog.count, keyId: file.seal.keyId },
  });
  return { sealId: id, events: file.seal.events.count, accessLog: file.seal.accessLog.count };
}
