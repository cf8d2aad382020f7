// Preloaded (`--import`) into the worker processes of the fault test: a worker whose test process died (killed,
// or vitest aborted before its afterAll) kills itself, so no worker outlives the run that started it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 500).unref();
