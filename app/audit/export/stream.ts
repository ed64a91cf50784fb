/** The export's body: CSV or JSON encoded one database batch at a time, as the client reads it. */
import { stringify } from 'csv-stringify/sync';

type Rec = Record<string, unknown>;

/** Pulls one batch per read: the stream's queue holds at most one encoded batch. */
export function streamOf<T>(rows: AsyncIterable<T[]>, format: 'csv' | 'json', columns: readonly string[], record: (row: T) => Rec): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = rows[Symbol.asyncIterator]();
  // Cells starting with = + - @ are prefixed so that a spreadsheet does not run them as formulas.
  const csv = (records: unknown[][]) => stringify(records, { escape_formulas: true, cast: { boolean: (v) => String(v), object: (v) => JSON.stringify(v) } });
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
      const records = next.value.map(record);
      if (records.length === 0) return;
      if (format === 'csv') {
        controller.enqueue(encoder.encode(csv(records.map((r) => columns.map((c) => (Array.isArray(r[c]) ? (r[c] as unknown[]).join(' ') : r[c]))))));
      } else {
        const body = records.map((r) => JSON.stringify(r)).join(',\n');
        controller.enqueue(encoder.encode(`${first ? '\n' : ',\n'}${body}`));
      }
      first = false;
    },
    async cancel() {
      // The client went away: close the database cursor (it gives its connection back).
      await iterator.return?.();
    },
  });
}

