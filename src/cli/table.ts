/**
 * Plain-text tables for humans: a header, aligned columns (numbers to the right), long cells cut with
 * an ellipsis. Scripts use `--json` instead, which prints the API's own JSON.
 */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
  /** Cut cells longer than this (default 60). */
  max?: number;
}

function cell(value: string | number | boolean | null | undefined, max: number): string {
  const text = value === null || value === undefined ? '-' : String(value).replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const texts = cells.map((values) => values.map((value, i) => cell(value, columns[i]!.max ?? 60)));
  const numeric = columns.map((_, i) => cells.every((values) => typeof values[i] === 'number'));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...texts.map((values) => values[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => (numeric[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header.toUpperCase())), ...texts.map(line)].join('\n');
}

/** Two columns of names and values, for one resource's details. */
export function formatPairs(pairs: Record<string, unknown>): string {
  const width = Math.max(0, ...Object.keys(pairs).map((key) => key.length));
  return Object.entries(pairs)
    .map(([key, value]) => `${key.padEnd(width)}  ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '-')}`)
    .join('\n');
}
