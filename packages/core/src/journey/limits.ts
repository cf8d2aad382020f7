import { isRecord } from '../data/is-record.js';
import { formatBytes, jsonByteLength } from '../data/json-size.js';
import { nestingIssue } from '../data/storable.js';
import type { ValidationIssue } from './issues.js';

/**
 * How large a journey may be. The engine loads active journeys into every worker and walks their steps for
 * each user, so their size is bounded: each bound is reported as a 400 at the field that passes it.
 */
export const JOURNEY_LIMITS = {
  steps: 500,
  /** Branches of an audience split. */
  branches: 50,
  /** Paths of an action-paths step. */
  paths: 50,
  /** Variants of an experiment (weights are whole numbers adding up to 100). */
  variants: 20,
  exitEvents: 100,
  webhookUrlLength: 2048,
  /** Headers of one webhook step, and the length of each value (a template). */
  headers: 20,
  headerValueLength: 1024,
  /** Attributes one user_update step sets, and removes. */
  updateAttributes: 100,
  /** A message step's payload, as JSON in UTF-8. */
  payloadBytes: 32 * 1024,
  /** The whole definition, as JSON in UTF-8. */
  definitionBytes: 512 * 1024,
} as const;

/**
 * The bounds of a journey as a whole, checked before its rules: nesting, size as JSON and the number of steps.
 * A document past one of them gets that one issue, at once, however large it is.
 */
export function journeySizeIssue(input: unknown): ValidationIssue | null {
  const tooDeep = nestingIssue(input);
  if (tooDeep) return tooDeep;
  if (jsonByteLength(input) > JOURNEY_LIMITS.definitionBytes) {
    return { path: '', message: `is too large: a journey is at most ${formatBytes(JOURNEY_LIMITS.definitionBytes)} as JSON` };
  }
  const steps = isRecord(input) && isRecord(input.steps) ? Object.keys(input.steps).length : 0;
  if (steps > JOURNEY_LIMITS.steps) return { path: 'steps', message: `may have at most ${JOURNEY_LIMITS.steps} steps, not ${steps}` };
  return null;
}
