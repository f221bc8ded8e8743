import { stringify } from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Column<T> {
  header: string;
  value: (item: T) => unknown;
}

/** Writes items as a kubectl-style table (no borders, columns padded) or as JSON/YAML documents. */
export function printItems<T>(
  write: (text: string) => void,
  format: OutputFormat,
  items: readonly T[],
  columns: readonly Column<T>[],
  raw: unknown = { items },
): void {
  if (format !== 'table') return printDocument(write, format, raw);
  const rows = [columns.map((column) => column.header), ...items.map((item) => columns.map((column) => cell(column.value(item))))];
  const widths = columns.map((_, index) => Math.max(...rows.map((row) => row[index]!.length)));
  for (const row of rows) write(`${row.map((text, index) => (index === row.length - 1 ? text : text.padEnd(widths[index]!))).join('   ')}\n`);
}

export function printDocument(write: (text: string) => void, format: OutputFormat, document: unknown): void {
  if (format === 'json') write(`${JSON.stringify(document, null, 2)}\n`);
  else write(stringify(document));
}

export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a JSON scalar by now: objects and arrays are handled above
  return String(value);
}

/** One object as `kubectl describe` shows it: a label per line, nested lists and objects indented. */
export function printFields(write: (text: string) => void, fields: readonly (readonly [string, unknown])[]): void {
  const width = Math.max(...fields.map(([label]) => label.length)) + 2;
  for (const [label, value] of fields) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => !(Array.isArray(item) && item.length === 0));
      write(`${label}:${entries.length === 0 ? ' -' : ''}\n`);
      for (const [key, item] of entries) write(`  ${key}: ${cell(item)}\n`);
    } else write(`${`${label}:`.padEnd(width)}${cell(value)}\n`);
  }
}
