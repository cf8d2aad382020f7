import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon } from '../src/process.js';
import { eventually } from '../src/testing.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a daemon', () => {
  it('logs all a server writes, on stderr after its stdout closed and after it exited, to its log file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daemon-'));
    dirs.push(dir);
    const logFile = join(dir, 'server.log');
    // stdout closes first; stderr is written after it, and by a child that outlives the server itself.
    startDaemon('sh', ['-c', 'echo out; exec 1>&-; sleep 0.2; echo err >&2; (sleep 0.2; echo late >&2) &'], logFile);
    const logged = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    // Polls until the last line came (or the time is up), then says what was logged.
    await eventually(() => logged().endsWith('late\n'), { what: 'the last line logged', timeoutMs: 5_000 }).catch(() => undefined);
    expect(logged()).toBe('out\nerr\nlate\n');
  });
});
