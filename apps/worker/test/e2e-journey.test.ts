import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contractExample, e2eEnv, sendingTo, type E2eEnv } from './e2e-harness.js';

let env: E2eEnv;
beforeEach(async () => {
  env = await e2eEnv();
});
afterEach(async () => {
  await env?.close();
});

const SECOND = 1_000;
const HOUR = 60 * 60 * SECOND;

describe('the contract example journey over HTTP', () => {
  it('welcomes, waits, takes the purchase path with the purchased item, and never sends an offer', async () => {
    const journeyId = await env.publish(sendingTo(contractExample(), env.sink.url));
    await env.startWorkers();
    await env.putUser('ada', { country: 'US', firstName: 'Ada', plan: 'free' });
    await env.putUser('bo', { country: 'FR', firstName: 'Bo', plan: 'free' }); // outside the audience
    await env.putUser('cy', { country: 'CA', firstName: 'Cy', plan: 'free' }); // signs up from a test source

    const posted = await env.postEvents([
      env.event('ada', 'signed_up', { source: 'web' }, 'signup-ada'),
      env.event('bo', 'signed_up', { source: 'web' }, 'signup-bo'),
      env.event('cy', 'signed_up', { source: 'test' }, 'signup-cy'),
    ]);
    expect(posted).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    await env.settle();

    expect(env.delivered().map((body) => [body.userId, body.stepId, body.payload.text])).toEqual([['ada', 'welcome', 'Hi Ada']]);
    const [welcome] = env.delivered();
    expect(welcome).toMatchObject({ journeyId, version: 1, branchId: null });
    expect(env.sink.requests[0]?.headers['idempotency-key']).toBe(welcome?.messageId);
    expect(await env.journeyState('ada', journeyId)).toMatchObject({ status: 'active', entries: 1 });
    expect(await env.journeyState('bo', journeyId)).toBeUndefined();
    expect(await env.journeyState('cy', journeyId)).toBeUndefined();

    // Past the 5 s delay: a free user goes through the split's else branch to the action paths, and waits there.
    env.advance(5 * SECOND);
    await env.settle();
    expect(await env.journeyState('ada', journeyId)).toMatchObject({ status: 'active', stepId: 'act' });
    expect(env.textsOf('ada')).toEqual(['Hi Ada']);

    env.advance(10 * 60 * SECOND);
    expect(await env.postEvents([env.event('ada', 'purchased', { item: 'hat' }, 'buy-ada-1')])).toMatchObject({ accepted: 1 });
    await env.settle();
    expect(env.textsOf('ada')).toEqual(['Hi Ada', 'Thanks for hat']);
    expect(env.delivered()[1]).toMatchObject({ stepId: 'thanks', entryId: welcome?.entryId });

    // Past the window: the timeout lost the race to the purchase, so neither offer (nor anything else) follows.
    env.advance(HOUR);
    await env.settle();
    expect(env.textsOf('ada')).toEqual(['Hi Ada', 'Thanks for hat']);
    expect(env.sink.requests).toHaveLength(2);
    expect(await env.journeyState('ada', journeyId)).toMatchObject({ status: 'completed', stepId: null, entries: 1 });

    const stats = await env.stats(journeyId);
    expect(stats['welcome']?.counters).toMatchObject({ entered: 1, sent: 1, skipped: 0, failed: 0 });
    expect(stats['split']?.branches['else']?.entered).toBe(1);
    expect(stats['act']?.branches['bought']).toMatchObject({ entered: 1, converted: 0, sent: 1 });
    expect(stats['act']?.branches['timeout']).toBeUndefined();
    expect(stats['thanks']).toMatchObject({ counters: { sent: 1, skipped: 0, failed: 0 }, branches: {} });
    for (const offer of ['msgA', 'msgB', 'vipMsg']) expect(stats[offer]).toBeUndefined();
  });

  it('sends nothing for an entry that the same batch exits before dispatch runs (events applied in order)', async () => {
    const journeyId = await env.publish(sendingTo(contractExample(), env.sink.url));
    await env.putUser('dee', { country: 'US', firstName: 'Dee' });
    await env.putUser('eli', { country: 'US', firstName: 'Eli' });
    // One batch: dee signs up, then deletes the account; eli the other way round (the exit comes first, so it exits nothing).
    await env.postEvents([
      env.event('dee', 'signed_up', { source: 'web' }, 'dee-1'),
      env.event('eli', 'account_deleted', {}, 'eli-1'),
      env.event('dee', 'account_deleted', {}, 'dee-2'),
      env.event('eli', 'signed_up', { source: 'web' }, 'eli-2'),
    ]);

    // Only ingestion: both of dee's records are applied before anything is dispatched.
    await env.startIngestion();
    await env.settleIngestion();
    expect(await env.journeyState('dee', journeyId)).toMatchObject({ status: 'exited', entries: 1 });
    expect(await env.journeyState('eli', journeyId)).toMatchObject({ status: 'active', entries: 1 });

    await env.startDispatch();
    await env.settle();
    expect(env.textsOf('dee')).toEqual([]);
    expect(env.textsOf('eli')).toEqual(['Hi Eli']);
    expect(await env.journeyState('dee', journeyId)).toMatchObject({ status: 'exited' });
    expect((await env.stats(journeyId))['welcome']?.counters.sent).toBe(1);
  });

  it('archiving ends the entries waiting in a delay: no further message, and no new entries', async () => {
    const journeyId = await env.publish(sendingTo(contractExample(), env.sink.url));
    await env.startWorkers();
    await env.putUser('pro', { country: 'US', firstName: 'Pat', plan: 'pro' });
    await env.postEvents([env.event('pro', 'signed_up', { source: 'web' })]);
    await env.settle();
    expect(env.textsOf('pro')).toEqual(['Hi Pat']);

    await env.call('POST', `/v1/journeys/${journeyId}/archive`);
    // Without the archive, the delay's end would send "VIP" to this pro user.
    env.advance(5 * SECOND);
    await env.settle();
    env.advance(HOUR);
    await env.settle();
    expect(env.textsOf('pro')).toEqual(['Hi Pat']);
    expect(await env.journeyState('pro', journeyId)).toMatchObject({ status: 'exited' });

    await env.putUser('new', { country: 'US', firstName: 'Nia' });
    await env.postEvents([env.event('new', 'signed_up', { source: 'web' })]);
    await env.settle();
    expect(await env.journeyState('new', journeyId)).toBeUndefined();
    expect(env.sink.requests).toHaveLength(1);
  });
});
