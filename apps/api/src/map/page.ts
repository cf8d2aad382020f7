import { END_NODE_ID, type StepCounter } from '@journey/core';
import type { LaidOutMap, PlacedEdge, PlacedNode } from './layout.js';

/** The counters a map shows: per step, and per branch of a step (keyed `<stepId>:<branchId>`). */
export interface MapCounts {
  steps: Record<string, Partial<Record<StepCounter, number>>>;
  branches: Record<string, Partial<Record<StepCounter, number>>>;
}

export interface MapPage {
  journeyId: string;
  name: string;
  status: string;
  /** The version drawn, and every version there is to choose from (the draft as "draft"). */
  version: number | 'draft';
  versions: Array<number | 'draft'>;
  map: LaidOutMap;
  counts: MapCounts;
  /** How often the page reads the counts again, ms. */
  refreshMs: number;
}

const COLORS: Record<PlacedNode['type'], string> = {
  message: '#dbeafe',
  delay: '#fef3c7',
  audience_split: '#ede9fe',
  action_paths: '#fce7f3',
  experiment: '#dcfce7',
  user_update: '#e0f2fe',
  exit: '#fee2e2',
  end: '#e5e7eb',
};

/** What a step's count line says: how many entries reached it, and for a message how its messages went. */
function countLine(node: Pick<PlacedNode, 'type'>, counters: Partial<Record<StepCounter, number>> | undefined): string {
  const n = (counter: StepCounter) => (counters?.[counter] ?? 0).toLocaleString('en-US');
  if (node.type === 'message') return `entered ${n('entered')} · sent ${n('sent')} · failed ${n('failed')}`;
  if (node.type === 'exit') return `entered ${n('entered')} · exited ${n('exited')}`;
  return `entered ${n('entered')}`;
}

/** What an edge's label says: its branch, path or variant, and how many entries took it. */
function edgeLine(edge: Pick<PlacedEdge, 'label'>, counters: Partial<Record<StepCounter, number>> | undefined): string {
  return `${edge.label ?? ''} · ${(counters?.entered ?? 0).toLocaleString('en-US')}`;
}

/**
 * Every line of counts the map shows, by the `data-line` of the text it fills (`step:<id>`, `branch:<step>:<branch>`):
 * the page is drawn with them, and reads them again from the counts endpoint to stay live.
 */
export function mapLines(map: LaidOutMap, counts: MapCounts): Record<string, string> {
  const lines: Record<string, string> = {};
  for (const node of map.nodes) if (node.type !== 'end') lines[`step:${node.id}`] = countLine(node, counts.steps[node.id]);
  for (const edge of map.edges) {
    if (edge.label !== null)
      lines[`branch:${edge.from}:${edge.branchId ?? ''}`] = edgeLine(edge, counts.branches[`${edge.from}:${edge.branchId}`]);
  }
  return lines;
}
function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function nodeSvg(node: PlacedNode, lines: Record<string, string>): string {
  const { x, y, width, height } = node;
  const title = node.id === END_NODE_ID ? 'end' : node.id;
  const subtitle = node.type === 'end' ? 'the entry ends' : [node.type.replace('_', ' '), node.detail].filter(Boolean).join(' · ');
  const count =
    node.type === 'end'
      ? ''
      : `<text class="count" x="${x + 12}" y="${y + 62}" data-line="${escape(`step:${node.id}`)}">${escape(lines[`step:${node.id}`] ?? '')}</text>`;
  return [
    `<g class="step" data-step-node="${escape(node.id)}">`,
    `<rect x="${x}" y="${y}" width="${width}" height="${height}" rx="8" fill="${COLORS[node.type]}" stroke="#475569"/>`,
    `<text class="title" x="${x + 12}" y="${y + 22}">${escape(title)}</text>`,
    `<text class="subtitle" x="${x + 12}" y="${y + 41}">${escape(subtitle)}</text>`,
    count,
    `</g>`,
  ].join('');
}

