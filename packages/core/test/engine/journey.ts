import { validateJourney } from '../../src/journey/validate.js';
import type { JourneyDefinition } from '../../src/journey/schema.js';
import { exampleWith, type Draft } from '../journey/helpers.js';

/** The contract example (optionally changed), validated, as the engine receives it. */
export function validExample(change: (journey: Draft) => void = () => {}): JourneyDefinition {
  const result = validateJourney(exampleWith(change));
  if (!result.ok) throw new Error(`test journey is invalid: ${JSON.stringify(result.issues)}`);
  return result.journey;
}
