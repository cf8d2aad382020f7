import { cpus, totalmem } from 'node:os';

/** One line naming the machine, printed with every benchmark's figures. */
export function machineLine(): string {
  const cores = cpus();
  return `${cores.length} cores (${cores[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}`;
}
