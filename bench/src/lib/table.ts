/** Prints rows as an aligned text table (numbers right-aligned, with thousands separators). */
export function printTable(title: string, rows: ReadonlyArray<Record<string, string | number | boolean | null>>): void {
  if (rows.length === 0) return;
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value: string | number | boolean | null | undefined): string => {
    if (value === null || value === undefined) return '-';
    if (typeof value === 'number')
      return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
    return String(value);
  };
  const text = rows.map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((column, index) => Math.max(column.length, ...text.map((line) => line[index]!.length)));
  const numeric = columns.map((column) =>
    rows.every((row) => typeof row[column] === 'number' || row[column] === null || row[column] === undefined),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((value, index) => (numeric[index] ? value.padStart(widths[index]!) : value.padEnd(widths[index]!))).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(columns));
  console.log(`|${widths.map((width, index) => (numeric[index] ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`);
  for (const cells of text) console.log(line(cells));
}

/** "met" / "NOT met" with the figure that decided it. */
export function verdict(met: boolean, detail: string): string {
  return `${met ? 'met' : 'NOT met'} (${detail})`;
}
