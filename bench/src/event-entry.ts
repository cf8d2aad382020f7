import { runOnSources } from './lib/source-conditions.js';

runOnSources();
await import('./run/event-entry.js');
