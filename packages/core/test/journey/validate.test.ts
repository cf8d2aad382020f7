import { describe, expect, it } from 'vitest';
import { exampleJourney } from '../../src/index.js';
import { validateJourney } from '../../src/journey/validate.js';
import { exampleJourneyFixture } from '../fixtures/example-journey.js';
import { exampleWith, message, type Draft } from './helpers.js';

function issuesOf(input: unknown) {
  const result = validateJourney(input);
  if (result.ok) throw new Error('expected the journey to be rejected');
  return result.issues;
}

describe('the contract example', () => {
  it('is valid and gets its defaults filled in', () => {
    const result = validateJourney(exampleJourneyFixture);
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.journey.start).toBe('welcome');
    expect(Object.keys(result.journey.steps)).toHaveLength(10);
    expect(result.journey.settings).toEqual({
      timezone: 'UTC',
      quietHours: { start: '22:00', end: '08:00' },
      frequencyCap: { messages: 3, per: 'P1D' },
    });
  });

  it('is exported from src unchanged', () => {
    expect(exampleJourney).toEqual(exampleJourneyFixture);
  });

  it('fills in settings and reentry when they are left out', () => {
    const result = validateJourney(
      exampleWith((journey) => {
        delete journey.settings;
        delete journey.entry.reentry;
      }),
    );
    expect(result.ok && result.journey.settings).toEqual({ timezone: 'UTC' });
    expect(result.ok && result.journey.entry.reentry).toEqual({ mode: 'never' });
  });
});

describe('valid variations', () => {
  it.each<[string, (journey: Draft) => void]>([
    [
      'an api trigger without audience',
      (j) => {
        j.entry = { trigger: { type: 'api' } };
      },
    ],
    [
      'a schedule trigger with an offset',
      (j) => {
        j.entry.trigger = { type: 'schedule', at: '2025-06-01T09:00:00+02:00' };
      },
    ],
    [
      'a delay until a time in the user zone',
      (j) => {
        j.steps.wait = { type: 'delay', until: { time: '09:00' }, next: 'split' };
      },
    ],
    [
      'a delay until a time in a fixed zone',
      (j) => {
        j.steps.wait = { type: 'delay', until: { time: '09:00', timezone: 'Europe/Berlin' }, next: 'split' };
      },
    ],
    [
      'a loop through a delay',
      (j) => {
        j.steps.msgA.next = 'wait';
      },
    ],
    [
      'a loop through action paths',
      (j) => {
        j.steps.msgA.next = 'act';
      },
    ],
    [
      'a reentry after a while',
      (j) => {
        j.entry.reentry = { mode: 'after', after: 'P7D' };
      },
    ],
    [
      'a message without payload',
      (j) => {
        delete j.steps.vipMsg.payload;
      },
    ],
    [
      'an https webhook',
      (j) => {
        j.steps.welcome.webhook.url = 'https://hooks.example.com/a?b=c';
      },
    ],
    [
      'a date comparison filter',
      (j) => {
        j.exit.when = { attr: 'trialEndsAt', op: 'lt', value: '2025-01-31T00:00:00Z' };
      },
    ],
    [
      'a variant with weight 0',
      (j) => {
        j.steps.ab.variants.push({ id: 'C', weight: 0, next: null });
      },
    ],
  ])('accepts %s', (_name, change) => {
    expect(validateJourney(exampleWith(change))).toMatchObject({ ok: true });
  });
});

/**
 * Each case breaks the example in one way and names the issue it must report: exact path and a
 * fragment of the message. Unless `count` says otherwise, it must be the only issue.
 */
