import { createHash } from 'node:crypto';

export interface WeightedVariant {
  readonly id: string;
  /** Percent of entries, 0-100; the weights of one experiment add up to 100. */
  readonly weight: number;
}

/** The seed that makes an assignment stable for one user entry at one experiment step. */
export function experimentSeed(journeyId: string, entryId: string, stepId: string): string {
  return `${journeyId}:${entryId}:${stepId}`;
}

const BUCKET_BITS = 48;

/** A uniform, deterministic position in [0, 100) for the seed (the first 48 bits of its SHA-256). */
export function bucketOf(seed: string): number {
  const digest = createHash('sha256').update(seed, 'utf8').digest();
  return (digest.readUIntBE(0, BUCKET_BITS / 8) / 2 ** BUCKET_BITS) * 100;
}

/**
 * The variant for this seed: variants own consecutive slices of [0, 100) in their listed order, each
 * as wide as its weight. The same seed always gets the same variant; a variant of weight 0 never does.
 * @throws RangeError when no variant has a positive weight (a validated experiment always has one).
 */
export function assignVariant<V extends WeightedVariant>(variants: readonly V[], seed: string): V {
  const bucket = bucketOf(seed);
  let upper = 0;
  let lastEligible: V | undefined;
  for (const variant of variants) {
    if (variant.weight <= 0) continue;
    upper += variant.weight;
    lastEligible = variant;
    if (bucket < upper) return variant;
  }
  // Only reachable when weights add up to less than 100: the remainder goes to the last eligible variant.
  if (lastEligible === undefined) throw new RangeError('an experiment needs a variant with a positive weight');
  return lastEligible;
}
