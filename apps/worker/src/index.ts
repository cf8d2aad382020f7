export { startProcessors, type WorkerDeps, type RunningProcessors } from './processors.js';
