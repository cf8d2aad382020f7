import { describe, expect, it } from 'vitest';
import { renderPayload, renderString, stringifyForTemplate } from '../../src/template/render.js';

const context = {
  user: {
    firstName: 'Ada',
    age: 36,
    vip: true,
    address: { city: 'London' },
    tags: ['a', 'b'],
    nothing: null,
    since: new Date('2024-01-02T03:04:05Z'),
  },
  event: { item: 'Hat', price: 19.5, lines: [{ sku: 'H1' }] },
};

describe('renderString', () => {
  it.each([
    ['Hi {{user.firstName}}', 'Hi Ada'],
    ['Thanks for {{event.item}}', 'Thanks for Hat'],
    ['{{ user.firstName }} from {{user.address.city}}', 'Ada from London'],
    ['{{user.firstName}}{{user.firstName}}', 'AdaAda'],
    ['Age {{user.age}}, vip {{user.vip}}, price {{event.price}}', 'Age 36, vip true, price 19.5'],
    ['Tags {{user.tags}}', 'Tags ["a","b"]'],
    ['At {{user.address}}', 'At {"city":"London"}'],
    ['Since {{user.since}}', 'Since 2024-01-02T03:04:05.000Z'],
    ['SKU {{event.lines.0.sku}}', 'SKU H1'],
    ['Hi {{user.lastName}}!', 'Hi !'],
    ['Null [{{user.nothing}}]', 'Null []'],
    ['Deep [{{user.address.zip.code}}]', 'Deep []'],
    ['No templates here', 'No templates here'],
    ['Other roots stay: {{account.id}} {{user}}', 'Other roots stay: {{account.id}} {{user}}'],
  ])('%s', (template, expected) => {
    expect(renderString(template, context)).toBe(expected);
  });

  it('renders event templates as empty when there is no event', () => {
    expect(renderString('Thanks for {{event.item}}', { user: {} })).toBe('Thanks for ');
  });

  it('does not re-render values that look like templates', () => {
    expect(renderString('{{user.bio}}', { user: { bio: '{{user.secret}}', secret: 'x' } })).toBe('{{user.secret}}');
  });
});

describe('renderPayload', () => {
  it('renders every string at any depth, keeps other values and keys, and does not touch the input', () => {
    const payload = {
      text: 'Hi {{user.firstName}}',
      count: 3,
      flag: false,
      none: null,
      '{{user.firstName}}': 'key stays',
      nested: { line: '{{event.item}} for {{event.price}}', list: ['{{user.address.city}}', 7, { deep: '{{user.age}}' }] },
    };
    const snapshot = structuredClone(payload);
    expect(renderPayload(payload, context)).toEqual({
      text: 'Hi Ada',
      count: 3,
      flag: false,
      none: null,
      '{{user.firstName}}': 'key stays',
      nested: { line: 'Hat for 19.5', list: ['London', 7, { deep: '36' }] },
    });
    expect(payload).toEqual(snapshot);
  });
});

describe('stringifyForTemplate', () => {
  it('never throws on odd values', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(stringifyForTemplate(cyclic)).toBe('');
    expect(stringifyForTemplate(10n)).toBe('10');
    expect(stringifyForTemplate(new Date('invalid'))).toBe('');
    expect(stringifyForTemplate(Symbol('s'))).toBe('');
    expect(stringifyForTemplate(undefined)).toBe('');
  });
});
