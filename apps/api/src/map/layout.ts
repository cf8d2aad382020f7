import type { JourneyMap, MapEdge, MapNode } from '@journey/core';
import elkModule, { type ElkExtendedEdge, type ElkNode } from 'elkjs/lib/elk.bundled.js';

/** A map node placed on the page. */
export interface PlacedNode extends MapNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A map edge routed between its nodes: the polyline to draw and where its label sits. */
export interface PlacedEdge extends MapEdge {
  points: Array<{ x: number; y: number }>;
  labelAt: { x: number; y: number; width: number } | null;
}

export interface LaidOutMap {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 74;
const LABEL_CHAR_WIDTH = 6.5;
const LABEL_HEIGHT = 16;

// The bundle is CommonJS whose export is the class, with a `default` pointing at it as well: typed as the latter.
const elk = new elkModule.default();

/** Places the journey's steps top to bottom in layers (ELK's layered algorithm), with every edge routed orthogonally. */
export async function layOut(map: JourneyMap): Promise<LaidOutMap> {
  const input: ElkNode = {
    id: 'journey',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '40',
      'elk.layered.spacing.nodeNodeBetweenLayers': '70',
      'elk.spacing.edgeLabel': '4',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.padding': '[top=20,left=20,bottom=20,right=20]',
    },
    children: map.nodes.map((node) => ({ id: node.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: map.edges.map((edge, index) => ({
      id: `e${index}`,
      sources: [edge.from],
      targets: [edge.to],
      labels: edge.label === null ? [] : [{ text: edge.label, width: labelWidth(edge.label), height: LABEL_HEIGHT }],
    })),
  };
  const graph = await elk.layout(input);
  const placed = new Map((graph.children ?? []).map((child) => [child.id, child]));
  const routed = new Map<string, ElkExtendedEdge>((graph.edges ?? []).map((edge) => [edge.id, edge]));
  return {
    width: graph.width ?? 0,
    height: graph.height ?? 0,
    nodes: map.nodes.map((node) => {
      const at = placed.get(node.id);
      return { ...node, x: at?.x ?? 0, y: at?.y ?? 0, width: at?.width ?? NODE_WIDTH, height: at?.height ?? NODE_HEIGHT };
    }),
    edges: map.edges.map((edge, index) => {
      const route = routed.get(`e${index}`);
      const section = route?.sections?.[0];
      const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
      const label = route?.labels?.[0];
      const labelAt = label && label.x !== undefined && label.y !== undefined ? { x: label.x, y: label.y, width: label.width ?? 0 } : null;
      return { ...edge, points, labelAt };
    }),
  };
}

/** Room for a label and the branch's count after it (" · 1,234"). */
function labelWidth(label: string): number {
  return (label.length + 9) * LABEL_CHAR_WIDTH;
}