const malformed: Array<{ name: string; change: (journey: Draft) => void; path: string; message: string; count?: number }> = [
  // document
  {
    name: 'missing name',
    change: (j) => {
      delete j.name;
    },
    path: 'name',
    message: 'is required',
  },
  {
    name: 'blank name',
    change: (j) => {
      j.name = '  ';
    },
    path: 'name',
    message: 'must not be empty',
  },
  {
    name: 'unknown top-level field',
    change: (j) => {
      j.owner = 'me';
    },
    path: 'owner',
    message: 'unknown field "owner"',
  },
  {
    name: 'start that is no step',
    change: (j) => {
      j.start = 'hello';
    },
    path: 'start',
    message: '"hello" is not a step',
  },
  {
    name: 'no steps',
    change: (j) => {
      j.steps = {};
      j.start = 'welcome';
    },
    path: 'steps',
    message: 'at least one step',
    count: 2,
  },
  {
    name: 'step id with a space',
    change: (j) => {
      j.steps['bad id'] = { type: 'exit' };
      j.steps.msgA.next = 'bad id';
    },
    path: 'steps.bad id',
    message: 'step id "bad id" must be 1 to 64 letters, digits',
  },
  // entry
  {
    name: 'missing trigger',
    change: (j) => {
      delete j.entry.trigger;
    },
    path: 'entry.trigger',
    message: 'is required',
  },
  {
    name: 'unknown trigger type',
    change: (j) => {
      j.entry.trigger = { type: 'webhook' };
    },
    path: 'entry.trigger.type',
    message: 'must be one of "event", "api", "schedule"',
  },
  {
    name: 'event trigger without event',
    change: (j) => {
      delete j.entry.trigger.event;
    },
    path: 'entry.trigger.event',
    message: 'is required',
  },
  {
    name: 'schedule without offset',
    change: (j) => {
      j.entry.trigger = { type: 'schedule', at: '2025-06-01T09:00:00' };
    },
    path: 'entry.trigger.at',
    message: 'offset or Z',
  },
  {
    name: 'schedule with a non-date',
    change: (j) => {
      j.entry.trigger = { type: 'schedule', at: 'tomorrow' };
    },
    path: 'entry.trigger.at',
    message: 'ISO 8601 date-time',
  },
  {
    name: 'unknown reentry mode',
    change: (j) => {
      j.entry.reentry = { mode: 'sometimes' };
    },
    path: 'entry.reentry.mode',
    message: 'must be one of "never", "after"',
  },
  {
    name: 'zero reentry wait',
    change: (j) => {
      j.entry.reentry = { mode: 'after', after: 'P0D' };
    },
    path: 'entry.reentry.after',
    message: 'longer than zero',
  },
  // filters
  {
    name: 'unknown operator',
    change: (j) => {
      j.steps.split.branches[0].when.op = 'like';
    },
    path: 'steps.split.branches.0.when.op',
    message: 'must be one of "eq", "ne"',
  },
  {
    name: '"in" with a single value',
    change: (j) => {
      j.entry.audience.all[0].value = 'US';
    },
    path: 'entry.audience.all.0.value',
    message: 'operator "in" needs a non-empty array',
  },
  {
    name: '"nin" with an empty list',
    change: (j) => {
      j.entry.audience.all[0] = { attr: 'country', op: 'nin', value: [] };
    },
    path: 'entry.audience.all.0.value',
    message: 'operator "nin" needs a non-empty array',
  },
  {
    name: '"gt" with a word',
    change: (j) => {
      j.exit.when = { attr: 'age', op: 'gt', value: 'old' };
    },
    path: 'exit.when.value',
    message: 'operator "gt" needs a number or an ISO 8601 date',
  },
  {
    name: '"lte" with a boolean',
    change: (j) => {
      j.exit.when = { attr: 'age', op: 'lte', value: true };
    },
    path: 'exit.when.value',
    message: 'operator "lte" needs a number',
  },
  {
    name: '"exists" with a string',
    change: (j) => {
      j.exit.when = { attr: 'email', op: 'exists', value: 'yes' };
    },
    path: 'exit.when.value',
    message: 'operator "exists" needs true (present) or false',
  },
  {
    name: '"contains" with a list',
    change: (j) => {
      j.exit.when = { attr: 'tags', op: 'contains', value: ['a'] };
    },
    path: 'exit.when.value',
    message: 'operator "contains" needs one string',
  },
  {
    name: '"eq" with a list',
    change: (j) => {
      j.exit.when.value = [true];
    },
    path: 'exit.when.value',
    message: 'use "in" or "nin" for a list',
  },
  {
    name: 'null filter value',
    change: (j) => {
      j.exit.when.value = null;
    },
    path: 'exit.when.value',
    message: 'must be a string, number, boolean, or an array',
  },
  {
    name: 'empty filter',
    change: (j) => {
      j.exit.when = {};
    },
    path: 'exit.when',
    message: 'must be a filter',
  },
  {
    name: 'filter that is a string',
    change: (j) => {
      j.entry.audience = 'everyone';
    },
    path: 'entry.audience',
    message: 'must be a filter',
  },
  {
    name: 'unknown key in a condition',
    change: (j) => {
      j.entry.trigger.where.case = 'insensitive';
    },
    path: 'entry.trigger.where.case',
    message: 'unknown field "case"',
  },
  {
    name: 'condition without op',
    change: (j) => {
      delete j.exit.when.op;
    },
    path: 'exit.when.op',
    message: 'is required: one of "eq"',
  },
  {
    name: 'malformed attribute path',
    change: (j) => {
      j.exit.when.attr = 'address..city';
    },
    path: 'exit.when.attr',
    message: 'dotted path',
  },
  {
    name: 'bad condition deep inside not/any',
    change: (j) => {
      j.exit.when = {
        not: {
          any: [
            { prop: 'x', op: 'eq', value: 1 },
            { attr: 'y', op: 'in', value: 2 },
          ],
        },
      };
    },
    path: 'exit.when.not.any.1.value',
    message: 'operator "in"',
  },
  {
    name: '"all" that is not a list',
    change: (j) => {
      j.entry.audience = { all: { attr: 'a', op: 'eq', value: 1 } };
    },
    path: 'entry.audience.all',
    message: 'must be an array',
  },
  // exit
  {
    name: 'exit events not a list',
    change: (j) => {
      j.exit.events = 'account_deleted';
    },
    path: 'exit.events',
    message: 'must be an array',
  },
  // message steps
  {
    name: 'unknown step type',
    change: (j) => {
      j.steps.msgA.type = 'sms';
    },
    path: 'steps.msgA.type',
    message: 'must be one of "message", "delay"',
  },
  {
    name: 'step without type',
    change: (j) => {
      delete j.steps.bye.type;
    },
    path: 'steps.bye.type',
    message: 'is required',
  },
  {
    name: 'non-webhook channel',
    change: (j) => {
      j.steps.welcome.channel = 'email';
    },
    path: 'steps.welcome.channel',
    message: 'must be "webhook"',
  },
  {
    name: 'ftp webhook',
    change: (j) => {
      j.steps.welcome.webhook.url = 'ftp://example.com/x';
    },
    path: 'steps.welcome.webhook.url',
    message: 'http:// or https://',
  },
  {
    name: 'webhook that is no URL',
    change: (j) => {
      j.steps.welcome.webhook.url = 'example.com/hook';
    },
    path: 'steps.welcome.webhook.url',
    message: 'with a host',
  },
  {
    name: 'missing messageType',
    change: (j) => {
      delete j.steps.welcome.messageType;
    },
    path: 'steps.welcome.messageType',
    message: 'is required',
  },
  {
    name: 'payload that is a string',
    change: (j) => {
      j.steps.welcome.payload = 'Hi';
    },
    path: 'steps.welcome.payload',
    message: 'must be a JSON object',
  },
  {
    name: 'missing next',
    change: (j) => {
      delete j.steps.welcome.next;
    },
    path: 'steps.welcome.next',
    message: 'null to end the journey',
  },
  {
    name: 'next that is no step',
    change: (j) => {
      j.steps.welcome.next = 'wiat';
    },
    path: 'steps.welcome.next',
    message: '"wiat" is not a step of this journey',
  },
  {
    name: 'next that is a number',
    change: (j) => {
      j.steps.welcome.next = 2;
    },
    path: 'steps.welcome.next',
    message: 'must be a step id or null',
  },
  {
    name: 'exit step with next',
    change: (j) => {
      j.steps.bye.next = null;
    },
    path: 'steps.bye.next',
    message: 'unknown field "next"',
  },
  // delay steps
  {
    name: 'unknown field in a delay',
    change: (j) => {
      j.steps.wait.foo = 1;
    },
    path: 'steps.wait.foo',
    message: 'unknown field "foo"',
  },
  {
    name: 'duration that is not ISO',
    change: (j) => {
      j.steps.wait.duration = '5 seconds';
    },
    path: 'steps.wait.duration',
    message: 'ISO 8601 duration',
  },
  {
    name: 'empty ISO duration',
    change: (j) => {
      j.steps.wait.duration = 'PT';
    },
    path: 'steps.wait.duration',
    message: 'ISO 8601 duration',
  },
  {
    name: 'negative duration',
    change: (j) => {
      j.steps.wait.duration = '-PT5S';
    },
    path: 'steps.wait.duration',
    message: 'ISO 8601 duration',
  },
  {
    name: 'zero duration',
    change: (j) => {
      j.steps.wait.duration = 'PT0S';
    },
    path: 'steps.wait.duration',
    message: 'longer than zero',
  },
  {
    name: 'delay of 11 years',
    change: (j) => {
      j.steps.wait.duration = 'P11Y';
    },
    path: 'steps.wait.duration',
    message: 'at most 10 years ("P10Y"',
  },
  {
    name: 'delay of 3651 days',
    change: (j) => {
      j.steps.wait.duration = 'P3651D';
    },
    path: 'steps.wait.duration',
    message: 'at most 10 years',
  },
  {
    name: 'duration with 21 digits',
    change: (j) => {
      j.steps.wait.duration = `P${'1'.repeat(21)}D`;
    },
    path: 'steps.wait.duration',
    message: 'ISO 8601 duration',
  },
  {
    name: 'schedule before 1970',
    change: (j) => {
      j.entry.trigger = { type: 'schedule', at: '1970-01-01T00:30:00+01:00' };
    },
    path: 'entry.trigger.at',
    message: 'must be from 1970-01-01T00:00:00Z',
  },
  {
    name: 'schedule in 2100',
    change: (j) => {
      j.entry.trigger = { type: 'schedule', at: '2099-12-31T23:00:00-01:00' };
    },
    path: 'entry.trigger.at',
    message: 'up to (not including) 2100',
  },
  {
    name: 'reentry after 100 years',
    change: (j) => {
      j.entry.reentry = { mode: 'after', after: 'P100Y' };
    },
    path: 'entry.reentry.after',
    message: 'at most 10 years',
  },
  {
    name: 'duration and until',
    change: (j) => {
      j.steps.wait.until = { time: '09:00' };
    },
    path: 'steps.wait',
    message: 'either "duration" or "until", not both',
  },
  {
    name: 'neither duration nor until',
    change: (j) => {
      delete j.steps.wait.duration;
    },
    path: 'steps.wait',
    message: 'a delay needs "duration"',
  },
  {
    name: 'until at 24:00',
    change: (j) => {
      j.steps.wait = { type: 'delay', until: { time: '24:00' }, next: 'split' };
    },
    path: 'steps.wait.until.time',
    message: '"HH:mm"',
  },
  {
    name: 'until in a made-up zone',
    change: (j) => {
      j.steps.wait = { type: 'delay', until: { time: '09:00', timezone: 'Mars/Olympus' }, next: 'split' };
    },
    path: 'steps.wait.until.timezone',
    message: 'must be "user" or an IANA time zone',
  },
  // audience splits
  {
    name: 'split without branches',
    change: (j) => {
      j.steps.split.branches = [];
    },
    path: 'steps.split.branches',
    message: 'at least one branch',
  },
  {
    name: 'branch next that is no step',
    change: (j) => {
      j.steps.split.branches[0].next = 'vip';
    },
    path: 'steps.split.branches.0.next',
    message: '"vip" is not a step',
  },
  {
    name: 'else that is no step',
    change: (j) => {
      j.steps.split.else = 'acts';
    },
    path: 'steps.split.else',
    message: '"acts" is not a step',
  },
  {
    name: 'duplicate branch ids',
    change: (j) => {
      j.steps.split.branches.push({ id: 'vip', when: { attr: 'vip', op: 'eq', value: true }, next: 'vipMsg' });
    },
    path: 'steps.split.branches.1.id',
    message: 'duplicate id "vip"',
  },
  {
    name: 'branch named else',
    change: (j) => {
      j.steps.split.branches[0].id = 'else';
    },
    path: 'steps.split.branches.0.id',
    message: '"else" is reserved',
  },
  {
    name: 'branch without when',
    change: (j) => {
      delete j.steps.split.branches[0].when;
    },
    path: 'steps.split.branches.0.when',
    message: 'is required: a filter',
  },
  // action paths
  {
    name: 'window that is not ISO',
    change: (j) => {
      j.steps.act.window = '1h';
    },
    path: 'steps.act.window',
    message: 'ISO 8601 duration',
  },
  {
    name: 'window of 999999999 years',
    change: (j) => {
      j.steps.act.window = 'P999999999Y';
    },
    path: 'steps.act.window',
    message: 'at most 10 years',
  },
  {
    name: 'timeout that is no step',
    change: (j) => {
      j.steps.act.timeout = 'abc';
    },
    path: 'steps.act.timeout',
    message: '"abc" is not a step',
  },
  {
    name: 'path without event',
    change: (j) => {
      delete j.steps.act.paths[0].event;
    },
    path: 'steps.act.paths.0.event',
    message: 'is required',
  },
  {
    name: 'duplicate path ids',
    change: (j) => {
      j.steps.act.paths.push({ id: 'bought', event: 'refunded', next: null });
    },
    path: 'steps.act.paths.1.id',
    message: 'duplicate id "bought"',
  },
  {
    name: 'path named timeout',
    change: (j) => {
      j.steps.act.paths[0].id = 'timeout';
    },
    path: 'steps.act.paths.0.id',
    message: '"timeout" is reserved',
  },
  // experiments
  {
    name: 'weights adding up to 90',
    change: (j) => {
      j.steps.ab.variants[2].weight = 0;
      j.steps.ab.variants[1].weight = 45;
      j.steps.ab.variants[0].weight = 45;
    },
    path: 'steps.ab.variants',
    message: 'add up to 100, not 90',
  },
  {
    name: 'duplicate variant ids',
    change: (j) => {
      j.steps.ab.variants[1].id = 'A';
    },
    path: 'steps.ab.variants.1.id',
    message: 'duplicate id "A"',
  },
  {
    name: 'fractional weight',
    change: (j) => {
      j.steps.ab.variants[0].weight = 44.5;
      j.steps.ab.variants[1].weight = 45.5;
    },
    path: 'steps.ab.variants.0.weight',
    message: 'whole number',
    count: 2,
  },
  {
    name: 'negative weight',
    change: (j) => {
      j.steps.ab.variants[0].weight = -10;
      j.steps.ab.variants[1].weight = 100;
    },
    path: 'steps.ab.variants.0.weight',
    message: 'between 0 and 100',
  },
  {
    name: 'variant next that is no step',
    change: (j) => {
      j.steps.ab.variants[0].next = 'msgC';
    },
    path: 'steps.ab.variants.0.next',
    message: '"msgC" is not a step',
  },
  {
    name: 'experiment without variants',
    change: (j) => {
      j.steps.ab.variants = [];
    },
    path: 'steps.ab.variants',
    message: 'at least one variant',
  },
  // graph
  {
    name: 'unreachable step',
    change: (j) => {
      j.steps.orphan = { type: 'exit' };
    },
    path: 'steps.orphan',
    message: 'can never be reached from start "welcome"',
  },
  {
    name: 'loop without waiting',
    change: (j) => {
      j.steps.msgA.next = 'ab';
    },
    path: 'steps.ab',
    message: 'ab -> msgA -> ab form a loop without a delay',
  },
  {
    name: 'step pointing at itself',
    change: (j) => {
      j.steps.vipMsg.next = 'vipMsg';
    },
    path: 'steps.vipMsg',
    message: 'vipMsg -> vipMsg',
  },
  // settings
  {
    name: 'journey zone that does not exist',
    change: (j) => {
      j.settings.timezone = 'Europe/Atlantis';
    },
    path: 'settings.timezone',
    message: 'IANA time zone',
  },
  {
    name: 'quiet hours in h:mm',
    change: (j) => {
      j.settings.quietHours.start = '7:00';
    },
    path: 'settings.quietHours.start',
    message: '"HH:mm"',
  },
  {
    name: 'empty quiet hours',
    change: (j) => {
      j.settings.quietHours.end = '22:00';
    },
    path: 'settings.quietHours.end',
    message: 'different time',
  },
  {
    name: 'frequency cap of zero',
    change: (j) => {
      j.settings.frequencyCap.messages = 0;
    },
    path: 'settings.frequencyCap.messages',
    message: 'at least 1',
  },
  {
    name: 'frequency cap per "daily"',
    change: (j) => {
      j.settings.frequencyCap.per = 'daily';
    },
    path: 'settings.frequencyCap.per',
    message: 'ISO 8601 duration',
  },
  {
    name: 'frequency cap per 120 years',
    change: (j) => {
      j.settings.frequencyCap.per = 'P1440M';
    },
    path: 'settings.frequencyCap.per',
    message: 'at most 10 years',
  },
  {
    name: 'unknown setting',
    change: (j) => {
      j.settings.locale = 'en';
    },
    path: 'settings.locale',
    message: 'unknown field "locale"',
  },
  // bounds
  {
    name: 'split of 51 branches',
    change: (j) => {
      j.steps.split.branches = Array.from({ length: 51 }, (_, i) => ({ id: `b${i}`, when: { attr: 'a', op: 'eq', value: i }, next: null }));
    },
    path: 'steps.split.branches',
    message: 'at most 50 branches',
  },
  {
    name: 'payload over 32 KiB',
    change: (j) => {
      j.steps.welcome.payload = { text: '\u00e9'.repeat(16 * 1024) };
    },
    path: 'steps.welcome.payload',
    message: 'at most 32 KiB as JSON',
  },
  {
    name: 'exit event of 129 characters',
    change: (j) => {
      j.exit.events = ['e'.repeat(129)];
    },
    path: 'exit.events.0',
    message: 'at most 128 characters',
  },
  {
    name: 'lone surrogate in a payload',
    change: (j) => {
      j.steps.welcome.payload.text = 'Hi \ud800';
    },
    path: 'steps.welcome.payload.text',
    message: 'lone UTF-16 surrogate',
  },
  {
    name: 'payload field MongoDB cannot store',
    change: (j) => {
      j.steps.welcome.payload = { $set: 1 };
    },
    path: 'steps.welcome.payload.$set',
    message: 'cannot be stored',
  },
];

