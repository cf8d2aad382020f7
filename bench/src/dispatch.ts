import { runOnSources } from './lib/source-conditions.js';

runOnSources();
await import('./run/dispatch.js');
