import type { ReactNode } from 'react';

/**
 * One column of a <Table>: its header and how a row fills its cell.
 * - `rowHeader`: the cell is the row's <th scope="row"> (name the row for screen readers; one per table).
 * - `align: 'end'`: numbers and amounts (right-aligned, tabular figures).
 * - `hideHeader`: the header is read by screen readers only (e.g. an actions column).
 */
export interface Column<T> {
  header: ReactNode;
  cell: (row: T, index: number) => ReactNode;
  rowHeader?: boolean;
  align?: 'start' | 'end';
  hideHeader?: boolean;
  /** Extra classes for this column's cells (header and body). */
  className?: string;
}

export interface TableProps<T> {
  /** What the table shows; read by screen readers, shown only with `showCaption`. */
  caption: ReactNode;
  showCaption?: boolean;
  columns: ReadonlyArray<Column<T>>;
  rows: readonly T[];
  rowKey: (row: T, index: number) => string;
  /** Shown instead of the table when there are no rows (default: an empty table body). */
  empty?: ReactNode;
  /** Extra classes per body row (e.g. highlight one). */
  rowClassName?: (row: T) => string | undefined;
  /** Extra attributes per body row (e.g. data-testid). */
  rowProps?: (row: T) => Record<`data-${string}`, string | undefined>;
  /** data-testid of the <table>. */
  testId?: string;
  /** Narrowest the table gets (CSS length, e.g. '40rem'): below it the box scrolls instead of squeezing columns. */
  minWidth?: string;
}

/**
 * The one table of the app (admin, audit, clinic and patient pages): a white, full-width table in a
 * horizontally scrolling box, so a wide table never widens a 375 px page (give it a `minWidth` to
 * scroll rather than squeeze).
 * Works in server and client components (no hooks).
 */
export function Table<T>({ caption, showCaption = false, columns, rows, rowKey, empty, rowClassName, rowProps, testId, minWidth }: TableProps<T>) {
  if (rows.length === 0 && empty !== undefined) return <>{empty}</>;
  const align = (c: Column<T>) => (c.align === 'end' ? 'text-right tabular-nums' : 'text-left');
  return (
    // relative: the sr-only (absolutely positioned) captions and headers stay inside the scrolling box;
    // without it, one in a column scrolled out of view widens the whole page.
    <div className="relative overflow-x-auto rounded-lg border border-stone-200">
      {/* break-keep: Korean wraps between words, not after any syllable. */}
      <table className="w-full border-collapse break-keep bg-white text-sm" style={minWidth ? { minWidth } : undefined} data-testid={testId}>
        <caption className={showCaption ? 'p-2 text-left font-semibold' : 'sr-only'}>{caption}</caption>
        <thead className="bg-stone-50">
          <tr className="border-b border-stone-200">
            {columns.map((c, i) => (
              <th key={i} scope="col" className={`p-2 font-semibold ${align(c)} ${c.className ?? ''}`}>
                {c.hideHeader ? <span className="sr-only">{c.header}</span> : c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            <tr key={rowKey(row, r)} className={`border-b border-stone-100 align-top last:border-0 ${rowClassName?.(row) ?? ''}`} {...rowProps?.(row)}>
              {columns.map((c, i) =>
                c.rowHeader ? (
                  <th key={i} scope="row" className={`p-2 font-medium ${align(c)} ${c.className ?? ''}`}>
                    {c.cell(row, r)}
                  </th>
                ) : (
                  <td key={i} className={`p-2 ${align(c)} ${c.className ?? ''}`}>
                    {c.cell(row, r)}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
