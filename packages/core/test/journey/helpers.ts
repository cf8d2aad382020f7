import { exampleJourneyFixture } from '../fixtures/example-journey.js';

/** A deep copy of the contract's example, changed by `change`; typed loosely because it is made invalid on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Draft = any;

export function exampleWith(change: (journey: Draft) => void): Draft {
  const journey: Draft = structuredClone(exampleJourneyFixture);
  change(journey);
  return journey;
}

export const hook = { url: 'http://127.0.0.1:9999/hook' };

export function message(next: string | null): Draft {
  return { type: 'message', channel: 'webhook', messageType: 'promo', webhook: hook, payload: { text: 'x' }, next };
}
