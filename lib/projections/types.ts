import type { PgTable } from 'drizzle-orm/pg-core';
import type { PgTransaction } from 'drizzle-orm/pg-core';
import type { PostgresJsQueryResultHKT } from 'drizzle-orm/postgres-js';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { AnyDomainEvent } from '../domain';
import type { RecordedEvent } from '../eventstore';

/** A Drizzle transaction (any schema): what handlers write through. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ProjectionTx = PgTransaction<PostgresJsQueryResultHKT, any, ExtractTablesWithRelations<any>>;

/**
 * One event as a projection sees it: the stored envelope, and the domain event upcast and validated
 * (personal data decrypted, or `{ kind: 'erased' }` once the patient's key is gone).
 */
export interface ProjectedEvent {
  readonly recorded: RecordedEvent;
  /** The upcast, validated domain event (null for a type lib/domain does not know). */
  readonly domain: AnyDomainEvent | null;
}

export interface ProjectionTable {
  table: PgTable;
  /**
   * 'swap' (default): rebuilt into a shadow table and swapped in (the projection owns the table).
   * 'merge': the table is shared (the foundation catalogue tables, referenced by foreign keys): the
   * rebuild upserts the shadow's rows into it; `mergeColumns` are the columns this projection writes,
   * `mergeScope` deletes the live rows the rebuild no longer produces (SQL condition on the live table, may be omitted).
   */
  mode?: 'swap' | 'merge';
  mergeKey?: string;
  mergeColumns?: string[];
  mergeDeleteMissing?: { scopeColumn: string; scopeTable: string; scopeKey: string };
}

/**
 * A projection: a name, a version, the event types it handles, and a handler writing through
 * Drizzle in the batch's transaction.
 *
 * - `streams`: prefixes of the streams it follows ('clinic-', …; [''] for every stream). The runner
 *   keeps, per projection, the last applied revision of each followed stream (in `revisions`): a
 *   redelivered event is skipped, an event after a gap is sent back for retry. Events of followed
 *   streams whose type is not in `eventTypes` only advance the revision.
 * - `handle(tx, events)`: applies events, in order, by writing to its own tables. It gets a whole
 *   batch (so it can load and write many rows per statement); if it throws, the runner rolls it back
 *   and retries the batch one event at a time to isolate the poison event. It must only read its own
 *   tables (so a rebuild is deterministic) and must not depend on wall-clock time.
 * - bump `version` when the handler or the tables' meaning changes: the worker then rebuilds the
 *   projection from the log on its next start (pages keep the old tables until the switch).
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  readonly streams: readonly string[];
  readonly eventTypes: readonly string[] | 'all';
  readonly revisions: PgTable & { streamId: unknown; revision: unknown };
  readonly tables: readonly ProjectionTable[];
  /** Works from the stored envelope alone (the audit log): an event that fails validation is still handled. */
  readonly rawOnly?: boolean;
  handle(tx: ProjectionTx, events: readonly ProjectedEvent[]): Promise<void>;
}

export function handlesType(projection: Projection, type: string): boolean {
  return projection.eventTypes === 'all' || projection.eventTypes.includes(type);
}

export function followsStream(projection: Projection, streamId: string): boolean {
  return projection.streams.some((p) => streamId.startsWith(p));
}
