import { exampleJourney } from '@journey/core';
import { describe, expect, it } from 'vitest';
import { sharedTestApp } from './helpers.js';
import { call, mintKey } from './ingest-helpers.js';

const t = sharedTestApp();

async function draftOf(definition: unknown): Promise<string> {
  const response = await call(t.app, 'POST', '/v1/journeys', { payload: definition });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().id;
}

async function published(): Promise<string> {
  const id = await draftOf(exampleJourney);
  expect((await call(t.app, 'POST', `/v1/journeys/${id}/publish`)).statusCode).toBe(200);
  return id;
}

const ada = { attributes: { firstName: 'Ada', country: 'US', plan: 'pro' } };

describe('POST /v1/journeys/:id/simulate', () => {
  it('simulates the draft of a journey never published', async () => {
    const id = await draftOf(exampleJourney);
    const response = await call(t.app, 'POST', `/v1/journeys/${id}/simulate`, {
      payload: { user: ada, entry: { properties: { source: 'web' } } },
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      version: 'draft',
      entered: true,
      path: ['welcome', 'wait', 'split', 'split:vip', 'vipMsg'],
      end: { status: 'completed' },
    });
    const welcome = body.timeline.find((entry: { kind: string }) => entry.kind === 'message');
    expect(JSON.parse(welcome.request.body).payload).toEqual({ text: 'Hi Ada' });
  });

  it('says why a user would not enter', async () => {
    const id = await published();
    const simulate = async (payload: object) => (await call(t.app, 'POST', `/v1/journeys/${id}/simulate`, { payload })).json();
    expect(await simulate({ user: { attributes: { country: 'FR' } }, entry: { properties: { source: 'web' } } })).toMatchObject({
      entered: false,
      notEntered: 'audience',
      timeline: [],
    });
    expect(await simulate({ user: ada, entry: { properties: { source: 'test' } } })).toMatchObject({
      entered: false,
      notEntered: 'trigger',
    });
    expect(await simulate({ user: { attributes: { ...ada.attributes, unsubscribed: true } } })).toMatchObject({ notEntered: 'exit' });
    expect(
      await simulate({
        users: [ada, { attributes: { country: 'FR' } }, { attributes: { country: 'CA', plan: 'pro' } }],
        entry: { properties: { source: 'web' } },
      }),
    ).toMatchObject({ users: 3, entered: 2, notEntered: { audience: 1, trigger: 0, exit: 0 }, paths: [{ users: 2, share: 1 }] });
  });

  it('refuses bad input with a 400 naming the field, and unknown journeys or versions with a 404', async () => {
    const id = await published();
    const refused = async (payload: unknown, path: string) => {
      const response = await call(t.app, 'POST', `/v1/journeys/${id}/simulate`, { payload });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().details.map((detail: { path: string }) => detail.path)).toContain(path);
    };
    await refused({ user: ada, users: [ada] }, 'body.user');
    await refused({}, 'body.user');
    await refused({ user: ada, events: [{ after: 'soon', name: 'x' }] }, 'body.events.0.after');
    await refused({ user: ada, events: [{ after: 'P11Y', name: 'x' }] }, 'body.events.0.after');
    await refused({ user: ada, horizon: 'P20Y' }, 'body.horizon');
    await refused({ users: Array.from({ length: 1001 }, () => ada) }, 'body.users');
    await refused({ user: { ...ada, entryId: 'NOT-AN-ID' } }, 'body.user.entryId');
    await refused({ user: ada, enteredAt: 'yesterday' }, 'body.enteredAt');
    await refused({ user: ada, extra: true }, 'body.extra');

    expect((await call(t.app, 'POST', `/v1/journeys/${id}/simulate`, { payload: { user: ada, version: 7 } })).statusCode).toBe(404);
    expect((await call(t.app, 'POST', '/v1/journeys/jrn_5f0c3a9e1b7d24c86e01/simulate', { payload: { user: ada } })).statusCode).toBe(404);
  });

  it('needs an admin key', async () => {
    const id = await published();
    const ops = await mintKey(t.app, 'ops');
    const response = await call(t.app, 'POST', `/v1/journeys/${id}/simulate`, {
      payload: { user: ada },
      headers: { authorization: `Bearer ${ops}` },
    });
    expect(response.statusCode).toBe(403);
  });
});

describe('POST /v1/journeys/:id/steps/:stepId/test', () => {
  it('refuses a step that sends nothing, an unknown step, and a bad override URL', async () => {
    const id = await published();
    const test = (stepId: string, payload: object = {}) => call(t.app, 'POST', `/v1/journeys/${id}/steps/${stepId}/test`, { payload });
    const wait = await test('wait');
    expect(wait.statusCode).toBe(400);
    expect(wait.json().error).toContain('delay step');
    expect((await test('nope')).statusCode).toBe(404);
    const badUrl = await test('welcome', { url: 'ftp://example.com/x' });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json().details[0].path).toBe('body.url');
  });

  it('answers what the receiver did when it cannot be reached, without a 500', async () => {
    const id = await published();
    // The example's URL (127.0.0.1:9999) has no receiver: the attempt fails, the request still answers.
    const response = await call(t.app, 'POST', `/v1/journeys/${id}/steps/welcome/test`, { payload: { attributes: { firstName: 'Ada' } } });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ delivered: false, response: { outcome: 'network_error', status: null } });
    expect(response.json().request.headers['Journey-Test']).toBe('true');
  });
});
