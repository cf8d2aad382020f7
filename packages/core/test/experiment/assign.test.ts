import { describe, expect, it } from 'vitest';
import { assignVariant, bucketOf, experimentSeed } from '../../src/experiment/assign.js';

const variants = [
  { id: 'A', weight: 45, next: 'msgA' },
  { id: 'B', weight: 45, next: 'msgB' },
  { id: 'control', weight: 10, next: null },
];

function distribution(seeds: string[], list = variants): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const seed of seeds) {
    const id = assignVariant(list, seed).id;
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

const seeds = Array.from({ length: 10_000 }, (_, i) => experimentSeed('journey-1', `entry-${i}`, 'ab'));

describe('assignVariant', () => {
  it('honours the weights over 10,000 entries (within 1.5 points)', () => {
    const counts = distribution(seeds);
    expect(Math.abs((counts['A'] ?? 0) / 100 - 45)).toBeLessThan(1.5);
    expect(Math.abs((counts['B'] ?? 0) / 100 - 45)).toBeLessThan(1.5);
    expect(Math.abs((counts['control'] ?? 0) / 100 - 10)).toBeLessThan(1.5);
  });

  it('honours uneven weights', () => {
    const counts = distribution(seeds, [
      { id: 'small', weight: 5, next: null },
      { id: 'big', weight: 95, next: null },
    ]);
    expect(Math.abs((counts['small'] ?? 0) / 100 - 5)).toBeLessThan(1);
  });

  it('is stable: the same entry always gets the same variant', () => {
    const first = seeds.slice(0, 200).map((seed) => assignVariant(variants, seed).id);
    const again = seeds.slice(0, 200).map((seed) => assignVariant(variants, seed).id);
    expect(again).toEqual(first);
    expect(assignVariant(variants, 'j:e:s')).toBe(assignVariant(variants, 'j:e:s'));
  });

  it('depends on the whole seed: another step or journey assigns independently', () => {
    const here = seeds.slice(0, 500).map((seed) => assignVariant(variants, seed).id);
    const otherStep = seeds.slice(0, 500).map((seed) => assignVariant(variants, `${seed}2`).id);
    const agreement = here.filter((id, i) => id === otherStep[i]).length / here.length;
    // Independent draws agree about 0.45² + 0.45² + 0.1² = 41.5% of the time.
    expect(agreement).toBeGreaterThan(0.35);
    expect(agreement).toBeLessThan(0.5);
  });

  it('never picks a variant of weight 0', () => {
    const counts = distribution(seeds.slice(0, 2_000), [
      { id: 'off', weight: 0, next: null },
      { id: 'on', weight: 100, next: null },
    ]);
    expect(counts).toEqual({ on: 2_000 });
  });

  it('throws without any positive weight', () => {
    expect(() => assignVariant([{ id: 'x', weight: 0 }], 'seed')).toThrow(RangeError);
    expect(() => assignVariant([], 'seed')).toThrow(RangeError);
  });
});

describe('bucketOf', () => {
  it('maps seeds into [0, 100) deterministically and spreads them', () => {
    const buckets = seeds.slice(0, 1_000).map(bucketOf);
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...buckets)).toBeLessThan(100);
    expect(new Set(buckets.map((bucket) => Math.floor(bucket / 10))).size).toBe(10);
    expect(bucketOf('a')).toBe(bucketOf('a'));
  });

  it('builds seeds from journey, entry and step', () => {
    expect(experimentSeed('j1', 'e1', 'ab')).toBe('j1:e1:ab');
  });
});
