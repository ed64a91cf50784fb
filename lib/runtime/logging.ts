/**
 * Logs carry no personal data (docs/privacy.md, "Logs"). What the app logs itself are ids, counts and
 * event types; the risk is in errors: a PostgreSQL error's `detail` quotes the row or key it refused
 * ("Key (lower(email))=(someone@example.com) already exists", "Failing row contains (…)"), its
 * `where` and `hint` can quote values, and a driver may attach the query's parameters. Errors are
 * therefore logged through `loggableError`: name, message, code, the constraint/table/column names,
 * the stack, and the same for the cause, nothing else.
 */
import pino from 'pino';

const KEPT = ['code', 'severity', 'constraint_name', 'table_name', 'column_name', 'routine'] as const;

/** An error reduced to what is safe to log (see above); anything else is logged by its type only. */
export function loggableError(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const out: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  const fields = error as unknown as Record<string, unknown>;
  for (const k of KEPT) if (typeof fields[k] === 'string' || typeof fields[k] === 'number') out[k] = fields[k];
  if (error.cause !== undefined && depth < 3) out.cause = loggableError(error.cause, depth + 1);
  return out;
}

/** The worker's logger: pino, with errors (`err`, `error`) serialised by loggableError. */
export function createLogger(options: { name: string; level?: string }, destination?: pino.DestinationStream): pino.Logger {
  return pino({ name: options.name, level: options.level ?? 'info', serializers: { err: loggableError, error: loggableError } }, destination);
}

/** console.error for an unexpected error in a request (server actions, Auth.js), without its details. */
export function logUnexpected(error: unknown): void {
  console.error(JSON.stringify(loggableError(error)));
}
