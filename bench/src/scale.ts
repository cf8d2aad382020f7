import { runOnSources } from './lib/source-conditions.js';

runOnSources();
await import('./run/scale.js');
