import { unstorableIssues } from '../data/storable.js';
import { parseReportingIssues, type ValidationIssue } from './issues.js';
import { journeySizeIssue } from './limits.js';
import { JourneyDefinitionSchema, type JourneyDefinition } from './schema.js';

export type JourneyValidation = { ok: true; journey: JourneyDefinition } | { ok: false; issues: ValidationIssue[] };

/**
 * Checks a submitted journey against the whole contract (shape, formats, references, reachability,
 * loops, weights, what can be stored) and reports every problem at once, each at a dotted path. On success
 * `journey` has defaults filled in. Never throws. A document past the bounds of a whole journey (nesting,
 * size, steps) gets that one issue instead: the rules are not run on it.
 */
export function validateJourney(input: unknown): JourneyValidation {
  const tooLarge = journeySizeIssue(input);
  if (tooLarge) return { ok: false, issues: [tooLarge] };
  const result = parseReportingIssues(JourneyDefinitionSchema, input);
  const unstorable = unstorableIssues(input);
  if (result.ok && unstorable.length === 0) return { ok: true, journey: result.value };
  return { ok: false, issues: [...(result.ok ? [] : result.issues), ...unstorable] };
}
