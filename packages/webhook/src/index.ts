// The webhook channel: one HTTP attempt of a message at a time; the worker sends through it, the API's test send too.
export { createWebhookChannel, parseRetryAfter, WebhookChannelClosedError } from './webhook-channel.js';
export type {
  AttemptAnswer,
  SendAttempt,
  WebhookAttemptResult,
  WebhookChannel,
  WebhookChannelOptions,
  WebhookMessage,
} from './webhook-channel.js';
