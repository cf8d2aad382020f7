import { validateJourney, type JourneyDefinition, type MessageRecord } from '@journey/core';
import { createJourneysRepository, type MongoStore } from '@journey/mongo';

/** A published journey version, as the entry and dispatch code see it. */
export interface PublishedJourney {
  journeyId: string;
  version: number;
  definition: JourneyDefinition;
}

/** How users enter a benchmark journey: through the API (the benchmarks enter them directly), or by an event. */
export type BenchTrigger = { type: 'api' } | { type: 'event'; event: string };

/** The benchmarks' journey: its first (and only) step is a webhook message to `url`, then the entry completes. */
export function webhookJourneyInput(url: string, trigger: BenchTrigger = { type: 'api' }): unknown {
  return {
    name: 'Benchmark',
    entry: { trigger, reentry: { mode: 'never' } },
    start: 'hello',
    steps: {
      hello: {
        type: 'message',
        channel: 'webhook',
        messageType: 'bench',
        webhook: { url },
        payload: { text: 'Hello {{user.firstName}}' },
        next: null,
      },
    },
    settings: { timezone: 'UTC' },
  };
}

/** Validates (core validateJourney), creates and publishes the journey through the journeys repository. */
export async function publishWebhookJourney(mongo: MongoStore, url: string, trigger?: BenchTrigger): Promise<PublishedJourney> {
  const validation = validateJourney(webhookJourneyInput(url, trigger));
  if (!validation.ok) throw new Error(`benchmark journey invalid: ${JSON.stringify(validation.issues)}`);
  const journeys = createJourneysRepository(mongo.db);
  await journeys.ensureIndexes();
  const created = await journeys.create(validation.journey);
  if (!created.ok) throw new Error(`journey not created: ${JSON.stringify(created)}`);
  const published = await journeys.publish(created.journey.id);
  if (!published.ok) throw new Error(`journey not published: ${JSON.stringify(published)}`);
  return { journeyId: created.journey.id, version: 1, definition: validation.journey };
}

/** The record of the journey's message sent once at `at` (epoch ms) by the try that owns `token`. */
export function sentRecord(token: string, at: number): MessageRecord {
  return {
    status: 'sent',
    reason: null,
    attempts: 1,
    completedAt: at,
    token,
    visit: 1,
    firstAttemptAt: at,
    nextAttemptAt: null,
    lastError: null,
    branch: null,
    request: null,
  };
}
