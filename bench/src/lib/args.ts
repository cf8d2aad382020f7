import { parseArgs } from 'node:util';

/** `--name value` flags with integer values, each with a default; anything else is an error naming the flag. */
export function intFlags<const T extends Record<string, number>>(defaults: T): T {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(defaults).map((name) => [name, { type: 'string' as const }])),
    strict: true,
  });
  const result: Record<string, number> = { ...defaults };
  for (const [name, raw] of Object.entries(values)) {
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${String(raw)}`);
    result[name] = value;
  }
  return result as T;
}
