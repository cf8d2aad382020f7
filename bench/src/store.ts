import { runOnSources } from './lib/source-conditions.js';

runOnSources();
await import('./run/store.js');
