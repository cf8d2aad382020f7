import type { JourneyDefinitionInput } from './schema.js';

/**
 * The example journey of the product contract: a welcome message, a delay, an audience split, action
 * paths with a timeout into an A/B/control experiment. Valid; useful for docs and API examples.
 */
export const exampleJourney: JourneyDefinitionInput = {
  name: 'Onboarding',
  entry: {
    trigger: { type: 'event', event: 'signed_up', where: { prop: 'source', op: 'ne', value: 'test' } },
    audience: { all: [{ attr: 'country', op: 'in', value: ['US', 'CA'] }] },
    reentry: { mode: 'never' },
  },
  exit: { events: ['account_deleted'], when: { attr: 'unsubscribed', op: 'eq', value: true } },
  start: 'welcome',
  steps: {
    welcome: {
      type: 'message',
      channel: 'webhook',
      messageType: 'onboarding',
      webhook: { url: 'http://127.0.0.1:9999/hook' },
      payload: { text: 'Hi {{user.firstName}}' },
      next: 'wait',
    },
    wait: { type: 'delay', duration: 'PT5S', next: 'split' },
    split: {
      type: 'audience_split',
      branches: [{ id: 'vip', when: { attr: 'plan', op: 'eq', value: 'pro' }, next: 'vipMsg' }],
      else: 'act',
    },
    vipMsg: {
      type: 'message',
      channel: 'webhook',
      messageType: 'onboarding',
      webhook: { url: 'http://127.0.0.1:9999/hook' },
      payload: { text: 'VIP' },
      next: null,
    },
    act: { type: 'action_paths', window: 'PT1H', paths: [{ id: 'bought', event: 'purchased', next: 'thanks' }], timeout: 'ab' },
    thanks: {
      type: 'message',
      channel: 'webhook',
      messageType: 'receipt',
      webhook: { url: 'http://127.0.0.1:9999/hook' },
      payload: { text: 'Thanks for {{event.item}}' },
      next: null,
    },
    ab: {
      type: 'experiment',
      variants: [
        { id: 'A', weight: 45, next: 'msgA' },
        { id: 'B', weight: 45, next: 'msgB' },
        { id: 'control', weight: 10, next: null },
      ],
    },
    msgA: {
      type: 'message',
      channel: 'webhook',
      messageType: 'promo',
      webhook: { url: 'http://127.0.0.1:9999/hook' },
      payload: { text: 'Offer A' },
      next: null,
    },
    msgB: {
      type: 'message',
      channel: 'webhook',
      messageType: 'promo',
      webhook: { url: 'http://127.0.0.1:9999/hook' },
      payload: { text: 'Offer B' },
      next: 'bye',
    },
    bye: { type: 'exit' },
  },
  settings: { timezone: 'UTC', quietHours: { start: '22:00', end: '08:00' }, frequencyCap: { messages: 3, per: 'P1D' } },
};