describe('malformed journeys', () => {
  it('has at least 40 distinct cases', () => {
    expect(new Set(malformed.map((c) => c.name)).size).toBe(malformed.length);
    expect(malformed.length).toBeGreaterThanOrEqual(40);
  });

  it.each(malformed)('reports $name at $path', ({ change, path, message, count = 1 }) => {
    const issues = issuesOf(exampleWith(change));
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) });
    expect(issues).toHaveLength(count);
  });

  it('reports only the bound a document passes as a whole, without running the rules on it', () => {
    const steps = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`s${i}`, { type: 'exit', junk: true }]));
    expect(issuesOf(exampleWith((j) => (j.steps = steps)))).toEqual([{ path: 'steps', message: 'may have at most 500 steps, not 501' }]);
    expect(issuesOf(exampleWith((j) => (j.steps.welcome.payload = { text: 'x'.repeat(512 * 1024) })))).toEqual([
      { path: '', message: 'is too large: a journey is at most 512 KiB as JSON' },
    ]);
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i += 1) deep = { not: deep };
    expect(issuesOf(exampleWith((j) => (j.exit.when = deep)))).toEqual([
      { path: expect.stringMatching(/^exit\.when\.not\./), message: expect.stringContaining('nested too deeply') },
    ]);
  });

  it('reports a document that is not an object at the root', () => {
    expect(issuesOf('journey')).toEqual([{ path: '', message: 'must be an object, not the string "journey"' }]);
    expect(issuesOf(null)).toEqual([{ path: '', message: 'must be an object, not null' }]);
  });

  it('reports every problem of a document at once', () => {
    const issues = issuesOf(
      exampleWith((j) => {
        j.name = '';
        j.entry.trigger.where.op = 'nope';
        j.steps.wait.duration = 'P0D';
        j.steps.wait.extra = true;
        j.steps.split.branches[0].next = 'vip';
        j.steps.act.window = 'soon';
        j.steps.ab.variants[0].weight = 50;
        j.steps.thanks.webhook.url = 'mailto:a@b.c';
        j.steps.bye.type = 'goodbye';
        j.steps.loopA = message('loopB');
        j.steps.loopB = message('loopA');
        j.settings.timezone = 'Nowhere/City';
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'name', message: 'must not be empty' },
        { path: 'entry.trigger.where.op', message: expect.stringContaining('must be one of') },
        { path: 'steps.wait.duration', message: 'must be longer than zero' },
        { path: 'steps.wait.extra', message: 'unknown field "extra"' },
        { path: 'steps.split.branches.0.next', message: expect.stringContaining('"vip" is not a step') },
        { path: 'steps.act.window', message: expect.stringContaining('ISO 8601 duration') },
        { path: 'steps.ab.variants', message: 'variant weights must add up to 100, not 105' },
        { path: 'steps.thanks.webhook.url', message: expect.stringContaining('http:// or https://') },
        { path: 'steps.bye.type', message: expect.stringContaining('not "goodbye"') },
        { path: 'steps.loopA', message: expect.stringContaining('loopA -> loopB -> loopA') },
        { path: 'settings.timezone', message: expect.stringContaining('IANA time zone') },
      ]),
    );
    expect(issues).toHaveLength(11);
    for (const issue of issues) expect(issue.path).not.toMatch(/^\$|\.\.|^\.|\.$/);
  });
});
