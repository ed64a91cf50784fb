/** The export's body: CSV or JSON encoded one database batch at a time, as the client reads it. */
import { stringify } from 'csv-stringify/sync';

type Rec = Record<string, unknown>;

/**
 * Rows per encoded chunk. A chunk's text stays far below V8's large-object size (~128 KiB): a
 * large string goes straight to the old generation and lives until a full collection, so one
 * string per 1000-row batch (≈ 200 KiB) let the heap grow by hundreds of MB over a 1M-row export,
 * while small chunks die young (bench/audit.ts, docs/PERFORMANCE.md).
 */
const ROWS_PER_CHUNK = 100;

/** Pulls one database batch per read: the stream's queue holds at most that batch, encoded. */
export function streamOf<T>(rows: AsyncIterable<T[]>, format: 'csv' | 'json', columns: readonly string[], record: (row: T) => Rec): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = rows[Symbol.asyncIterator]();
  // Cells starting with = + - @ are prefixed so that a spreadsheet does not run them as formulas.
  const csv = (records: unknown[][]) => stringify(records, { escape_formulas: true, cast: { boolean: (v) => String(v), object: (v) => JSON.stringify(v) } });
  const cells = (r: Rec) => columns.map((c) => (Array.isArray(r[c]) ? (r[c] as unknown[]).join(' ') : r[c]));
  let first = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(format === 'csv' ? `\uFEFF${csv([[...columns]])}` : '['));
    },
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) {
        if (format === 'json') controller.enqueue(encoder.encode(first ? ']\n' : '\n]\n'));
        controller.close();
        return;
      }
      const batch = next.value;
      for (let i = 0; i < batch.length; i += ROWS_PER_CHUNK) {
        const records = batch.slice(i, i + ROWS_PER_CHUNK).map(record);
        if (format === 'csv') controller.enqueue(encoder.encode(csv(records.map(cells))));
        else {
          controller.enqueue(encoder.encode(`${first ? '\n' : ',\n'}${records.map((r) => JSON.stringify(r)).join(',\n')}`));
          first = false;
        }
      }
      if (batch.length > 0) first = false;
    },
    async cancel() {
      // The client went away: close the database cursor (it gives its connection back).
      await iterator.return?.();
    },
  });
}
