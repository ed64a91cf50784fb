/** Row shapes and row → envelope mapping for the PostgreSQL backend. */
import type postgres from 'postgres';
import type { EventFilter, JsonObject, Position, RecordedEvent, RecordedMetadata } from '../types';

export const EVENT_COLUMNS = 'e.position::text as position, e.xid::text as xid, e.stream_id, e.revision::text as revision, e.event_id::text as event_id, e.type, e.schema_version, e.data, e.metadata, e.recorded_at';

export interface EventRow {
  position: string;
  xid: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  schema_version: number;
  data: JsonObject;
  metadata: RecordedMetadata;
  recorded_at: Date;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    streamId: row.stream_id,
    revision: Number(row.revision),
    position: { commit: BigInt(row.xid), prepare: BigInt(row.position) },
    recordedAt: row.recorded_at,
  };
}

/** The checkpoint pair a PostgreSQL position stands for: (xid, insert number). */
export function pgPosition(p: Position): { xid: string; position: string } {
  return { xid: p.commit.toString(), position: p.prepare.toString() };
}

export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** SQL fragment (starting with "and") restricting events e.* to a filter; empty when no filter. */
export function filterSql(sql: postgres.Sql, filter: EventFilter | undefined): postgres.PendingQuery<postgres.Row[]> {
  const prefixes = filter?.streamPrefixes?.length ? filter.streamPrefixes.map(likePrefix) : null;
  const types = filter?.eventTypes?.length ? filter.eventTypes : null;
  return sql`${prefixes ? sql`and e.stream_id like any(${prefixes}::text[])` : sql``} ${types ? sql`and e.type = any(${types}::text[])` : sql``}`;
}
