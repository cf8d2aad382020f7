/**
 * At most `limit` holders per origin at a time, the rest wait in arrival order. Origins are independent: a host
 * that holds its requests open fills only its own slots, and sends to every other host go on.
 */
export class OriginLimiter {
  private readonly origins = new Map<string, { active: number; waiting: Array<() => void> }>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`the per-origin limit must be a positive integer, got ${limit}`);
  }

  /** Resolves with a release function once a slot of `origin` is free; call it exactly when done (extra calls do nothing). */
  async acquire(origin: string): Promise<() => void> {
    const slots = this.origins.get(origin) ?? { active: 0, waiting: [] };
    this.origins.set(origin, slots);
    if (slots.active < this.limit) slots.active++;
    // A released slot passes straight to the next waiter, so `active` stays counted and no newcomer can jump the queue.
    else await new Promise<void>((resolve) => slots.waiting.push(resolve));

    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = slots.waiting.shift();
      if (next) return next();
      slots.active--;
      if (slots.active === 0) this.origins.delete(origin);
    };
  }

  /** Holders of `origin`'s slots now (for tests and metrics). */
  active(origin: string): number {
    return this.origins.get(origin)?.active ?? 0;
  }
}
