/**
 * Transactions that survive their connection being cut (PostgreSQL restart, failover,
 * pg_terminate_backend) without taking the process down.
 *
 * postgres.js 3.4.9 (`sql.begin` / `savepoint`, used by drizzle's `transaction`) sends `ROLLBACK`
 * (or `ROLLBACK TO`) on the transaction's connection when the callback throws, even when the callback
 * threw because that connection is gone. The write lands on a connection whose socket is already null:
 * it is deferred with setImmediate and throws `TypeError: Cannot read properties of null (reading
 * 'write')` from there, an uncaught exception that kills the process (or, if the close comes between,
 * leaves the connection with a stale buffered write that it never flushes again). Upstream: porsager/postgres
 * #1066, #1154, #1208.
 *
 * So a transaction body here never throws a connection-loss error back into postgres.js: it stays
 * pending instead. postgres.js rejects the `begin()` itself when the connection closes (it races the
 * body against the connection's close), so the caller gets the error and retries on a new connection;
 * the abandoned body is garbage. If the connection did not close after all (not expected for these
 * errors), the error is passed on after a while, when a rollback is harmless again.
 */
import type postgres from 'postgres';
import type { Db } from './client';

const LOST_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED']);
/** admin_shutdown, crash_shutdown, cannot_connect_now: the server closes the session after these. */
const LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03']);

/**
 * The error (or one it wraps: drizzle's DrizzleQueryError as `cause`, the runner's HandlerFailed as
 * `error`) says the connection is gone.
 */
export function isConnectionLoss(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause ?? (e as { error?: unknown }).error, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (LOST_CODES.has(code) || LOST_SQLSTATES.has(code))) return true;
  }
  return false;
}

/** After this long without the transaction failing by itself, the connection is taken as alive. */
const FALLBACK_MS = 10_000;

/**
 * Runs `body` so that a connection-loss error in it never reaches postgres.js's rollback. Used for
 * the body of a top-level transaction and of a savepoint (`tx.transaction`) inside it. Without
 * `connectionGone` (a savepoint: the outer transaction fails when its connection closes) it never
 * passes such an error on.
 */
export function guardConnectionLoss<T>(body: () => Promise<T>, connectionGone: () => boolean = () => true): Promise<T> {
  return body().catch((error: unknown) => {
    if (!isConnectionLoss(error)) throw error;
    return new Promise<T>((_, reject) => {
      const timer = setTimeout(() => {
        // Still not rejected by postgres.js: the connection is alive, a rollback can be sent.
        if (!connectionGone()) reject(error);
      }, FALLBACK_MS);
      timer.unref?.();
    });
  });
}

/** Shared by a transaction and its savepoints: the first connection-loss error seen by one of its queries. */
interface LossState {
  gone: boolean;
  error: unknown;
}

interface PgQueryLike {
  handler: (query: unknown) => unknown;
  reject: (error: unknown) => void;
  handle: () => unknown;
}

function isQuery(value: unknown): value is PgQueryLike {
  const q = value as Partial<PgQueryLike> | null;
  return !!q && typeof q === 'object' && typeof q.handler === 'function' && typeof q.reject === 'function' && typeof q.handle === 'function';
}

/**
 * A transaction's (or savepoint's) postgres.js client whose queries are never written once one of
 * them failed because the connection is gone: postgres.js rejects every query in flight synchronously
 * when the socket closes (before any code awaiting them resumes), so the first rejection marks the
 * transaction lost and a query started afterwards (another branch of a pipelined batch, the next
 * event of an isolated apply) is rejected with that error instead of reaching the dead connection.
 */
function guardClient(client: postgres.Sql, state: LossState): postgres.Sql {
  const hook = <T>(value: T): T => {
    if (!isQuery(value)) return value;
    const { handler, reject } = value;
    value.reject = (error: unknown) => {
      if (!state.gone && isConnectionLoss(error)) {
        state.gone = true;
        state.error = error;
      }
      reject(error);
    };
    value.handler = (query: unknown) => (state.gone ? value.reject(state.error) : handler(query));
    return value;
  };
  return new Proxy(client, {
    apply(target, thisArg, args) {
      return hook(Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args));
    },
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'unsafe' || prop === 'file') return (...args: unknown[]) => hook((value as (...a: unknown[]) => unknown).apply(target, args));
      if (prop === 'savepoint') {
        return (...args: unknown[]) => {
          const i = args.findIndex((a) => typeof a === 'function');
          if (i >= 0) {
            const fn = args[i] as (sp: postgres.Sql) => Promise<unknown>;
            args[i] = (sp: postgres.Sql) => guardConnectionLoss(() => fn(guardClient(sp, state)));
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value;
    },
  }) as postgres.Sql;
}

type TxOf<D> = D extends { transaction(fn: (tx: infer X) => Promise<unknown>): Promise<unknown> } ? X : never;

/**
 * `db.transaction(fn)` that does not make postgres.js write to a dead connection (see above): the
 * body's queries go through a guarded client, and a connection-loss error never reaches the rollback.
 */
export async function safeTransaction<T>(db: Db, fn: (tx: TxOf<Db>) => Promise<T>): Promise<T> {
  let settled = false;
  try {
    return await db.transaction((tx) => {
      const session = (tx as unknown as { session?: { client?: postgres.Sql } }).session;
      if (session?.client) session.client = guardClient(session.client, { gone: false, error: undefined });
      return guardConnectionLoss(
        () => fn(tx),
        () => settled,
      );
    });
  } finally {
    settled = true;
  }
}

/**
 * `sql.begin(fn)` of a plain postgres.js client (no drizzle: the payment sandbox), with the same
 * guard: the body's queries go through a guarded client, and a connection-loss error never reaches
 * postgres.js's rollback.
 */
export async function safeBegin<T>(sql: postgres.Sql, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  let settled = false;
  try {
    return (await sql.begin((tx) =>
      guardConnectionLoss(
        () => fn(guardClient(tx as unknown as postgres.Sql, { gone: false, error: undefined }) as unknown as postgres.TransactionSql),
        () => settled,
      ),
    )) as T;
  } finally {
    settled = true;
  }
}
