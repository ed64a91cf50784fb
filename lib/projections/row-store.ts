/**
 * The rebuild's row store: what a rebuild knows of its shadow tables, kept across pages.
 *
 * A rebuild writes into shadow tables that nothing else reads or writes, and every write of a handler
 * goes through a RowCache. So the rebuild can know, per table, exactly which keys the shadow table
 * holds (`written`), and keep the rows themselves (`retained`, within a memory budget). While a store
 * is attached to a page's transaction (attachRowStore):
 * - RowCache.load answers from memory: a retained row as it was last written, a key never written as
 *   missing (no query); only a key written but no longer retained is read from the table;
 * - RowCache.flush hands its dirty rows to the store instead of writing them; the rebuild writes them
 *   at the end of the page (RowStore.flush, same transaction): keys new to the table with COPY (no
 *   conflict check, no JSON to parse), keys already there with the batch upsert, deletes with one
 *   DELETE. Each row is written once per page whatever the number of events that changed it.
 * The live worker never attaches a store: its RowCaches read and write the tables as before.
 */
import { sql, getTableColumns, type SQL } from 'drizzle-orm';
import { getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { ProjectionTx } from './types';

/** How a table's rows are written: the key column, the columns an upsert overwrites. */
export interface TableShape {
  table: PgTable;
  /** JS name of the key column. */
  key: string;
  /** JS names of the columns an upsert of an existing row overwrites (default: all but the key). */
  updateColumns?: readonly string[];
  /** Keys are only ever created by `put`, once each, and never loaded (one row per event). */
  appendOnly?: boolean;
}

type Row = Record<string, unknown>;

/**
 * The rows one rebuild keeps in memory, over all tables of all its stores. Each table keeps its rows
 * in the order they were last used (written or looked up); over the limit, the table retaining the
 * most lets go of its least recently used rows (their keys stay known: a load reads them from the
 * table again), down to 90 % of the limit, so trimming is not done on every page.
 */
export class RetainBudget {
  /** Rows retained now, over every table. */
  rows = 0;
  /** The most rows retained at the end of a page (after trimming). */
  peak = 0;
  private readonly tables = new Set<TableState>();

  constructor(readonly limit: number = Infinity) {}

  /** @internal */
  track(s: TableState): void {
    this.tables.add(s);
  }

  /** Keys known to be in the shadow tables, over every table (each a string in memory). */
  get knownKeys(): number {
    let n = 0;
    for (const s of this.tables) n += s.written.size;
    return n;
  }

  /**
   * Over the limit: the largest tables let go of their least recently used rows, down to one level
   * (the tables above it cut to it), until 90 % of the limit is retained.
   */
  trim(): void {
    if (this.rows > this.limit) {
      const excess = this.rows - Math.floor(this.limit * 0.9);
      const tables = [...this.tables].filter((s) => s.retained.size > 0).sort((a, b) => b.retained.size - a.retained.size);
      // The level: the largest L with sum(max(0, size - L)) >= excess.
      let above = 0;
      let level = 0;
      for (let i = 0; i < tables.length; i++) {
        above += tables[i]!.retained.size;
        const next = i + 1 < tables.length ? tables[i + 1]!.retained.size : 0;
        // Cutting the first i + 1 tables to `next` frees above - (i + 1) * next rows.
        if (above - (i + 1) * next >= excess) {
          level = Math.max(next, Math.floor((above - excess) / (i + 1)));
          break;
        }
      }
      for (const s of tables) {
        let evict = s.retained.size - level;
        if (evict <= 0) break;
        this.rows -= evict;
        for (const key of s.retained.keys()) {
          s.retained.delete(key);
          if (--evict === 0) break;
        }
      }
    }
    this.peak = Math.max(this.peak, this.rows);
  }

  /** Lets go of everything every store of this budget holds (the rebuild has ended). */
  release(): void {
    for (const s of this.tables) {
      s.written.clear();
      s.retained.clear();
      s.dirty.clear();
    }
    this.tables.clear();
    this.rows = 0;
  }
}

class TableState {
  /** Keys present in the shadow table (not tracked for append-only tables). */
  readonly written = new Set<string>();
  /** Rows as last written, by key, least recently used first (never for append-only tables). */
  readonly retained = new Map<string, Row>();
  /** Written by handlers in this page, not yet in the table (null: deleted). */
  readonly dirty = new Map<string, Row | null>();
  constructor(readonly shape: TableShape) {}
}

export type Lookup = { known: true; row: Row | undefined } | { known: false };

export class RowStore {
  private readonly tables = new Map<PgTable, TableState>();

  constructor(private readonly budget: RetainBudget = new RetainBudget()) {}

  private state(shape: TableShape): TableState {
    let s = this.tables.get(shape.table);
    if (!s) {
      s = new TableState(shape);
      this.tables.set(shape.table, s);
      this.budget.track(s);
    }
    return s;
  }

  /** Rows retained and keys known by this store (tests, diagnostics). */
  get size(): { retained: number; known: number } {
    let retained = 0;
    let known = 0;
    for (const s of this.tables.values()) {
      retained += s.retained.size;
      known += s.written.size;
    }
    return { retained, known };
  }

  /** What the shadow table holds for `key` at the start of this page, if known without reading it. */
  lookup(shape: TableShape, key: string): Lookup {
    const s = this.state(shape);
    if (s.shape.appendOnly) return { known: false };
    const retained = s.retained.get(key);
    if (retained) {
      // Most recently used last.
      s.retained.delete(key);
      s.retained.set(key, retained);
      return { known: true, row: retained };
    }
    if (!s.written.has(key)) return { known: true, row: undefined };
    return { known: false }; // written, no longer retained
  }

  /** A handler's flush: the row (or its deletion) is written at the end of the page. */
  write(shape: TableShape, key: string, row: Row | null): void {
    this.state(shape).dirty.set(key, row);
  }

  /**
   * Writes what this page changed, in `tx` (nothing else may be in flight on its connection: COPY
   * takes the connection). Then lets go of retained rows if the budget is exceeded.
   */
  async flush(tx: ProjectionTx): Promise<void> {
    const pg = (tx as unknown as { session: { client: postgres.TransactionSql } }).session.client;
    // Deletes and upserts of every table go out together (pipelined); the COPYs after them, one at a
    // time (a COPY takes the connection).
    const statements: SQL[] = [];
    const copies: Array<() => Promise<void>> = [];
    const retain = this.budget.limit > 0;
    for (const s of this.tables.values()) {
      if (s.dirty.size === 0) continue;
      const fresh: Row[] = [];
      const existing: Row[] = [];
      const deletes: string[] = [];
      const appendOnly = s.shape.appendOnly;
      for (const [key, row] of s.dirty) {
        const present = appendOnly ? false : s.written.has(key);
        if (row === null) {
          if (present) deletes.push(key);
          s.written.delete(key);
          if (s.retained.delete(key)) this.budget.rows--;
          continue;
        }
        (present ? existing : fresh).push(row);
        if (appendOnly) continue;
        s.written.add(key);
        if (retain) {
          // Most recently used last.
          if (s.retained.delete(key)) this.budget.rows--;
          s.retained.set(key, row);
          this.budget.rows++;
        }
      }
      s.dirty.clear();
      const columns = getTableColumns(s.shape.table) as Record<string, PgColumn>;
      const keyColumn = columns[s.shape.key]!;
      const name = `"${getTableConfig(s.shape.table).name}"`;
      for (let i = 0; i < deletes.length; i += 5000) {
        statements.push(sql`delete from ${sql.raw(name)} where ${keyColumn} = any(${sql.param(deletes.slice(i, i + 5000))}::${sql.raw(keyColumn.getSQLType())}[])`);
      }
      statements.push(...upsertStatements(s.shape, existing));
      // The columns the upsert writes (a shared table's other columns keep their defaults, as there).
      const copied = Object.entries(columns).filter(([js]) => js === s.shape.key || !s.shape.updateColumns || s.shape.updateColumns.includes(js));
      if (fresh.length > 0) copies.push(() => copyRows(pg, name, copied, fresh));
    }
    // allSettled: every statement has completed (nothing in flight) before a COPY or a rollback.
    const settled = await Promise.allSettled(statements.map((statement) => tx.execute(statement)));
    const refused = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused) throw refused.reason;
    for (const copy of copies) await copy();
    this.budget.trim();
  }
}

