import { readFileSync } from 'node:fs';

/** Linux's clock ticks per second for /proc times (USER_HZ: 100 on every architecture Node.js runs on here). */
const TICKS_PER_SECOND = 100;

/** CPU seconds a process used so far (user + system, /proc/<pid>/stat); 0 once it is gone or off Linux. */
export function processCpuSeconds(pid: number): number {
  try {
    // The fields after the command name (which may hold spaces, inside parentheses): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The machine's busy and total CPU seconds so far, over every core (/proc/stat); zeros off Linux. */
export function machineCpuSeconds(): { busy: number; total: number } {
  try {
    const [, ...times] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const ticks = times.map(Number);
    const total = ticks.reduce((sum, each) => sum + each, 0);
    // idle and iowait are the 4th and 5th.
    return { busy: (total - ticks[3]! - ticks[4]!) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return { busy: 0, total: 0 };
  }
}
