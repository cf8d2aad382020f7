import { describe, expect, it } from 'vitest';
import { END_NODE_ID, exampleJourney, JourneyDefinitionSchema, journeyMap } from '../../src/index.js';

describe('journeyMap', () => {
  it('draws every step, every branch, path and variant, and one end for the paths that end', () => {
    const map = journeyMap(JourneyDefinitionSchema.parse(exampleJourney));
    expect(map.start).toBe('welcome');
    expect(map.nodes.map((node) => node.id)).toEqual([...Object.keys(exampleJourney.steps), END_NODE_ID]);
    expect(map.nodes.find((node) => node.id === 'wait')).toEqual({ id: 'wait', type: 'delay', detail: 'PT5S' });
    expect(map.nodes.find((node) => node.id === 'act')?.detail).toBe('waits PT1H');
    expect(map.edges.filter((edge) => edge.from === 'split')).toEqual([
      { from: 'split', to: 'vipMsg', branchId: 'vip', label: 'vip' },
      { from: 'split', to: 'act', branchId: 'else', label: 'else' },
    ]);
    expect(map.edges.filter((edge) => edge.from === 'act')).toEqual([
      { from: 'act', to: 'thanks', branchId: 'bought', label: 'bought: purchased' },
      { from: 'act', to: 'ab', branchId: 'timeout', label: 'timeout (PT1H)' },
    ]);
    expect(map.edges.filter((edge) => edge.from === 'ab').map((edge) => [edge.to, edge.label])).toEqual([
      ['msgA', 'A 45%'],
      ['msgB', 'B 45%'],
      [END_NODE_ID, 'control 10%'],
    ]);
    // An exit step leads nowhere.
    expect(map.edges.filter((edge) => edge.from === 'bye')).toEqual([]);
  });
});
