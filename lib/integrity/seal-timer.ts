/**
 * The worker's scheduled seals: every SEAL_INTERVAL_MINUTES (default 60) it seals the whole log
 * (lib/integrity/sealing.ts issueSeal, extending the previous seal, so each run reads only what was
 * appended since) and records a security event 'log_sealed'. A session advisory lock lets one worker
 * seal at a time when several run (a standby skips the turn). 0 turns the timer off.
 */
import type postgres from 'postgres';
import type { Db } from '../db/client';
import type { EventStore } from '../eventstore';
import { recordSecurityEvent } from '../auth/security-log';
import { issueSeal, type SealKeys } from './sealing';

export const DEFAULT_SEAL_INTERVAL_MINUTES = 60;
/** Advisory lock key of the sealer (any constant unlikely to collide: "seal" in ASCII). */
const SEAL_LOCK = 0x7365616c;

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export function startSealTimer(options: {
  store: EventStore;
  sql: postgres.Sql;
  db: Db;
  keys: SealKeys;
  intervalMinutes?: number;
  /** The first seal after start (default 10 s). */
  firstDelayMs?: number;
  log: Log;
}): { stop(): Promise<void> } {
  const minutes = options.intervalMinutes ?? DEFAULT_SEAL_INTERVAL_MINUTES;
  if (!Number.isFinite(minutes) || minutes <= 0) {
    options.log.info({ intervalMinutes: minutes }, 'scheduled seals are off');
    return { stop: async () => {} };
  }
  let running: Promise<void> | null = null;
  const run = async () => {
    const reserved = await options.sql.reserve();
    try {
      const [lock] = await reserved<{ ok: boolean }[]>`select pg_try_advisory_lock(${SEAL_LOCK}) as ok`;
      if (!lock?.ok) return;
      try {
        const { id, file } = await issueSeal({ store: options.store, sql: options.sql, keys: options.keys }, 'schedule');
        await recordSecurityEvent(options.db, {
          type: 'log_sealed',
          origin: { ip: null, userAgent: null },
          detail: { sealId: id, by: 'schedule', events: file.seal.events.count, accessLog: file.seal.accessLog.count, keyId: file.seal.keyId },
        });
        options.log.info({ sealId: id, events: file.seal.events.count, accessLog: file.seal.accessLog.count }, 'log sealed');
      } finally {
        await reserved`select pg_advisory_unlock(${SEAL_LOCK})`;
      }
    } catch (error) {
      options.log.warn({ err: error }, 'sealing the log failed; the next turn tries again');
    } finally {
      reserved.release();
    }
  };
  const tick = () => {
    if (!running) running = run().finally(() => (running = null));
  };
  // A first seal shortly after start, then one per interval.
  const first = setTimeout(tick, options.firstDelayMs ?? 10_000);
  const timer = setInterval(tick, minutes * 60_000);
  first.unref();
  timer.unref();
  return {
    stop: async () => {
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
