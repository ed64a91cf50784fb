/**
 * Read-your-writes (DESIGN §4): after a command, wait (bounded) until the projections have applied
 * the position it wrote, so the re-rendered page shows the change.
 *
 *   const { position } = await handleCommand(...);
 *   const state = await waitForProjections(position);          // 'caught-up' | 'timed-out'
 *   revalidatePath(...);
 *   return { ok: true, processing: state === 'timed-out' };    // the UI says "still being processed"
 *
 * The worker NOTIFYs `yeyak_projections` in each batch transaction (delivered at commit); waiters
 * re-check the checkpoints on each notification and, as a fallback, every `pollMs`. The waiters of one
 * pool share their reads of the registry: with fifty bookings waiting, a notification costs one query,
 * not fifty (each read is sent after every waiter that joined it asked, so none reads a stale row).
 */
import type postgres from 'postgres';
import { appDatabase } from '../db/client';
import { comparePositions, type Position } from '../eventstore';
import { CHECKPOINT_CHANNEL, isLive } from './engine';
import { allProjections } from './registry';
import type { Projection } from './types';

export type WaitResult = 'caught-up' | 'timed-out';

export interface WaitOptions {
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Names of the projections to wait for; default every projection of this code (one still being built is not caught up). */
  projections?: readonly string[];
  /** Default: the app's pool (DATABASE_URL). */
  sql?: postgres.Sql;
  /** Fallback polling interval (default 250 ms). */
  pollMs?: number;
  /** Projections known to this code (default: the registry). */
  known?: readonly Projection[];
}

type RegistryRow = { name: string; version: number | null; status: string; checkpoint_commit: string; checkpoint_prepare: string };

interface Listener {
  waiters: Set<() => void>;
  ready: Promise<unknown>;
  /** The registry read that waiters asking now join: not sent yet, so it sees every commit before they asked. */
  queued?: Promise<RegistryRow[]>;
}

const listeners = new WeakMap<postgres.Sql, Listener>();

function listenerFor(sql: postgres.Sql): Listener {
  let listener = listeners.get(sql);
  if (!listener) {
    const waiters = new Set<() => void>();
    const ready = sql
      .listen(CHECKPOINT_CHANNEL, () => {
        for (const w of waiters) w();
      })
      .catch(() => undefined); // polling still works
    listener = { waiters, ready };
    listeners.set(sql, listener);
  }
  return listener;
}

function registryRows(sql: postgres.Sql, listener: Listener): Promise<RegistryRow[]> {
  listener.queued ??= new Promise<RegistryRow[]>((resolve, reject) => {
    // Sent on the next turn, so the waiters woken by one notification all join this one read.
    setImmediate(() => {
      listener.queued = undefined;
      sql<RegistryRow[]>`select name, version, status, checkpoint_commit::text, checkpoint_prepare::text from projection_registry`.then(resolve, reject);
    });
  });
  return listener.queued;
}

async function caughtUp(sql: postgres.Sql, listener: Listener, position: Position, options: WaitOptions): Promise<boolean> {
  const known = options.known ?? allProjections;
  const rows = await registryRows(sql, listener);
  const names = options.projections ?? known.map((p) => p.name);
  // A projection not live yet (first build, or rebuilding after a version change) is not caught up.
  return names.every((name) => {
    const r = rows.find((x) => x.name === name);
    const projection = known.find((p) => p.name === name);
    if (!r || (projection && !isLive(projection, { status: r.status, version: r.version } as never)) || r.status !== 'live') return false;
    return comparePositions({ commit: BigInt(r.checkpoint_commit), prepare: BigInt(r.checkpoint_prepare) }, position) >= 0;
  });
}

export async function waitForProjections(position: Position, options: WaitOptions = {}): Promise<WaitResult> {
  const sql = options.sql ?? appDatabase().sql;
  const timeoutMs = options.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  const listener = listenerFor(sql);
  await Promise.race([listener.ready, new Promise((r) => setTimeout(r, 200))]);
  let signal: () => void = () => {};
  const waiter = () => signal();
  listener.waiters.add(waiter);
  try {
    for (;;) {
      // Arm before checking, so a notification between the check and the wait is not lost.
      const notified = new Promise<void>((resolve) => {
        signal = resolve;
      });
      if (await caughtUp(sql, listener, position, options)) return 'caught-up';
      const left = deadline - Date.now();
      if (left <= 0) return 'timed-out';
      await Promise.race([notified, new Promise((r) => setTimeout(r, Math.min(left, options.pollMs ?? 250)))]);
    }
  } finally {
    listener.waiters.delete(waiter);
  }
}
