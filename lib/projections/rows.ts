/**
 * A batch-local unit of work over one read-model table keyed by a single text column: load the
 * rows a batch touches in one statement, change them in memory event by event, write them back in
 * one upsert and one delete. This is what lets a rebuild apply thousands of events per second.
 */
import { getTableColumns, inArray, sql } from 'drizzle-orm';
import { getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import type { ProjectionTx } from './types';

export class RowCache<Row extends Record<string, unknown>> {
  private readonly rows = new Map<string, Row | null>();
  private readonly dirty = new Set<string>();
  private readonly keyColumn: PgColumn;

  constructor(
    private readonly table: PgTable,
    private readonly key: keyof Row & string,
    /** Columns an upsert overwrites (JS names); default: all but the key. */
    private readonly updateColumns?: ReadonlyArray<keyof Row & string>,
  ) {
    const columns = getTableColumns(table) as Record<string, PgColumn>;
    this.keyColumn = columns[key]!;
  }

  /** Loads the given keys (those not loaded yet); missing rows read as undefined. */
  async load(tx: ProjectionTx, keys: Iterable<string>): Promise<void> {
    const wanted = [...new Set(keys)].filter((k) => !this.rows.has(k));
    for (let i = 0; i < wanted.length; i += 5000) {
      const chunk = wanted.slice(i, i + 5000);
      const found = (await tx.select().from(this.table).where(inArray(this.keyColumn, chunk))) as Row[];
      for (const row of found) this.rows.set(String(row[this.key]), row);
    }
    for (const k of wanted) if (!this.rows.has(k)) this.rows.set(k, null);
  }

  get(key: string): Row | undefined {
    if (!this.rows.has(key)) throw new Error(`RowCache: ${key} was not loaded`);
    return this.rows.get(key) ?? undefined;
  }

  /** For keys created in this batch without a load (e.g. append-only rows). */
  put(row: Row): void {
    const key = String(row[this.key]);
    this.rows.set(key, row);
    this.dirty.add(key);
  }

  update(key: string, change: Partial<Row>): Row | undefined {
    const row = this.get(key);
    if (!row) return undefined;
    const next = { ...row, ...change };
    this.put(next);
    return next;
  }

  delete(key: string): void {
    this.rows.set(key, null);
    this.dirty.add(key);
  }

  /** Every loaded row matching a predicate (for the few handlers that update by a non-key column). */
  *loaded(): IterableIterator<Row> {
    for (const row of this.rows.values()) if (row) yield row;
  }

  async flush(tx: ProjectionTx): Promise<void> {
    const upserts: Row[] = [];
    const deletes: string[] = [];
    for (const key of this.dirty) {
      const row = this.rows.get(key);
      if (row) upserts.push(row);
      else deletes.push(key);
    }
    this.dirty.clear();
    if (deletes.length > 0) {
      for (let i = 0; i < deletes.length; i += 5000) await tx.delete(this.table).where(inArray(this.keyColumn, deletes.slice(i, i + 5000)));
    }
    if (upserts.length === 0) return;
    // One statement, one parameter: the rows as JSON, turned back into the table's row type by
    // jsonb_populate_recordset (much faster than a many-parameter INSERT for thousands of rows).
    const columns = Object.entries(getTableColumns(this.table) as Record<string, PgColumn>);
    const name = getTableConfig(this.table).name;
    const keyName = this.keyColumn.name;
    const written = columns.filter(([js]) => js === this.key || !this.updateColumns || this.updateColumns.includes(js as keyof Row & string));
    const list = written.map(([, c]) => `"${c.name}"`).join(', ');
    const updates = written
      .filter(([js]) => js !== this.key)
      .map(([, c]) => `"${c.name}" = excluded."${c.name}"`)
      .join(', ');
    const payload = upserts.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [js, column] of written) {
        const v = row[js];
        out[column.name] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v;
      }
      return out;
    });
    for (let i = 0; i < payload.length; i += 5000) {
      const json = JSON.stringify(payload.slice(i, i + 5000));
      await tx.execute(
        sql`insert into ${sql.raw(`"${name}"`)} (${sql.raw(list)}) select ${sql.raw(list)} from jsonb_populate_recordset(null::${sql.raw(`"${name}"`)}, ${json}::jsonb)
            on conflict (${sql.raw(`"${keyName}"`)}) do ${sql.raw(updates ? `update set ${updates}` : 'nothing')}`,
      );
    }
  }
}

/** Asia/Seoul is UTC+9 all year (no daylight saving since 1988): the clinic day of an instant, fast. */
export function seoulDay(at: string | Date): string {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  return new Date(ms + 9 * 3600_000).toISOString().slice(0, 10);
}

/** Short, personal-data-free description of an event's data: its scalar fields except `personal`. */
export function summarize(type: string, data: unknown): string {
  if (typeof data !== 'object' || data === null) return type;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (k === 'personal' || k === 'note') continue;
    if (v === null || v === undefined) continue;
    if (typeof v === 'object') {
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) parts.push(`${k}=${v.join(',')}`);
      continue;
    }
    parts.push(`${k}=${String(v)}`);
  }
  const text = parts.join(' ');
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

/** The actor of an event (who did it), as recorded in its metadata. */
export function actorOf(metadata: { actor?: { id?: string } }): string | null {
  return metadata.actor?.id ?? null;
}
