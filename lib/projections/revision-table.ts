import { bigint, pgTable, text } from 'drizzle-orm/pg-core';

/** The per-stream revision table of one projection (rmrev_<table suffix>). */
export function revisionTable(name: string) {
  return pgTable(name, {
    streamId: text('stream_id').primaryKey(),
    revision: bigint('revision', { mode: 'number' }).notNull(),
  });
}
