import { aptInstall, SYSTEM_DIRS } from './apt.js';
import { which } from './process.js';
import type { ServiceLog } from './service-log.js';

/** A Chromium for browser tests: CHROMIUM_BIN, else Debian's `chromium` on PATH; undefined when there is none. */
export function findChromium(): string | undefined {
  return process.env.CHROMIUM_BIN ?? which('chromium', SYSTEM_DIRS);
}

/** The Chromium browser tests drive (with playwright-core): Debian's package, installed with apt-get when missing. */
export function ensureChromium(log: ServiceLog): string {
  const found = findChromium();
  if (found) return found;
  aptInstall(['chromium'], {
    log,
    missing: 'chromium is not installed',
    otherwise: 'Install Chromium (chromium on PATH, or CHROMIUM_BIN=/path/to/chromium) to run the browser tests.',
  });
  const installed = findChromium();
  if (!installed) throw new Error('apt-get installed chromium but no chromium binary was found on PATH');
  return installed;
}
