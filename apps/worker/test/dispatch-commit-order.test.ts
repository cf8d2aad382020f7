import type { JourneyDefinitionInput } from '@journey/core';
import type { StepCommit } from '@journey/mongo';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatchBatch, type DispatchDeps } from '../src/dispatch/dispatch-batch.js';
import { dispatchHarness } from './dispatch-harness.js';

const noon = Date.parse('2026-11-23T12:00:00Z');
let harness: Awaited<ReturnType<typeof dispatchHarness>> | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function twoMessages(url: string): JourneyDefinitionInput {
  const message = (text: string, next: string | null) => ({
    type: 'message',
    channel: 'webhook',
    messageType: 'onboarding',
    webhook: { url },
    payload: { text },
    next,
  });
  return {
    name: 'Two messages',
    entry: { trigger: { type: 'event', event: 'signed_up' } },
    start: 'welcome',
    steps: { welcome: message('Hi', 'last'), last: message('Bye', null) },
  } as JourneyDefinitionInput;
}

/** `deps` whose commits first call `before` (which may wait). */
function commitAfter(deps: DispatchDeps, before: () => Promise<unknown>): DispatchDeps {
  return {
    ...deps,
    states: {
      ...deps.states,
      commitEach: async (commits: StepCommit[]) => {
        await before();
        return deps.states.commitEach(commits);
      },
    },
  };
}

describe('dispatch: the next step and the commit of the step before it', () => {
  // The race: a step's next item ran while the step's own commit was still on its way, read the older state, and
  // committed after it; its commit, conditional on the token it had read, matched nothing, and the entry stayed
  // active at its last step forever although both messages went out.
  it('completes the entry however long the previous commit takes: the next item is due only once it landed', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(twoMessages(`${h.sink.url}/hook`));
    await h.enter(journeyId, 'racer');
    const shard = h.keys.dueShardOf('racer');
    const nowSecond = Math.floor(h.now() / 1000);
    const [welcomeSet] = (await h.dueSchedule.dueSets(shard, { nowSecond })).due;
    const welcomeBatch = await h.dueSchedule.carve(welcomeSet!.ref);

    // The welcome batch sends, then its commit waits until released.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let atCommit!: () => void;
    const reachedCommit = new Promise<void>((resolve) => (atCommit = resolve));
    const welcome = dispatchBatch(
      commitAfter(h.deps, () => {
        atCommit();
        return released;
      }),
      welcomeBatch!.batch,
    );
    await reachedCommit;

    // Whatever is due now runs meanwhile, as another worker would; its own commit lands after the welcome's.
    const early = (await h.dueSchedule.dueSets(shard, { nowSecond })).due;
    const racing: Array<Promise<unknown>> = [];
    const racingAtCommit: Array<Promise<void>> = [];
    for (const set of early) {
      const carved = await h.dueSchedule.carve(set.ref);
      if (!carved) continue;
      let reached!: () => void;
      racingAtCommit.push(new Promise<void>((resolve) => (reached = resolve)));
      racing.push(
        dispatchBatch(
          commitAfter(h.deps, () => {
            reached();
            return welcome;
          }),
          carved.batch,
        ),
      );
    }
    await Promise.all(racingAtCommit);
    release();
    await welcome;
    await Promise.all(racing);
    await h.settle();

    expect(h.bodies().map((body) => body.payload.text)).toEqual(['Hi', 'Bye']);
    expect(await h.states.get(journeyId, 'racer')).toMatchObject({ status: 'completed', stepId: null });
    expect(early).toEqual([]);
  });
});