const stores = new WeakMap<object, RowStore>();

/** RowCaches used through `tx` load from and flush into `store` (a rebuild's page transaction). */
export function attachRowStore(tx: ProjectionTx, store: RowStore): void {
  stores.set(tx, store);
}

export function rowStoreOf(tx: ProjectionTx): RowStore | undefined {
  return stores.get(tx);
}

/**
 * The batch upsert of rows (one statement per 5000, one parameter: the rows as JSON, turned back into
 * the table's row type by jsonb_populate_recordset; much faster than a many-parameter INSERT).
 */
export function upsertStatements(shape: TableShape, rows: readonly Row[]): SQL[] {
  if (rows.length === 0) return [];
  const columns = Object.entries(getTableColumns(shape.table) as Record<string, PgColumn>);
  const name = getTableConfig(shape.table).name;
  const keyName = (getTableColumns(shape.table) as Record<string, PgColumn>)[shape.key]!.name;
  const written = columns.filter(([js]) => js === shape.key || !shape.updateColumns || shape.updateColumns.includes(js));
  const list = written.map(([, c]) => `"${c.name}"`).join(', ');
  const updates = written
    .filter(([js]) => js !== shape.key)
    .map(([, c]) => `"${c.name}" = excluded."${c.name}"`)
    .join(', ');
  const payload = rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [js, column] of written) {
      const v = row[js];
      out[column.name] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v;
    }
    return out;
  });
  const statements: SQL[] = [];
  for (let i = 0; i < payload.length; i += 5000) {
    const json = JSON.stringify(payload.slice(i, i + 5000));
    statements.push(
      sql`insert into ${sql.raw(`"${name}"`)} (${sql.raw(list)}) select ${sql.raw(list)} from jsonb_populate_recordset(null::${sql.raw(`"${name}"`)}, ${json}::jsonb)
          on conflict (${sql.raw(`"${keyName}"`)}) do ${sql.raw(updates ? `update set ${updates}` : 'nothing')}`,
    );
  }
  return statements;
}

