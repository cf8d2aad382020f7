// Preloaded (`--import`) into the worker processes of the fault test: a worker whose test process died (killed,
// or vitest aborted before its afterAll) kills itself, so no worker outlives the run that started it.
// A worker started just as its test process died is already adopted by init (pid 1) when this runs: that counts too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent || process.ppid === 1) process.kill(process.pid, 'SIGKILL');
}, 500).unref();
