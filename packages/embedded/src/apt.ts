import type { ServiceLog } from './service-log.js';
import { run, which } from './process.js';

/** Where Debian puts the binaries it installs, searched besides PATH. */
export const SYSTEM_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'];

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Installs Debian packages with apt-get, as root or through `sudo -n`; where that is impossible it fails with a
 * message that ends in `otherwise` (what the user can do instead).
 */
export function aptInstall(packages: string[], options: { log: ServiceLog; missing: string; otherwise: string }): void {
  const aptGet = which('apt-get', SYSTEM_DIRS);
  if (!aptGet) throw new Error(`${options.missing} and this system has no apt-get to install it. ${options.otherwise}`);
  const sudo = isRoot() ? [] : which('sudo', SYSTEM_DIRS) ? ['sudo', '-n'] : undefined;
  if (!sudo)
    throw new Error(
      `${options.missing} and installing it needs root: run \`sudo apt-get install -y ${packages.join(' ')}\`. ${options.otherwise}`,
    );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [cmd, ...pre] = [...sudo, aptGet];
  options.log.info(`${options.missing}: installing Debian package(s) ${packages.join(' ')} with apt-get (once)`);
  run(cmd!, [...pre, 'update'], { env, what: 'apt-get update' });
  run(cmd!, [...pre, 'install', '-y', '--no-install-recommends', ...packages], { env, what: `apt-get install ${packages.join(' ')}` });
}