const SPECIAL = /[\\\n\r\t]/;
const SPECIAL_ALL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One field in COPY's text format, as jsonb_populate_recordset would have read the row's JSON. */
function copyField(value: unknown, json: boolean): string {
  if (value === null || value === undefined) return '\\N';
  let text: string;
  if (json) text = JSON.stringify(value);
  else if (typeof value === 'string') text = value;
  else if (value instanceof Date) return value.toISOString();
  else if (typeof value === 'boolean') return value ? 't' : 'f';
  else if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  else text = JSON.stringify(value);
  return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : text;
}

/**
 * COPY `rows` into `table` (a name as written in SQL; resolved by the transaction's search_path).
 * postgres.js does not fail the stream when the server refuses the data after it was all sent, so the
 * server's error is taken from the query itself.
 */
export async function copyRows(pg: postgres.TransactionSql, table: string, columns: ReadonlyArray<[string, PgColumn]>, rows: readonly Row[]): Promise<void> {
  const json = columns.map(([, c]) => c.getSQLType() === 'jsonb' || c.getSQLType() === 'json');
  for (const [, c] of columns) if (c.getSQLType().endsWith('[]')) throw new Error(`copyRows: array column ${c.name} of ${table} not supported`);
  const list = columns.map(([, c]) => `"${c.name}"`).join(', ');
  const lines: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    let line = '';
    for (let i = 0; i < columns.length; i++) {
      if (i > 0) line += '\t';
      line += copyField(row[columns[i]![0]], json[i]!);
    }
    lines[r] = line;
  }
  await copyText(pg, `copy ${table} (${list}) from stdin`, lines);
}

/**
 * Runs a COPY … FROM STDIN statement with the given lines (text format), in a transaction: a COPY needs
 * a connection of its own. On a pool postgres.js pipelines a query behind a running one when every
 * connection is busy; the server, expecting COPY data, reads that query's message, ends the session
 * ("protocol synchronization was lost") and the COPY fails with 'write EPIPE' or 'read ECONNRESET'.
 */
export async function copyText(pg: postgres.TransactionSql, statement: string, lines: readonly string[]): Promise<void> {
  if (typeof (pg as Partial<postgres.TransactionSql>).savepoint !== 'function') {
    throw new Error(`${statement}: a COPY needs a connection of its own (run it in a transaction, not on the pool)`);
  }
  if (lines.length === 0) return;
  const query = pg.unsafe(statement) as unknown as postgres.PendingQuery<postgres.Row[]> & { reject: (e: unknown) => void };
  const failed = new Promise<never>((_, reject) => {
    const original = query.reject;
    query.reject = (error: unknown) => {
      reject(error);
      original(error);
    };
  });
  failed.catch(() => {});
  const stream = (await Promise.race([query.writable(), failed])) as NodeJS.WritableStream;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  for (let i = 0; i < lines.length; i += 2000) stream.write(`${lines.slice(i, i + 2000).join('\n')}\n`);
  stream.end();
  try {
    await Promise.race([done, failed]);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EPIPE' || code === 'ECONNRESET' || code === 'CONNECTION_CLOSED') {
      throw new Error(`${statement}: the connection was closed during the COPY (${code})`, { cause: error });
    }
    throw error;
  }
}
