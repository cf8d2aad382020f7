import { ELSE_BRANCH_ID, TIMEOUT_BRANCH_ID } from './branch-ids.js';
import type { JourneyDefinition, Step, StepType } from './schema.js';

/** The node every `next: null` leads to: the end of the journey for that entry (no step id can be it). */
export const END_NODE_ID = '(end)';

/** A step as a journey map draws it. */
export interface MapNode {
  id: string;
  type: StepType | 'end';
  /** What the step does, in a few words: the message type, the delay, the window. */
  detail: string | null;
}

/** A way from one step to the next: a branch, path or variant when the step chooses, else plain `next`. */
export interface MapEdge {
  from: string;
  to: string;
  /** The branch, path or variant id (its counters are kept under it); null for a plain `next`. */
  branchId: string | null;
  label: string | null;
}

export interface JourneyMap {
  start: string;
  nodes: MapNode[];
  edges: MapEdge[];
}

/**
 * The journey as a graph to draw: every step a node (plus one end node when some path ends), every branch, path,
 * variant and `next` an edge, labelled so a marketer can tell them apart. Layout and drawing are the viewer's.
 */
export function journeyMap(journey: JourneyDefinition): JourneyMap {
  const nodes: MapNode[] = [];
  const edges: MapEdge[] = [];
  let ends = false;
  const edge = (from: string, to: string | null, branchId: string | null, label: string | null) => {
    if (to === null) ends = true;
    edges.push({ from, to: to ?? END_NODE_ID, branchId, label });
  };
  for (const [id, step] of Object.entries(journey.steps)) {
    nodes.push({ id, type: step.type, detail: detailOf(step) });
    switch (step.type) {
      case 'message':
      case 'delay':
      case 'user_update':
        edge(id, step.next, null, null);
        break;
      case 'audience_split':
        for (const branch of step.branches) edge(id, branch.next, branch.id, branch.id);
        edge(id, step.else, ELSE_BRANCH_ID, ELSE_BRANCH_ID);
        break;
      case 'action_paths':
        for (const path of step.paths) edge(id, path.next, path.id, `${path.id}: ${path.event}`);
        edge(id, step.timeout, TIMEOUT_BRANCH_ID, `${TIMEOUT_BRANCH_ID} (${step.window})`);
        break;
      case 'experiment':
        for (const variant of step.variants) edge(id, variant.next, variant.id, `${variant.id} ${variant.weight}%`);
        break;
      case 'exit':
        break;
    }
  }
  if (ends) nodes.push({ id: END_NODE_ID, type: 'end', detail: null });
  return { start: journey.start, nodes, edges };
}

function detailOf(step: Step): string | null {
  switch (step.type) {
    case 'message':
      return step.messageType;
    case 'delay':
      return step.duration ?? (step.until ? `until ${step.until.time} (${step.until.timezone})` : null);
    case 'action_paths':
      return `waits ${step.window}`;
    case 'user_update': {
      const names = [...Object.keys(step.set), ...step.unset];
      return names.length > 3 ? `${names.slice(0, 3).join(', ')}, ...` : names.join(', ');
    }
    default:
      return null;
  }
}
