/**
 * How a value reads inside text: strings as they are, numbers and booleans as written, dates as ISO
 * 8601, objects and arrays as JSON, and nothing ("") for missing, null or unprintable values. Liquid's output of
 * `{{ ... }}` goes through it (see liquid.ts), so `{{ user.address }}` reads as JSON, not "[object Object]".
 */
export function stringifyForTemplate(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value) ?? '';
    } catch {
      return ''; // cycles or BigInts deep inside
    }
  }
  return '';
}
