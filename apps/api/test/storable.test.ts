import { exampleJourney } from '@journey/core';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { sharedTestApp, uniqueUserId } from './helpers.js';
import { call, recordsOf } from './ingest-helpers.js';

/** Nested arrays: MongoDB stores them; a MongoDB-protocol server that refuses them gives a 400, never a 500. */
const NESTED = { matrix: [[1, 2], [[3]], []], rows: [{ cells: [['a']] }] };

/**
 * What the edge accepts is stored as given, or refused with the contract's 400 naming where: never a 500, never a
 * 2xx for something the store then changed or refused. `readBack` returns what is stored now: `sent` after an
 * acceptance, `before` (undefined: nothing) after a refusal.
 */
async function expectStoredOrRefused(
  response: LightMyRequestResponse,
  { accepted, readBack, sent, before }: { accepted: number; readBack: () => Promise<unknown>; sent: unknown; before?: unknown },
): Promise<void> {
  expect([accepted, 400], response.body).toContain(response.statusCode);
  if (response.statusCode === accepted) {
    expect(await readBack()).toEqual(sent);
    return;
  }
  expect(response.json()).toEqual({
    error: expect.any(String),
    details: [{ path: expect.stringMatching(/^body/), message: expect.any(String) }],
  });
  expect(await readBack()).toEqual(before);
}

describe('what the edge accepts is storable (nested arrays)', () => {
  const t = sharedTestApp();

  it('PUT /v1/users/:userId stores them as sent, or answers 400', async () => {
    const userId = uniqueUserId('storable');
    const response = await call(t.app, 'PUT', `/v1/users/${userId}`, { payload: { attributes: NESTED } });
    await expectStoredOrRefused(response, {
      accepted: 200,
      readBack: async () =>
        (await t.deps.mongo.db.collection<{ _id: string; attributes: unknown }>('users').findOne({ _id: userId }))?.attributes,
      sent: NESTED,
    });
  });

  it('POST and PUT /v1/journeys store them in a payload as sent, or answer 400', async () => {
    type Definition = { steps: Record<string, { payload?: unknown }> };
    const journey = structuredClone(exampleJourney) as unknown as Definition;
    const plainPayload = journey.steps.welcome?.payload;
    journey.steps.welcome = { ...journey.steps.welcome, payload: NESTED };
    const journeys = () => t.deps.mongo.db.collection<{ _id: string; draft: { definition: Definition } }>('journeys');
    const welcomePayload = async (id: string) => (await journeys().findOne({ _id: id }))?.draft.definition.steps.welcome?.payload;

    const before = await journeys().countDocuments();
    const created = await call(t.app, 'POST', '/v1/journeys', { payload: journey });
    await expectStoredOrRefused(created, {
      accepted: 201,
      readBack: async () =>
        created.statusCode === 201
          ? welcomePayload(created.json().id)
          : (await journeys().countDocuments()) === before
            ? undefined
            : 'a journey was stored',
      sent: NESTED,
    });

    const plain = await call(t.app, 'POST', '/v1/journeys', { payload: exampleJourney });
    expect(plain.statusCode, plain.body).toBe(201);
    const id: string = plain.json().id;
    const replaced = await call(t.app, 'PUT', `/v1/journeys/${id}`, { payload: journey });
    await expectStoredOrRefused(replaced, { accepted: 200, readBack: () => welcomePayload(id), sent: NESTED, before: plainPayload });
  });

  it('POST /v1/events keeps them in the properties as sent, or answers 400', async () => {
    const userId = uniqueUserId('storable');
    const response = await call(t.app, 'POST', '/v1/events', { payload: { userId, name: 'nested', properties: NESTED } });
    await expectStoredOrRefused(response, {
      accepted: 202,
      readBack: async () => {
        const [record] = await recordsOf(t.deps, userId);
        return record?.type === 'event' ? record.properties : undefined;
      },
      sent: NESTED,
    });
  });
});