function edgeSvg(edge: PlacedEdge, lines: Record<string, string>): string {
  if (edge.points.length === 0) return '';
  const path = edge.points.map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x},${point.y}`).join(' ');
  const key = `branch:${edge.from}:${edge.branchId ?? ''}`;
  // The label sits on its edge (ELK routes the edge through the label's box): its box hides the line behind the text.
  const at = edge.labelAt;
  const label =
    edge.label !== null && at
      ? `<rect class="edge-label-box" x="${at.x}" y="${at.y}" width="${at.width}" height="16" rx="3"/>` +
        `<text class="edge-label" x="${at.x + at.width / 2}" y="${at.y + 12}" text-anchor="middle" data-line="${escape(key)}">${escape(lines[key] ?? '')}</text>`
      : '';
  return `<path d="${path}" class="edge" marker-end="url(#arrow)"/>${label}`;
}

/** The map page: the laid-out journey as SVG, its counts drawn in, and a script that reads them again every few seconds. */
export function renderMapPage(page: MapPage): string {
  const { map, journeyId } = page;
  const versionLinks = page.versions
    .map((version) =>
      version === page.version
        ? `<strong>${version === 'draft' ? 'draft' : `v${version}`}</strong>`
        : `<a href="/journeys/${journeyId}?version=${version}">${version === 'draft' ? 'draft' : `v${version}`}</a>`,
    )
    .join(' ');
  const countsUrl = page.version === 'draft' ? null : `/journeys/${journeyId}/counts.json?version=${page.version}`;
  const lines = mapLines(map, page.counts);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(page.name)} · journey map</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f8fafc; color: #0f172a; }
  header { padding: 12px 20px; background: #fff; border-bottom: 1px solid #e2e8f0; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  header p { margin: 0; color: #475569; font-size: 13px; }
  main { padding: 16px; overflow: auto; }
  .title { font-weight: 600; font-size: 14px; }
  .subtitle { font-size: 12px; fill: #475569; }
  .count { font-size: 12px; fill: #0f172a; }
  .edge { fill: none; stroke: #64748b; stroke-width: 1.5; }
  .edge-label { font-size: 11px; fill: #334155; }
  .edge-label-box { fill: #f8fafc; }
</style>
</head>
<body>
<header>
  <h1>${escape(page.name)}</h1>
  <p>${escape(journeyId)} · ${escape(page.status)} · version ${page.version === 'draft' ? 'draft' : page.version} · versions: ${versionLinks} · <span id="updated">${countsUrl ? 'counts as loaded' : 'a draft has no counts'}</span></p>
</header>
<main>
<svg xmlns="http://www.w3.org/2000/svg" width="${map.width}" height="${map.height}" viewBox="0 0 ${map.width} ${map.height}" role="img" aria-label="journey map">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>
${map.edges.map((edge) => edgeSvg(edge, lines)).join('\n')}
${map.nodes.map((node) => nodeSvg(node, lines)).join('\n')}
</svg>
</main>
${countsUrl ? refreshScript(countsUrl, page.refreshMs) : ''}
</body>
</html>`;
}

/** Reads the count lines again every `refreshMs` and writes them into the drawing. */
function refreshScript(countsUrl: string, refreshMs: number): string {
  return `<script type="module">
async function refresh() {
  try {
    const response = await fetch(${JSON.stringify(countsUrl)}, { credentials: 'same-origin' });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    const { lines } = await response.json();
    for (const el of document.querySelectorAll('[data-line]')) if (el.dataset.line in lines) el.textContent = lines[el.dataset.line];
    document.getElementById('updated').textContent = 'counts as of ' + new Date().toLocaleTimeString();
  } catch (error) {
    document.getElementById('updated').textContent = 'counts not updated: ' + error.message;
  }
}
setInterval(refresh, ${refreshMs});
</script>`;
}
