export { startProcessors, type WorkerDeps, type RunningProcessors } from './processors.js';
export { startDispatch, type RunningDispatch } from './dispatch/start-dispatch.js';
