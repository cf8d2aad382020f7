/**
 * The value at a dotted path (`address.city`, `items.0.sku`) inside `source`, or undefined when any
 * segment is missing. Only own properties are followed, so `constructor` or `__proto__` in a path
 * cannot reach prototype objects.
 */
export function readPath(source: unknown, path: string): unknown {
  let current: unknown = source;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || current instanceof Date) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
